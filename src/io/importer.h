/*
 * importer.h - the column-driven import/export engine every registry (台账)
 * shares: schools now, venues, staff and the rest later.
 *
 * A registry declares its columns (the offices' header wording, other
 * headers accepted on import, the field each maps to) beside the field
 * table it already uses for its JSON API, plus two callbacks: one that turns
 * a validated row into the record it would write (names to ids, scope, upsert
 * lookup; read-only) and one that writes it. The engine does everything else
 * the same way for every registry:
 *
 *   preview  headers, the first rows, the suggested header→field mapping,
 *            unknown columns, missing required columns;
 *   import   header matching (or the caller's mapping), per-cell validation
 *            with the registry's own vfield table, duplicate keys within the
 *            file, row errors carrying the file's line and header text, a dry
 *            run, and an all-or-nothing commit in one transaction with one
 *            audit entry per written row ("import_create"/"import_update");
 *   export   CSV for Excel (formula-safe) or .xlsx with the same headers, so
 *            an export re-imports unchanged.
 *
 * The engine has no SQL; the registry's callbacks do its reads and writes.
 */
#ifndef XIAOAN_IMPORTER_H
#define XIAOAN_IMPORTER_H

#include <jansson.h>
#include <stddef.h>

#include "core/valid.h"

struct req;

/* Rows in a preview; errors listed in one answer. */
#define IO_PREVIEW_ROWS 20
#define IO_MAX_ERRORS 1000

/* One column of the offices' sheet. */
struct io_column {
	const char *header;   /* the header we export and match first: "所属乡镇（街道）" */
	const char *aliases;  /* "|"-separated other headers accepted on import, or NULL */
	const char *field;    /* the field the cell fills (a name in io_registry.fields) */
	/* How the cell text is checked on import when it differs from the API
	 * field, e.g. a township name or code where the API takes only a code;
	 * the row callback then turns it into the API's value. NULL = the
	 * registry's field of the same name. */
	const struct vfield *cell;
	/* The record key exported in this column when it differs from field
	 * (names for ids: "region_name" for "region_code"). NULL = field. */
	const char *out_field;
	char xlsx_type;       /* 'n': numbers stay numbers in Excel; 's' (or 0): text */
};

/* What importing one row does to the registry. */
enum io_action {
	IO_CREATE = 1,
	IO_UPDATE = 2,
	IO_UNCHANGED = 3, /* the key exists and the row changes nothing: not written */
};

/* What row_write reports, for the audit entry the engine appends. */
struct io_written {
	char id[32];          /* the record's id as text */
	json_t *before;       /* record before (NULL on create); the engine decrefs */
	json_t *after;        /* record after; the engine decrefs */
};

struct io_registry {
	const char *entity;             /* "school": audit entity, ASCII file name fallback */
	const char *title;              /* "学校名录": file and sheet names */
	const struct io_column *columns; /* export order; ends with a zeroed entry */
	const struct vfield *fields;    /* the registry's validation table (the API's) */
	const char *key_field;          /* upsert key ("code"); duplicates in a file are row errors */
	/*
	 * Turns a row of checked cell values (field → value, only the columns
	 * the file has; empty cells are JSON null) into the record the import
	 * would write, in place, and says whether that creates or updates.
	 * Read-only. Returns 0; 1 for a row error with e filled (e->field names
	 * the field, so the engine can name the file's column); or a negative
	 * store error. Runs twice on commit: once to validate, once inside the
	 * transaction right before row_write.
	 */
	int (*row_resolve)(struct req *r, void *ctx, json_t *row, enum io_action *action, struct verr *e);
	/*
	 * Writes a resolved row (action IO_CREATE or IO_UPDATE) inside the
	 * engine's transaction and fills w. Returns 0 or a negative store error
	 * (the whole import is then rolled back).
	 */
	int (*row_write)(struct req *r, void *ctx, json_t *row, enum io_action action, struct io_written *w);
};

/*
 * POST .../import/preview: answers 200
 *   {"headers","rows","total_rows","mapping":{header:field|null},"fields":[{field,label,required}],
 *    "unknown":[header],"missing":[header],"duplicates":[header]}
 * or 400 when the file cannot be read. Always replies; returns 0.
 */
int io_preview(struct req *r, const struct io_registry *reg);

/*
 * POST .../import[?dry_run=1][&mapping=<JSON object header→field|null>]:
 * reads the body (CSV or .xlsx), checks every row, and either reports (dry
 * run: 200 {"dry_run":true,"ok",...}) or writes all rows in one transaction
 * (200, or 422 import.invalid_rows with every error and nothing written).
 * File-level problems (unreadable file, no data, a required column missing,
 * two columns for one field, a bad mapping) answer 400. ctx is passed to the
 * registry's callbacks. Always replies; returns 0.
 */
int io_import(struct req *r, const struct io_registry *reg, void *ctx);

/* Rows handed to the exporter by the registry's producer. */
struct io_sink;
/* Adds one record (field or out_field → value; borrowed, not stolen).
 * Returns 0, or -1 when the export is over its row limit. */
int io_sink_add(struct io_sink *s, json_t *rec);
/* Produces every record to export, in order, through io_sink_add. Returns 0
 * or a negative store error. */
typedef int (*io_produce_fn)(struct req *r, void *arg, struct io_sink *s);

/*
 * GET .../export?format=csv|xlsx (default xlsx): answers the file with the
 * registry's headers, Content-Disposition naming "<title>-YYYYMMDD.<ext>"
 * (RFC 5987, with an ASCII fallback "<entity>-YYYYMMDD.<ext>"). A bad format
 * answers 400 before produce runs. Always replies; returns 0.
 */
int io_export(struct req *r, const struct io_registry *reg, const char *format, io_produce_fn produce,
	      void *arg);

/*--- helpers, exported for tests and for registries ---*/

/* Normalises a header for loose matching into out (NUL-terminated, at most
 * outlen-1 bytes): drops spaces (also U+3000), tabs, newlines and the '*' /
 * '＊' that templates put on required columns, folds （）【】 to (), and
 * lower-cases ASCII. */
void io_header_norm(const char *in, char *out, size_t outlen);

/* The column a file header matches: exact header, then an alias, then both
 * loosely (io_header_norm). NULL when none. */
const struct io_column *io_match_header(const struct io_registry *reg, const char *header);

/* Percent-encodes s for a Content-Disposition filename* (RFC 5987
 * attr-char kept). Returns a malloc'd string. */
char *io_rfc5987(const char *s);

/* Formats a number the way the exporter writes it: integers plainly, reals
 * with at most 7 decimals and no trailing zeros. out has at least 40 bytes. */
void io_format_real(double d, char *out, size_t outlen);

#endif
