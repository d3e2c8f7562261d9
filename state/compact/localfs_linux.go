package compact

import "syscall"

// localFilesystems are the filesystems (statfs's magic numbers, Linux's
// linux/magic.h) whose files migration 008 reads through a memory map:
// local disks and memory, where an I/O error is a failing disk.
var localFilesystems = map[uint32]bool{
	0xEF53:     true, // ext2, ext3, ext4
	0x58465342: true, // xfs
	0x9123683E: true, // btrfs
	0xF2F52010: true, // f2fs
	0x2FC12FC1: true, // zfs
	0x01021994: true, // tmpfs
	0x794C7630: true, // overlayfs (containers)
}

// localFS says whether the file at path is on a local filesystem this
// program knows (localFilesystems); false when it cannot tell.
func localFS(path string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return false
	}
	return localFilesystems[uint32(st.Type)] //nolint:gosec // a magic number: its low 32 bits
}
