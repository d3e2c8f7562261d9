//go:build !linux

package compact

import "context"

// fileID is a file's device and inode: not read on this system.
type fileID struct{ dev, ino uint64 }

// idOf is zero: no write-out is started on this system (the install's
// sync writes the new file out).
func idOf(string) fileID { return fileID{} }

// startWriteOut starts nothing on this system.
func startWriteOut(context.Context, DBTX, fileID) bool { return false }
