// Package records reads an export file as records, each with the
// physical line it starts on, before anything is mapped: the file opened
// only when it is a regular file and never through a link (container.go),
// its format (.gz, .zip, .xlsx or CSV) by name and content, its size
// bounded by source.max_bytes; its encoding and delimiter detected or as
// declared, its bytes guarded (guard.go, declared.go, textcheck.go); a
// workbook's sheet read within its bomb limits (xlsx.go, xlsxbomb.go).
// It also says what an error may show of an export's text (excerpt.go).
// It imports nothing of erpsync: the mapping (package mapping) turns its
// records into customers.
package records
