package compact

import (
	"os"
	"syscall"
)

// canWriteBack says whether startWriteOut does anything here.
const canWriteBack = true

// syncFileRangeWrite is Linux's SYNC_FILE_RANGE_WRITE.
const syncFileRangeWrite = 0x2

// startWriteOut starts writing out the file's dirty pages, all of them,
// without waiting for it.
func startWriteOut(f *os.File) error {
	return syscall.SyncFileRange(int(f.Fd()), 0, 0, syncFileRangeWrite)
}
