package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// moveFile renames a local file; when the destination is on another file
// system (EXDEV: archive_dir on another disk, a tmpfs, a mounted volume)
// it moves it by copy instead.
func moveFile(from, to string) error {
	err := os.Rename(from, to)
	if errors.Is(err, syscall.EXDEV) {
		return moveAcross(from, to)
	}
	return err
}

// moveAcross moves a file to another file system: it copies it beside its
// destination under a temporary name, syncs the copy to disk, renames it
// into place, syncs the folder, and only then removes the original. A
// crash at any point leaves the original where it was (and at worst a
// hidden .partial file beside the destination): nothing is lost.
func moveAcross(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".partial-*")
	if err != nil {
		return fmt.Errorf("copy to another file system: %w", err)
	}
	if err := copySynced(tmp, src); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("copy to another file system: %w", err)
	}
	_ = os.Chmod(tmp.Name(), info.Mode().Perm())
	_ = os.Chtimes(tmp.Name(), info.ModTime(), info.ModTime())
	if err := os.Rename(tmp.Name(), to); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := syncDir(filepath.Dir(to)); err != nil {
		return fmt.Errorf("copied to %s, but: %w", to, err)
	}
	if err := os.Remove(from); err != nil {
		return fmt.Errorf("copied to %s, but the original stays: %w", to, err)
	}
	return nil
}

// copySynced copies src into dst, syncs dst to disk and closes it.
func copySynced(dst *os.File, src io.Reader) error {
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("fsync %s: %w", dst.Name(), err)
	}
	return dst.Close()
}

// syncDir makes a folder's new entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
