package compact

// Migration 008's common case in C, on SQLite's side of the call: the
// go-sqlite3 callback of erpsync_vals008 (reflection, argument copies)
// took some 2 µs a record, more than its decoding. erpsync_vals008c(vals)
// encodes the JSON values as fromJSON does, for the one form json.Marshal
// wrote them in: an object of strings, no space, no escape, every name
// known to the connection (erpsync_field008); its values' escapes read
// as encoding/json reads them, but for surrogates (\uD800-\uDFFF), and
// raw bytes beside an escape that are control bytes or not UTF-8. Any
// other input it answers NULL, left to erpsync_vals008 (Go: those
// escapes, new names, errors):
// copyRecords asks it first, then the Go function. Every read is bounded
// by the input's length; FuzzCVals holds its answers to fromJSON's.
//
// The functions are registered on every connection of the process
// (sqlite3_auto_extension, once, at init): each connection keeps its own
// table of names, filled by Go before each batch (loadCNames).

/*
#include <stdint.h>
#include <string.h>

#include "erpsqlite.h"

#define ERP_NULL 5
#define ERP_TEXT 3
#define ERP_DETERMINISTIC 0x000000800
#define ERP_TRANSIENT ((void (*)(void *))-1)
// ERP_CAP bounds the values the C function encodes (bigger ones are
// Go's), and the buffer it keeps between calls.
#define ERP_CAP (16 << 20)

typedef struct { char *name; int len; uint64_t id; } erp_name;

typedef struct {
	erp_name *names;
	int n, cap, next; // next: where the last name found was, plus one
	unsigned char *out;
	int64_t outcap;
} erp_fields;

static void erp_fields_free(void *p) {
	erp_fields *f = p;
	for (int i = 0; i < f->n; i++) sqlite3_free(f->names[i].name);
	sqlite3_free(f->names);
	sqlite3_free(f->out);
	sqlite3_free(f);
}

// erpsync_field008(id, name): the connection's name gets that id (1).
static void erp_field(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	erp_fields *f = sqlite3_user_data(ctx);
	const unsigned char *name = sqlite3_value_text(argv[1]);
	int len = sqlite3_value_bytes(argv[1]);
	uint64_t id = (uint64_t)sqlite3_value_int64(argv[0]);
	if (name == 0) { sqlite3_result_int(ctx, 0); return; }
	for (int i = 0; i < f->n; i++) {
		if (f->names[i].len == len && memcmp(f->names[i].name, name, len) == 0) {
			f->names[i].id = id;
			sqlite3_result_int(ctx, 1);
			return;
		}
	}
	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 32;
		erp_name *grown = sqlite3_realloc64(f->names, (uint64_t)cap * sizeof(erp_name));
		if (grown == 0) { sqlite3_result_error_nomem(ctx); return; }
		f->names = grown;
		f->cap = cap;
	}
	char *copy = sqlite3_malloc64((uint64_t)len + 1);
	if (copy == 0) { sqlite3_result_error_nomem(ctx); return; }
	memcpy(copy, name, len);
	copy[len] = 0;
	f->names[f->n++] = (erp_name){copy, len, id};
	sqlite3_result_int(ctx, 1);
}

// erp_find is the id of the name s[0:len], 0 when unknown; names are
// looked for from after the last one found (json.Marshal sorts them).
static uint64_t erp_find(erp_fields *f, const unsigned char *s, int len) {
	for (int k = 0; k < f->n; k++) {
		int i = (f->next + k) % f->n;
		if (f->names[i].len == len && memcmp(f->names[i].name, s, len) == 0) {
			f->next = i + 1;
			return f->names[i].id;
		}
	}
	return 0;
}

static int erp_uvarint(unsigned char *b, uint64_t x) {
	int n = 0;
	while (x >= 0x80) { b[n++] = (unsigned char)(x | 0x80); x >>= 7; }
	b[n++] = (unsigned char)x;
	return n;
}

// erp_string reads the string at s[*i] (its quote) to its closing quote:
// its start and length; -1 when it is not a string or holds an escape.
static int erp_string(const unsigned char *s, int n, int *i, int *start) {
	if (*i >= n || s[*i] != '"') return -1;
	int j = *i + 1;
	const unsigned char *q = memchr(s + j, '"', n - j);
	if (q == 0 || memchr(s + j, '\\', q - (s + j)) != 0) return -1;
	*start = j;
	*i = (int)(q - s) + 1;
	return (int)(q - s) - j;
}

// erp_lowerhex1 is one more than the value of each lowercase hex digit,
// 0 for any other byte: a table, since a hash's digits and letters come
// in no order and the branches of comparisons were mispredicted about
// once a digit (perf: most of erp_hash's time, some 0.3 s of a 1M
// migration 008).
static const unsigned char erp_lowerhex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int erp_hex(unsigned char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

// erp_utf8 is the length of the valid UTF-8 sequence at s[0:n], 0 when
// it is not one (Go's utf8.DecodeRune would answer RuneError, 1).
static int erp_utf8(const unsigned char *s, int n) {
	unsigned char c = s[0];
	int k;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80) return 1;
	if (c >= 0xC2 && c <= 0xDF) k = 2;
	else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
	else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
	else return 0;
	if (n < k || s[1] < lo || s[1] > hi) return 0;
	for (int j = 2; j < k; j++) if (s[j] < 0x80 || s[j] > 0xBF) return 0;
	return k;
}

// erp_unquote reads the string value at s[*i] (its quote), escapes and
// all, as encoding/json does, into dst (room for its raw length): its
// length, or -1 (declined: not a string, a surrogate escape, a control
// byte or invalid UTF-8 where escapes are, which Go reads or refuses).
static int erp_unquote(const unsigned char *s, int n, int *i, unsigned char *dst, const unsigned char **raw) {
	int start, l = erp_string(s, n, i, &start);
	if (l >= 0) { *raw = s + start; return l; }
	if (*i >= n || s[*i] != '"') return -1;
	int j = *i + 1, o = 0;
	while (j < n && s[j] != '"') {
		unsigned char c = s[j];
		if (c == '\\') {
			if (j + 1 >= n) return -1;
			unsigned char e = s[j + 1];
			j += 2;
			switch (e) {
			case '"': case '\\': case '/': dst[o++] = e; break;
			case 'b': dst[o++] = '\b'; break;
			case 'f': dst[o++] = '\f'; break;
			case 'n': dst[o++] = '\n'; break;
			case 'r': dst[o++] = '\r'; break;
			case 't': dst[o++] = '\t'; break;
			case 'u': {
				if (j + 4 > n) return -1;
				int r = 0;
				for (int k = 0; k < 4; k++) {
					int h = erp_hex(s[j + k]);
					if (h < 0) return -1;
					r = r * 16 + h;
				}
				j += 4;
				if (r >= 0xD800 && r <= 0xDFFF) return -1;
				if (r < 0x80) dst[o++] = (unsigned char)r;
				else if (r < 0x800) { dst[o++] = 0xC0 | (r >> 6); dst[o++] = 0x80 | (r & 0x3F); }
				else { dst[o++] = 0xE0 | (r >> 12); dst[o++] = 0x80 | ((r >> 6) & 0x3F); dst[o++] = 0x80 | (r & 0x3F); }
				break;
			}
			default: return -1;
			}
			continue;
		}
		if (c < 0x20) return -1;
		int k = erp_utf8(s + j, n - j);
		if (k == 0) return -1;
		memcpy(dst + o, s + j, k);
		o += k;
		j += k;
	}
	if (j >= n) return -1;
	*i = j + 1;
	*raw = dst;
	return o;
}

// erp_encode writes the encoding of the object s[0:n] into f->out: its
// length, or -1 (declined: Go's to encode, also a value over ERP_CAP or
// one the heap has no room for: an error here would fail every retry).
static int64_t erp_encode(erp_fields *f, const unsigned char *s, int n) {
	if (n < 2 || n > ERP_CAP || s[0] != '{' || s[n - 1] != '}') return -1;
	// Each entry takes at most 20 bytes of varints and its value's bytes
	// (no more than its JSON's), and at least 6 bytes of JSON ("":""):
	// n*4 bounds the whole; an escaped value is read into the room after.
	int64_t need = (int64_t)n * 5 + 32;
	if (f->outcap < need) {
		unsigned char *grown = sqlite3_realloc64(f->out, (uint64_t)need);
		if (grown == 0) return -1;
		f->out = grown;
		f->outcap = need;
	}
	unsigned char *tmp = f->out + (int64_t)n * 4 + 32;
	int i = 1, end = n - 1;
	int64_t o = 0;
	if (i == end) return 0;
	for (;;) {
		int ks;
		const unsigned char *v;
		int kl = erp_string(s, end, &i, &ks);
		if (kl < 0 || i >= end || s[i] != ':') return -1;
		i++;
		int vl = erp_unquote(s, end, &i, tmp, &v);
		if (vl < 0) return -1;
		uint64_t id = erp_find(f, s + ks, kl);
		if (id == 0) return -1;
		o += erp_uvarint(f->out + o, id);
		o += erp_uvarint(f->out + o, (uint64_t)vl);
		memcpy(f->out + o, v, vl);
		o += vl;
		if (i == end) return o;
		if (s[i] != ',') return -1;
		i++;
	}
}

// erpsync_vals008c(vals): vals encoded, or NULL (declined).
static void erp_vals(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	erp_fields *f = sqlite3_user_data(ctx);
	int t = sqlite3_value_type(argv[0]);
	if (t == ERP_NULL || f->n == 0) { sqlite3_result_null(ctx); return; }
	const unsigned char *s = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	if (s == 0) { sqlite3_result_null(ctx); return; }
	int64_t o = erp_encode(f, s, n);
	if (o < 0) sqlite3_result_null(ctx);
	else sqlite3_result_blob(ctx, o ? f->out : (const void *)"", (int)o, ERP_TRANSIENT);
	if (f->outcap > ERP_CAP) { // kept no longer than a value's copy
		sqlite3_free(f->out);
		f->out = 0;
		f->outcap = 0;
	}
}

// erpsync_hash008c(hash): a hash of 64 lowercase hex digits as its 32
// bytes; any other value as it is (Hash's stored form).
static void erp_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	if (sqlite3_value_type(argv[0]) == ERP_TEXT && sqlite3_value_bytes(argv[0]) == 64) {
		const unsigned char *h = sqlite3_value_text(argv[0]);
		unsigned char b[32];
		int bad = h == 0;
		for (int k = 0; !bad && k < 32; k++) { // no branch a digit: erp_lowerhex1
			int hi = erp_lowerhex1[h[2 * k]], lo = erp_lowerhex1[h[2 * k + 1]];
			bad = (hi == 0) | (lo == 0);
			b[k] = (unsigned char)((hi - 1) << 4 | (lo - 1));
		}
		if (!bad) { sqlite3_result_blob(ctx, b, 32, ERP_TRANSIENT); return; }
	}
	sqlite3_result_value(ctx, argv[0]);
}

static int erp_register_all(sqlite3 *db) {
	erp_fields *f = sqlite3_malloc64(sizeof(erp_fields));
	if (f == 0) return 7; // SQLITE_NOMEM
	memset(f, 0, sizeof(*f));
	// f is erpsync_vals008c's from here: SQLite frees it (its xDestroy)
	// when the connection closes, and when the registration fails ("The
	// destructor is also invoked if the call to
	// sqlite3_create_function_v2() fails"): never freed here.
	int rc = sqlite3_create_function_v2(db, "erpsync_vals008c", 1, ERP_UTF8 | ERP_DIRECTONLY, f, erp_vals, 0, 0, erp_fields_free);
	if (rc != 0) return rc;
	rc = sqlite3_create_function_v2(db, "erpsync_field008", 2, ERP_UTF8 | ERP_DIRECTONLY, f, erp_field, 0, 0, 0);
	if (rc != 0) return rc;
	return sqlite3_create_function_v2(db, "erpsync_hash008c", 1, ERP_UTF8 | ERP_DETERMINISTIC, 0, erp_hash, 0, 0, 0);
}

// erp_register registers the copy's functions on a new connection. Its
// failure (out of memory) is not the connection's: an automatic
// extension's error would fail every open of the process, the
// checkpoint's too; a connection without them fails migration 008's
// copy alone ("no such function").
static int erp_register(sqlite3 *db, const char **err, const sqlite3_api_routines *api) {
	erp_register_all(db);
	return 0;
}

static int erp_install(void) {
	return sqlite3_auto_extension((void (*)(void))erp_register);
}
*/
import "C"

import (
	"context"
	"fmt"
)

// errCFuncs is the registration's failure, told by each copy.
var errCFuncs error

func init() {
	if rc := C.erp_install(); rc != 0 {
		errCFuncs = fmt.Errorf("register migration 008's C functions: SQLite error %d", int(rc))
	}
}

// loadCNames gives the C function of q's connection the field ids that
// ids holds.
func loadCNames(ctx context.Context, q DBTX, ids map[string]uint64) error {
	if errCFuncs != nil {
		return errCFuncs
	}
	for name, id := range ids {
		if _, err := q.ExecContext(ctx, `SELECT erpsync_field008(?, ?)`, int64(id), name); err != nil {
			return fmt.Errorf("give the copy's field ids to SQLite: %w", err)
		}
	}
	return nil
}
