package source

// SetListBounds lowers the bounds of an S3 listing for a test; the
// returned function restores them.
func SetListBounds(pages, keys int) (restore func()) {
	oldPages, oldKeys := maxListPages, maxListKeys
	maxListPages, maxListKeys = pages, keys
	return func() { maxListPages, maxListKeys = oldPages, oldKeys }
}
