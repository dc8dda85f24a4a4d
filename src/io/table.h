/*
 * table.h - shared table I/O: read registries (台账) from CSV or Excel
 * (.xlsx) into rows of UTF-8 cells, and write them back out as CSV for
 * Excel or as .xlsx.
 *
 * This module knows nothing about what the columns mean; each registry
 * (schools, venues, ...) maps the header row to its own fields. Every limit
 * below is enforced while reading, so a hostile upload gets a clear Chinese
 * error message instead of a crash or a huge allocation.
 */
#ifndef XIAOAN_TABLE_H
#define XIAOAN_TABLE_H

#include <stddef.h>

struct buf;

/* Data rows per file (the header row comes on top of these). */
#define TABLE_MAX_ROWS 100000
#define TABLE_MAX_COLS 256
/* Bytes per cell, UTF-8, without the terminating NUL: Excel's own limit
 * (32 767 characters), enough for a campus boundary of 1 000 vertices as WKT. */
#define TABLE_MAX_CELL 32767
/*
 * Cells per file, counting the empty cells that pad ragged rows. An xlsx
 * cell reference like r="IV7" creates 256 cells out of a dozen bytes, so
 * without this a small upload could make us allocate ~200 MB of pointers.
 */
#define TABLE_MAX_CELLS 5000000
/* xlsx: bytes inflated from the zip, all entries together. */
#define TABLE_XLSX_MAX_UNZIPPED (64u * 1024 * 1024)
/* xlsx: largest inflated/compressed ratio accepted for a big entry. */
#define TABLE_XLSX_MAX_RATIO 500
#define TABLE_XLSX_MAX_ENTRIES 10000

/*
 * line: 1-based row number in the source (CSV: physical line where the
 * record starts; xlsx: the sheet's row number r=).
 */
struct table_row {
	size_t line;
	size_t ncells;
	char **cells;
};

/*
 * rows[0] is the header row as in the file; all cells are UTF-8,
 * NUL-terminated, never NULL (empty string for empty cells).
 *
 * Cells are read-only: they point into storage owned by the table and may be
 * shared (all empty cells, or xlsx cells using the same shared string). Free
 * the whole table with table_free(), never a single cell. The members ending
 * in an underscore are that storage; do not touch them.
 */
struct table {
	size_t nrows;
	struct table_row *rows;
	char *text_;
	char **cellv_;
};

/* message in Simplified Chinese, e.g. "第 12 行：单元格超过 4096 字节"; line 0 when not row-specific */
struct table_error {
	size_t line;
	char message[256];
};

enum table_kind { TABLE_CSV = 1, TABLE_XLSX = 2 };

/* "PK\3\4" (a zip, so an .xlsx) => TABLE_XLSX, anything else => TABLE_CSV. */
enum table_kind table_sniff(const void *data, size_t len);

/*
 * Parses a whole CSV or .xlsx file held in memory.
 *
 * CSV: RFC 4180 with comma (or tab, when the first line has tabs and no
 * commas), CRLF, LF or CR line ends, UTF-8 with or without BOM, else
 * GB18030. Lines that are blank, and rows whose cells are all empty (Excel
 * writes ",,," for an empty row), are skipped but still counted in line
 * numbers. Trailing empty cells are kept as in the file.
 *
 * xlsx: the first sheet of the workbook. Trailing empty cells are trimmed and
 * empty rows skipped; numbers come back as text ("12", "0.5"; dates stay
 * serial numbers), booleans as "1"/"0", error cells as "".
 *
 * Allocates *out (free with table_free). Returns 0, or -1 with *out set to
 * NULL and err (if not NULL) filled in.
 */
int table_read(const void *data, size_t len, enum table_kind kind, struct table **out,
	       struct table_error *err);

/* Frees a table from table_read. NULL is fine. */
void table_free(struct table *t);

/* The cell at (row, col), or "" when the row is shorter or out of range. */
const char *table_cell(const struct table *t, size_t row, size_t col);

/*
 * 1 when s[0..n) is well-formed UTF-8 (strict: no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF, no truncated sequence), else 0. NUL
 * bytes are valid UTF-8 here; callers that refuse them check separately.
 */
int utf8_valid(const char *s, size_t n);

/*
 * 1 when s is a plain decimal number and nothing else ("12", "-12.5",
 * ".5", "1.2E3"; no spaces, hex, inf or nan) that is finite as a double,
 * storing it in *val when val is not NULL; else 0.
 */
int table_parse_number(const char *s, double *val);

/*--- Writers (table_write.c) ---*/

/*
 * CSV for Excel: csv_begin() puts the UTF-8 BOM, then each csv_write_row()
 * appends one CRLF-terminated row with RFC 4180 quoting (cells with comma,
 * quote, tab, CR or LF are quoted). A cell beginning with = + - @ TAB or CR is
 * prefixed with a single quote so Excel does not run it as a formula, except
 * when the whole cell is a number such as "-12.5". NULL cells are empty.
 * Appends to out (which grows as needed); cannot fail.
 */
void csv_begin(struct buf *out);
void csv_write_row(struct buf *out, const char *const *cells, size_t n);

/*
 * Writes one sheet named sheet_name (unusable characters replaced, cut to 31
 * characters; NULL gives "Sheet1") with a bold, frozen, filterable header row
 * and column widths fitted to the content (CJK characters count double).
 * types[i] per column: 'n' writes cells that parse as a finite number as
 * numbers and others as text; 's', 'd' and anything else write text (never a
 * formula, so "=1+1" stays text). types may be NULL (all text). cells holds
 * nrows*ncols strings row-major; NULL cells stay blank.
 *
 * Works through a temporary file made with mkstemp in tmpdir (else $TMPDIR,
 * else /tmp), which is always removed. Allocates *out (malloc, *outlen bytes).
 * Returns 0, or -1 (bad arguments, a cell that is not valid UTF-8 or longer
 * than Excel allows, I/O or libxlsxwriter failure) with *out NULL.
 */
int xlsx_write(const char *sheet_name, const char *const *header, const char *types, size_t ncols,
	       const char *const *cells, size_t nrows, const char *tmpdir, char **out,
	       size_t *outlen);

#endif
