/*
 * table_write.c - exporting tables for Excel: CSV (UTF-8 with BOM, so Excel
 * in a Chinese locale does not read it as GBK) and .xlsx via libxlsxwriter.
 *
 * Both writers are the escaper for their output context: CSV cells that
 * Excel would run as a formula get a leading quote, and xlsx cells are only
 * ever written as strings or numbers, never formulas.
 */
#include "io/table.h"

#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

/* Excel's limit for one cell; libxlsxwriter refuses longer strings (in bytes). */
#define XLSX_STR_MAX 32767

/*--- CSV ---*/

void csv_begin(struct buf *out)
{
	buf_append(out, "\xEF\xBB\xBF", 3);
}

/* Would Excel take this cell as a formula (or DDE) when opening the CSV?
 * A cell that already begins with ' is guarded too, so that the importer,
 * which drops one leading ' before these characters, gives it back as it
 * was. */
static int csv_formula_risk(const char *s)
{
	if (s[0] == '\'')
		return 1;
	if (!s[0] || !strchr("=+-@\t\r", s[0]))
		return 0;
	return !table_parse_number(s, NULL); /* "-12.5" is just a number */
}

void csv_write_row(struct buf *out, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = cells[i] ? cells[i] : "";
		if (i)
			buf_putc(out, ',');
		/* Tab is quoted too: the reader takes a header with tabs and no commas as tab-separated. */
		int quote = strpbrk(s, ",\"\r\n\t") != NULL;
		if (quote)
			buf_putc(out, '"');
		if (csv_formula_risk(s))
			buf_putc(out, '\'');
		for (const char *q; quote && (q = strchr(s, '"')); s = q + 1) {
			buf_append(out, s, (size_t)(q - s) + 1);
			buf_putc(out, '"');
		}
		buf_puts(out, s);
		if (quote)
			buf_putc(out, '"');
	}
	buf_append(out, "\r\n", 2);
}

/*--- xlsx ---*/

/* Next code point of valid UTF-8 at *s, advancing *s. */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (len == 2)
		c &= 0x1F;
	else if (len == 3)
		c &= 0x0F;
	else if (len == 4)
		c &= 0x07;
	for (size_t i = 1; i < len; i++)
		c = c << 6 | (p[i] & 0x3F);
	*s += len;
	return c;
}

/* Columns a code point takes in Excel's default font: CJK and full-width forms take two. */
static unsigned char_width(uint32_t c)
{
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
	    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

/* Width of the widest line of s, in character columns. */
static size_t text_width(const char *s)
{
	size_t best = 0, cur = 0;
	while (*s) {
		uint32_t c = utf8_next(&s);
		if (c == '\n') {
			cur = 0;
			continue;
		}
		cur += char_width(c);
		if (cur > best)
			best = cur;
	}
	return best;
}

/* A usable sheet name: forbidden characters replaced, at most 31 UTF-16 units. */
static void sheet_name_clean(const char *name, struct buf *out)
{
	size_t units = 0;
	buf_reset(out);
	for (const char *s = name ? name : ""; *s;) {
		const char *start = s;
		uint32_t c = utf8_next(&s);
		size_t u = c > 0xFFFF ? 2 : 1;
		if (units + u > LXW_SHEETNAME_MAX)
			break;
		units += u;
		if (c < 0x20 || (c < 0x80 && strchr("[]:*?/\\", (int)c)) || (c == '\'' && (start == name || !*s)))
			buf_putc(out, '_');
		else
			buf_append(out, start, (size_t)(s - start));
	}
	if (out->len && out->data[out->len - 1] == '\'')
		out->data[out->len - 1] = '_'; /* last character after truncation */
	if (!out->len)
		buf_puts(out, "Sheet1");
}

/*
 * Excel reads _xHHHH_ in a string as an escaped character and libxlsxwriter
 * does not escape a literal one, so "_x" goes out as "_x005F_x" (an escaped
 * underscore), as Excel itself writes it. Returns s, or the escaped copy in tmp.
 */
static const char *xstring_escape(const char *s, struct buf *tmp)
{
	const char *q = strstr(s, "_x");
	if (!q)
		return s;
	buf_reset(tmp);
	for (; q; s = q + 1, q = strstr(s, "_x")) {
		buf_append(tmp, s, (size_t)(q - s));
		buf_puts(tmp, "_x005F_");
	}
	buf_puts(tmp, s);
	return tmp->data;
}

static int cell_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n <= XLSX_STR_MAX && utf8_valid(s ? s : "", n);
}

int xlsx_write(const char *sheet_name, const char *const *header, const char *types, size_t ncols,
	       const char *const *cells, size_t nrows, const char *tmpdir, char **out, size_t *outlen)
{
	int rc = -1, fd = -1;
	struct buf path = BUF_INIT, name = BUF_INIT, tmp = BUF_INIT;
	lxw_workbook *wb = NULL;
	size_t *widths = NULL;
	char *data = NULL;

	*out = NULL;
	*outlen = 0;
	if (!header || !ncols || ncols > LXW_COL_MAX || nrows >= LXW_ROW_MAX || (nrows && !cells))
		goto out;
	if (sheet_name && !utf8_valid(sheet_name, strlen(sheet_name)))
		sheet_name = NULL;
	size_t ntypes = types ? strnlen(types, ncols) : 0;

	/* Validate everything and size the columns before touching the disk. */
	widths = calloc(ncols, sizeof *widths);
	if (!widths)
		goto out;
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *s = r == 0 ? header[c] : cells[(r - 1) * ncols + c];
			if (!cell_ok(s))
				goto out;
			size_t w = s ? text_width(s) : 0;
			if (w > widths[c])
				widths[c] = w;
		}
	}

	const char *dir = tmpdir && *tmpdir ? tmpdir : getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	buf_printf(&path, "%s/xiaoan-xlsx-XXXXXX", dir);
	fd = mkstemp(path.data);
	if (fd < 0)
		goto out;

	/* constant_memory: rows go to disk as written, so a 100 000-row export stays small. */
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = (char *)dir};
	wb = workbook_new_opt(path.data, &opt);
	if (!wb)
		goto out;
	sheet_name_clean(sheet_name, &name);
	if (workbook_validate_sheet_name(wb, name.data) != LXW_NO_ERROR) {
		buf_reset(&name);
		buf_puts(&name, "Sheet1");
	}
	lxw_worksheet *ws = workbook_add_worksheet(wb, name.data);
	lxw_format *bold = workbook_add_format(wb);
	if (!ws || !bold)
		goto out;
	format_set_bold(bold);

	for (size_t c = 0; c < ncols; c++) {
		size_t w = widths[c] < 6 ? 6 : widths[c] > 60 ? 60 : widths[c];
		if (worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, (double)w + 2, NULL) != LXW_NO_ERROR)
			goto out;
	}
	worksheet_freeze_panes(ws, 1, 0);
	if (worksheet_autofilter(ws, 0, 0, (lxw_row_t)nrows, (lxw_col_t)(ncols - 1)) != LXW_NO_ERROR)
		goto out;
	for (size_t c = 0; c < ncols; c++)
		if (worksheet_write_string(ws, 0, (lxw_col_t)c, xstring_escape(header[c] ? header[c] : "", &tmp),
					   bold) != LXW_NO_ERROR)
			goto out;
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c];
			lxw_error e;
			double d;
			if (!s || !*s)
				continue;
			if (c < ntypes && types[c] == 'n' && table_parse_number(s, &d))
				e = worksheet_write_number(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, d, NULL);
			else
				e = worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c,
							   xstring_escape(s, &tmp), NULL);
			if (e != LXW_NO_ERROR)
				goto out;
		}
	}
	lxw_error e = workbook_close(wb);
	wb = NULL;
	if (e != LXW_NO_ERROR)
		goto out;

	/* Read back through our own descriptor: libxlsxwriter rewrote the same file. */
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		goto out;
	size_t len = (size_t)st.st_size;
	data = malloc(len);
	if (!data)
		goto out;
	for (size_t got = 0; got < len;) {
		ssize_t n = pread(fd, data + got, len - got, (off_t)got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	*out = data;
	*outlen = len;
	data = NULL;
	rc = 0;
out:
	if (wb)
		workbook_close(wb); /* only way to free it; the file is removed below */
	if (fd >= 0) {
		close(fd);
		unlink(path.data);
	}
	free(data);
	free(widths);
	buf_free(&path);
	buf_free(&name);
	buf_free(&tmp);
	return rc;
}
