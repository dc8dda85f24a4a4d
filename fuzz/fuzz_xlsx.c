/*
 * fuzz_xlsx.c - libFuzzer harness for the xlsx reader.
 *
 * Inputs starting with "PK" go to table_read as they are. Mutating a zip
 * mostly breaks its CRCs, so other inputs are taken as the XML parts of a
 * workbook, separated by NUL bytes (never valid in XML): sheet1.xml, then
 * sharedStrings.xml, workbook.xml and workbook.xml.rels. They are zipped
 * (stored) with libzip and read through the same public API, which lets the
 * fuzzer reach the XML handlers directly.
 *
 * Either way the read must fail with a message or give a table that keeps
 * the documented invariants; anything else aborts.
 */
#include "io/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static void check_table(const struct table *t)
{
	if (t->nrows == 0 || t->nrows > TABLE_MAX_ROWS + 1)
		abort();
	for (size_t r = 0; r < t->nrows; r++) {
		const struct table_row *row = &t->rows[r];
		if (row->ncells == 0 || row->ncells > TABLE_MAX_COLS)
			abort();
		for (size_t c = 0; c < row->ncells; c++) {
			const char *s = row->cells[c];
			size_t n = strlen(s);
			if (n > TABLE_MAX_CELL || !utf8_valid(s, n))
				abort();
		}
		if (!row->cells[row->ncells - 1][0]) /* trailing empty cells are trimmed */
			abort();
	}
}

static void read_one(const void *data, size_t size)
{
	struct table *t = NULL;
	struct table_error err;
	if (table_read(data, size, TABLE_XLSX, &t, &err) != 0) {
		if (t || !err.message[0] || !utf8_valid(err.message, strlen(err.message)))
			abort();
		return;
	}
	check_table(t);
	table_free(t);
}

/* Zips the NUL-separated parts of data in memory. Returns malloc'd bytes or NULL. */
static void *zip_parts(const uint8_t *data, size_t size, size_t *outlen)
{
	static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
					    "xl/workbook.xml", "xl/_rels/workbook.xml.rels"};
	void *out = NULL;
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (!src)
		abort();
	zip_source_keep(src);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	if (!za)
		abort();
	const uint8_t *p = data, *end = data + size;
	for (size_t i = 0; i < 4 && p <= end; i++) {
		const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
		zip_source_t *fs = zip_source_buffer(za, p, n, 0);
		zip_int64_t idx = fs ? zip_file_add(za, names[i], fs, ZIP_FL_OVERWRITE) : -1;
		if (idx < 0)
			abort();
		zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
		if (!nul)
			break;
		p = nul + 1;
	}
	if (zip_close(za) < 0)
		abort();
	zip_stat_t st;
	zip_stat_init(&st);
	if (zip_source_stat(src, &st) == 0 && zip_source_open(src) == 0) {
		out = malloc(st.size ? st.size : 1);
		if (zip_source_read(src, out, st.size) != (zip_int64_t)st.size) {
			free(out);
			out = NULL;
		}
		zip_source_close(src);
	}
	*outlen = out ? st.size : 0;
	zip_source_free(src);
	zip_error_fini(&ze);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
		read_one(data, size);
		return 0;
	}
	size_t len;
	void *z = zip_parts(data, size, &len);
	if (!z)
		abort();
	read_one(z, len);
	free(z);
	return 0;
}
