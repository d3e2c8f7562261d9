package compact

// The new file is not synced while it is copied (Migration.Boot): the
// install syncs it once, before it is renamed over the checkpoint, and
// that sync wrote its ~400 MB out in ~0.7 s, after the copy, with
// nothing else to do. After each batch the migration asks the kernel to
// start writing out what the new file holds so far (sync_file_range's
// SYNC_FILE_RANGE_WRITE: it starts the write-out, waits for none of it
// and promises nothing), so that the install's sync finds little left.
// What is on disk when is as before: only the install's sync says the
// file is whole on disk.
//
// The descriptor is SQLite's own, the one its connection writes
// through: erpsync_writeout008, registered on every connection as the
// copy's functions are (cvals.go), asks SQLite for the file of the
// connection's main database (SQLITE_FCNTL_FILE_POINTER). A descriptor
// of our own would have to be closed, and closing any descriptor of a
// file drops all of the process's POSIX locks on it, SQLite's too: a
// second erpsync could then write the file this one still writes. The
// descriptor is read from SQLite's unix file object, whose layout is
// SQLite's own, not its API: it is used only when the connection's VFS
// is a unix one, the file object names that VFS where the unix layout
// has it, and the descriptor is of the very file the migration
// created (device and inode, compared by fstat). Else nothing is
// started: the install's sync does it all, as before.

/*
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 // st_ino whole on 32-bit systems too
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "erpsqlite.h"

#define ERP_FCNTL_FILE_POINTER 7
#define ERP_FCNTL_VFS_POINTER 27

// The head of sqlite3_vfs (SQLite's API).
typedef struct { int iVersion, szOsFile, mxPathname; void *pNext; const char *zName; } erp_vfs;

// The head of SQLite's unixFile (os_unix.c): its methods, its VFS, its
// inode's lock information, its descriptor.
typedef struct { const void *pMethods; const erp_vfs *pVfs; void *pInode; int h; } erp_unix_file;

// erp_unix_vfs: the VFS is one of os_unix.c's own, whose files are
// unixFiles (a VFS of another's whose name starts "unix" is not).
static int erp_unix_vfs(const char *name) {
	static const char *const names[] = {"unix", "unix-excl", "unix-dotfile", "unix-none"}; // a Linux build's
	for (size_t i = 0; name != 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

// erpsync_writeout008(dev, ino): 1 when the write-out of the
// connection's main database file was started, that file being the one
// of that device and inode; else 0.
static void erp_writeout(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	erp_vfs *vfs = 0;
	erp_unix_file *f = 0;
	struct stat st;
	int ok = sqlite3_file_control(db, "main", ERP_FCNTL_VFS_POINTER, &vfs) == 0 &&
		sqlite3_file_control(db, "main", ERP_FCNTL_FILE_POINTER, &f) == 0 &&
		vfs != 0 && f != 0 && f->pMethods != 0 && erp_unix_vfs(vfs->zName) &&
		vfs->szOsFile >= (int)sizeof(erp_unix_file) && f->pVfs == vfs && f->h >= 0 &&
		fstat(f->h, &st) == 0 &&
		(uint64_t)st.st_dev == (uint64_t)sqlite3_value_int64(argv[0]) &&
		(uint64_t)st.st_ino == (uint64_t)sqlite3_value_int64(argv[1]) &&
		sync_file_range(f->h, 0, 0, SYNC_FILE_RANGE_WRITE) == 0;
	sqlite3_result_int(ctx, ok);
}

// erp_register_writeout registers erpsync_writeout008 on a new
// connection. Its failure is not the connection's (an automatic
// extension's error fails the open): without it, startWriteOut starts
// nothing, and the install's sync writes the file out.
static int erp_register_writeout(sqlite3 *db, const char **err, const sqlite3_api_routines *api) {
	sqlite3_create_function_v2(db, "erpsync_writeout008", 2, ERP_UTF8 | ERP_DIRECTONLY, 0, erp_writeout, 0, 0, 0);
	return 0;
}

static int erp_install_writeout(void) {
	return sqlite3_auto_extension((void (*)(void))erp_register_writeout);
}
*/
import "C"

import (
	"context"
	"os"
	"syscall"
)

// canWriteOut is false when erpsync_writeout008 could not be registered:
// nothing is started, the install's sync writes it all.
var canWriteOut = C.erp_install_writeout() == 0

// fileID is a file's device and inode; zero when unknown.
type fileID struct{ dev, ino uint64 }

// idOf is the device and inode of the file at path on a local
// filesystem (localFS; elsewhere no write-out is asked for); zero when
// they are unknown.
func idOf(path string) fileID {
	if !canWriteOut || !localFS(path) {
		return fileID{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino} //nolint:unconvert // Dev's type differs between architectures
}

// startWriteOut asks the kernel to start writing out the main database
// of q's connection, when it is the file id names: started says it was
// asked. A hint: its failure is no error of the migration.
func startWriteOut(ctx context.Context, q DBTX, id fileID) (started bool) {
	if id == (fileID{}) {
		return false
	}
	var ok int
	err := q.QueryRowContext(ctx, `SELECT erpsync_writeout008(?, ?)`, int64(id.dev), int64(id.ino)).Scan(&ok) //nolint:gosec // the bits, compared as the C function reads them
	return err == nil && ok == 1
}
