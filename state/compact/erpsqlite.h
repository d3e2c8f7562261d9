// SQLite's C API as migration 008's C functions use it (cvals.go,
// writeout_linux.go): declared here, not included from SQLite's header,
// which go-sqlite3 keeps in its own module. The symbols are those of the
// SQLite that go-sqlite3 links into the program.
#ifndef ERPSQLITE_H
#define ERPSQLITE_H

#include <stdint.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
typedef struct sqlite3_api_routines sqlite3_api_routines;

extern int sqlite3_auto_extension(void (*)(void));
extern int sqlite3_create_function_v2(sqlite3 *, const char *, int, int, void *,
	void (*)(sqlite3_context *, int, sqlite3_value **),
	void (*)(sqlite3_context *, int, sqlite3_value **),
	void (*)(sqlite3_context *), void (*)(void *));
extern void *sqlite3_user_data(sqlite3_context *);
extern sqlite3 *sqlite3_context_db_handle(sqlite3_context *);
extern int sqlite3_file_control(sqlite3 *, const char *, int, void *);
extern const void *sqlite3_value_blob(sqlite3_value *);
extern const unsigned char *sqlite3_value_text(sqlite3_value *);
extern int sqlite3_value_bytes(sqlite3_value *);
extern int sqlite3_value_type(sqlite3_value *);
extern int64_t sqlite3_value_int64(sqlite3_value *);
extern void sqlite3_result_blob(sqlite3_context *, const void *, int, void (*)(void *));
extern void sqlite3_result_null(sqlite3_context *);
extern void sqlite3_result_value(sqlite3_context *, sqlite3_value *);
extern void sqlite3_result_int(sqlite3_context *, int);
extern void sqlite3_result_error_nomem(sqlite3_context *);
extern void *sqlite3_malloc64(uint64_t);
extern void *sqlite3_realloc64(void *, uint64_t);
extern void sqlite3_free(void *);

#define ERP_UTF8 1
// ERP_DIRECTONLY (SQLITE_DIRECTONLY): callable from top-level SQL only,
// not from a view, trigger or schema's expression (the checkpoint's are
// untrusted, and copied into the new file), for the functions that keep
// the connection's state or touch its file; ours call them from
// top-level SQL only.
#define ERP_DIRECTONLY 0x000080000

#endif
