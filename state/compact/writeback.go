package compact

import (
	"os"
	"time"
)

// The new file is never synced while copied (Migration.Boot): the
// install syncs it once, before its rename, and that sync wrote its
// 380 MB out in ~1 s, after the copy, with nothing else to do. A
// writeBack asks the kernel, every writeBackEvery while the copy runs,
// to start writing out the pages written so far (on Linux,
// sync_file_range's SYNC_FILE_RANGE_WRITE: it starts the write-out and
// waits for nothing, promises nothing), so that the install's sync finds
// little left. What is on disk when is the same as before: only the
// install's sync says the file is whole on disk.

// writeBackEvery is how often the pages written are sent to the disk.
const writeBackEvery = 250 * time.Millisecond

// writeBack starts the write-out of a file's pages while it is written.
type writeBack struct {
	f    *os.File
	stop chan struct{}
	done chan struct{}
}

// startWriteBack starts the write-out of the file at path, every
// writeBackEvery until end; nil (nothing started) when it cannot be
// opened or the system has no such call. Its descriptor is closed by
// end: closing a descriptor of a file drops the process's POSIX locks
// on it, so end is called when no connection of the migration holds a
// lock on the file (between two transactions).
func startWriteBack(path string) *writeBack {
	if !canWriteBack {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	w := &writeBack{f: f, stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// loop starts the write-out every writeBackEvery until stopped.
func (w *writeBack) loop() {
	defer close(w.done)
	t := time.NewTicker(writeBackEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			startWriteOut(w.f) //nolint:errcheck // a hint: the install's sync says
		}
	}
}

// end starts the write-out of what is left, stops the loop and closes
// the file; nothing on nil.
func (w *writeBack) end() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
	startWriteOut(w.f) //nolint:errcheck // a hint: the install's sync says
	_ = w.f.Close()
}
