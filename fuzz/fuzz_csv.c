/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader and writer.
 *
 * Any input must either fail with a message or give a table that keeps the
 * documented invariants; and whatever parses must come back unchanged after
 * csv_write_row and a second table_read (up to the quote the writer puts in
 * front of formula-like cells). Any difference aborts.
 */
#include "core/buf.h"
#include "io/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_table(const struct table *t)
{
	if (t->nrows == 0 || t->nrows > TABLE_MAX_ROWS + 1)
		abort();
	for (size_t r = 0; r < t->nrows; r++) {
		const struct table_row *row = &t->rows[r];
		int any = 0;
		if (row->ncells == 0 || row->ncells > TABLE_MAX_COLS)
			abort();
		if (r && row->line <= t->rows[r - 1].line)
			abort();
		for (size_t c = 0; c < row->ncells; c++) {
			const char *s = row->cells[c];
			size_t n = strlen(s);
			if (n > TABLE_MAX_CELL || !utf8_valid(s, n))
				abort();
			any |= n > 0;
		}
		if (!any) /* all-empty rows are skipped */
			abort();
	}
}

/* back is orig, or orig behind the writer's formula guard. */
static int same_cell(const char *orig, const char *back)
{
	if (strcmp(orig, back) == 0)
		return 1;
	return orig[0] && strchr("=+-@\t\r'", orig[0]) && back[0] == '\'' && strcmp(orig, back + 1) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table *t = NULL, *u = NULL;
	struct table_error err;
	struct buf out = BUF_INIT;

	if (table_read(data, size, TABLE_CSV, &t, &err) != 0) {
		if (t || !err.message[0] || !utf8_valid(err.message, strlen(err.message)))
			abort();
		return 0;
	}
	check_table(t);

	/* A guarded cell grows by one byte; at the size limit that is a legitimate re-read error. */
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->rows[r].ncells; c++)
			if (strlen(t->rows[r].cells[c]) >= TABLE_MAX_CELL)
				goto out;

	csv_begin(&out);
	for (size_t r = 0; r < t->nrows; r++)
		csv_write_row(&out, (const char *const *)t->rows[r].cells, t->rows[r].ncells);
	if (table_read(out.data, out.len, TABLE_CSV, &u, &err) != 0)
		abort();
	check_table(u);
	if (u->nrows != t->nrows)
		abort();
	for (size_t r = 0; r < t->nrows; r++) {
		if (u->rows[r].ncells != t->rows[r].ncells)
			abort();
		for (size_t c = 0; c < t->rows[r].ncells; c++)
			if (!same_cell(t->rows[r].cells[c], u->rows[r].cells[c]))
				abort();
	}
out:
	table_free(t);
	table_free(u);
	buf_free(&out);
	return 0;
}
