package records

// The hooks of the workbook's tests (xlsxbomb_test.go), which read
// through the mapping.

// XLSXRunLimit and XLSXTempPrefix are xlsxbomb.go's.
const (
	XLSXRunLimit   = xlsxRunLimit
	XLSXTempPrefix = xlsxTempPrefix
)

// SetWorkbookLimits lowers the limits of a workbook's parts; it returns
// the undo.
func SetWorkbookLimits(xml int64, mem uint64) (undo func()) {
	oldXML, oldMem := xlsxXMLLimit, xlsxMemLimit
	xlsxXMLLimit, xlsxMemLimit = xml, mem
	return func() { xlsxXMLLimit, xlsxMemLimit = oldXML, oldMem }
}

// SetExtracting sets the function called as a workbook's extraction
// begins; it returns the undo.
func SetExtracting(f func()) (undo func()) {
	extracting = f
	return func() { extracting = nil }
}

// OpenWorkbook opens a workbook as Open does an .xlsx.
var OpenWorkbook = openWorkbook

// Converted is how many cells a workbook's reader has read as the
// mapping reads them.
func Converted(r *Reader) int { return r.workbook.converted }
