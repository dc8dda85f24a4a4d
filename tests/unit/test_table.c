/*
 * test_table.c - table I/O as an office sees it: registries exported from
 * Excel or WPS as CSV (UTF-8 or GB18030) or .xlsx come in with the right
 * cells and line numbers, broken or hostile files get a clear Chinese error,
 * and what we export opens in Excel without running formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include <zip.h>

#include "core/buf.h"
#include "io/table.h"

/*--- helpers ---*/

static struct table *read_ok(const char *data, size_t len, enum table_kind kind)
{
	struct table *t = NULL;
	struct table_error err;
	int rc = table_read(data, len, kind, &t, &err);
	if (rc != 0)
		fail_msg("table_read failed: line %zu: %s", err.line, err.message);
	assert_non_null(t);
	return t;
}

static struct table *csv_ok(const char *s)
{
	return read_ok(s, strlen(s), TABLE_CSV);
}

/* Reading must fail at line `line` with a message containing `part`. */
static void read_fails(const char *data, size_t len, enum table_kind kind, size_t line, const char *part)
{
	struct table *t = (struct table *)1;
	struct table_error err;
	assert_int_equal(table_read(data, len, kind, &t, &err), -1);
	assert_null(t);
	if (!strstr(err.message, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, part);
	assert_int_equal(err.line, line);
}

static void assert_row(const struct table *t, size_t r, size_t line, size_t n, ...)
{
	assert_true(r < t->nrows);
	assert_int_equal(t->rows[r].line, line);
	assert_int_equal(t->rows[r].ncells, n);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(t->rows[r].cells[i], va_arg(ap, const char *));
	va_end(ap);
}

/* A zip held in memory with the given entries (stored, not compressed when store). */
static char *make_zip(size_t n, const char *const *names, const char *const *bodies, const size_t *lens,
		      int store, size_t *outlen)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	zip_source_keep(src);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < n; i++) {
		size_t len = lens ? lens[i] : strlen(bodies[i]);
		zip_source_t *fs = zip_source_buffer(za, bodies[i], len, 0);
		assert_non_null(fs);
		zip_int64_t idx = zip_file_add(za, names[i], fs, ZIP_FL_OVERWRITE);
		assert_true(idx >= 0);
		if (store)
			zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
	}
	assert_int_equal(zip_close(za), 0);
	zip_stat_t st;
	assert_int_equal(zip_source_stat(src, &st), 0);
	char *data = malloc(st.size);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_read(src, data, st.size), (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
	*outlen = st.size;
	return data;
}

/* A minimal xlsx: sheet1.xml (with the usual wrapper) and optional sharedStrings.xml. */
static char *make_xlsx(const char *sheet_data, const char *sst, size_t *len)
{
	struct buf sheet = BUF_INIT;
	buf_printf(&sheet,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		   "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		   "<sheetData>%s</sheetData></worksheet>",
		   sheet_data);
	const char *names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"};
	const char *bodies[] = {sheet.data, sst};
	char *z = make_zip(sst ? 2 : 1, names, bodies, NULL, 0, len);
	buf_free(&sheet);
	return z;
}

/* The text of one entry of a zip in memory (at most size-1 bytes). */
static void zip_entry(const char *zipdata, size_t n, const char *name, char *out, size_t size)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(zipdata, n, 0, &ze);
	zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
	assert_non_null(za);
	zip_file_t *zf = zip_fopen(za, name, 0);
	assert_non_null(zf);
	zip_int64_t got = zip_fread(zf, out, size - 1);
	assert_true(got > 0);
	out[got] = '\0';
	zip_fclose(zf);
	zip_discard(za);
	zip_error_fini(&ze);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

/*--- CSV reading ---*/

static void test_csv_quotes_commas_newlines(void **state)
{
	(void)state;
	struct table *t = csv_ok("学校名称,地址,备注\r\n"
				 "\"第一中学\",\"北京路 1 号，东门\",\"他说\"\"好\"\"\"\r\n"
				 "二小,\"a,b\",\"第一行\r\n第二行\"\r\n");
	assert_int_equal(t->nrows, 3);
	assert_row(t, 0, 1, 3, "学校名称", "地址", "备注");
	assert_row(t, 1, 2, 3, "第一中学", "北京路 1 号，东门", "他说\"好\"");
	assert_row(t, 2, 3, 3, "二小", "a,b", "第一行\r\n第二行");
	table_free(t);
}

static void test_csv_bom_stripped_and_lf(void **state)
{
	(void)state;
	struct table *t = csv_ok("\xEF\xBB\xBF学校名称,学段\n第一中学,初中\n");
	assert_int_equal(t->nrows, 2);
	assert_row(t, 0, 1, 2, "学校名称", "学段");
	assert_row(t, 1, 2, 2, "第一中学", "初中");
	table_free(t);
}

static void test_csv_gb18030(void **state)
{
	(void)state;
	const char *utf8 = "学校名称,学段\r\n第一中学,初中";
	char gb[128];
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char *ip = (char *)utf8, *op = gb;
	size_t il = strlen(utf8), ol = sizeof gb;
	assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
	iconv_close(cd);
	size_t n = (size_t)(op - gb);
	assert_false(utf8_valid(gb, n));

	struct table *t = read_ok(gb, n, TABLE_CSV);
	assert_int_equal(t->nrows, 2);
	assert_row(t, 0, 1, 2, "学校名称", "学段");
	assert_row(t, 1, 2, 2, "第一中学", "初中");
	table_free(t);
}

static void test_csv_bad_encodings_refused(void **state)
{
	(void)state;
	/* neither UTF-8 nor GB18030 (0xFF is never a GB18030 lead byte) */
	const char bad[] = "a,b\r\n\xFF\xFF,c\r\n";
	read_fails(bad, sizeof bad - 1, TABLE_CSV, 0, "文件编码无法识别（请使用 UTF-8 或 GB18030）");
	/* UTF-8 with one broken byte is not silently decoded as GB18030 */
	const char broken[] = "学校名称,学段\n第一中学,初中\n第二中学,高\xE4\xB8\n第三中学,小学\n";
	read_fails(broken, sizeof broken - 1, TABLE_CSV, 3, "无效的 UTF-8");
	/* a BOM promises UTF-8 */
	const char bom[] = "\xEF\xBB\xBF名称\n\xB5\xDA\xD2\xBB\n";
	read_fails(bom, sizeof bom - 1, TABLE_CSV, 2, "文件编码无法识别");
	/* UTF-16 (Excel's "Unicode text") */
	const char u16[] = "\xFF\xFE" "a\0,\0b\0";
	read_fails(u16, sizeof u16 - 1, TABLE_CSV, 0, "文件编码无法识别");
	/* NUL bytes: binary data, named by line */
	const char nul[] = "a,b\nc,d\ne\0f,g\n";
	read_fails(nul, sizeof nul - 1, TABLE_CSV, 3, "NUL");
	/* old binary .xls */
	const char xls[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0";
	read_fails(xls, sizeof xls - 1, TABLE_CSV, 0, ".xls");
}

static void test_csv_unterminated_quote_names_line(void **state)
{
	(void)state;
	read_fails("名称,备注\n一中,好\n二中,\"没有结束\n三中,x\n", strlen("名称,备注\n一中,好\n二中,\"没有结束\n三中,x\n"),
		   TABLE_CSV, 3, "引号未闭合");
	const char *s = "a\n\"b\"\"";
	read_fails(s, strlen(s), TABLE_CSV, 2, "第 2 行：引号未闭合");
}

static void test_csv_line_numbers(void **state)
{
	(void)state;
	/* 1 header, 2 blank, 3-5 one record spanning three lines, 6 blank (CRLF),
	 * 7 an all-empty row, 8 a record ending in a lone CR, 9 the last record,
	 * then blank lines */
	struct table *t = csv_ok("编号,说明\n"
				 "\n"
				 "1,\"多行\n说明\n结束\"\n"
				 "\r\n"
				 ",\n"
				 "2,二\r"
				 "3,三\n"
				 "\n\n");
	assert_int_equal(t->nrows, 4);
	assert_row(t, 0, 1, 2, "编号", "说明");
	assert_row(t, 1, 3, 2, "1", "多行\n说明\n结束");
	assert_row(t, 2, 8, 2, "2", "二");
	assert_row(t, 3, 9, 2, "3", "三");
	table_free(t);

	/* an error after a multi-line cell names the physical line */
	read_fails("a\n\"x\ny\"\nb,\"open\n", strlen("a\n\"x\ny\"\nb,\"open\n"), TABLE_CSV, 4, "引号未闭合");
}

static void test_csv_ragged_and_tabs(void **state)
{
	(void)state;
	struct table *t = csv_ok("名称\t地址\n一中\t北京路 1 号, 东门\n二中\n");
	assert_row(t, 0, 1, 2, "名称", "地址");
	assert_row(t, 1, 2, 2, "一中", "北京路 1 号, 东门");
	assert_row(t, 2, 3, 1, "二中");
	assert_string_equal(table_cell(t, 2, 1), "");
	assert_string_equal(table_cell(t, 9, 0), "");
	table_free(t);

	/* a tab inside quotes does not make the file tab-separated */
	t = csv_ok("\"a\tb\",c\n");
	assert_row(t, 0, 1, 2, "a\tb", "c");
	table_free(t);

	/* stray text after a closing quote is kept, as Excel does */
	t = csv_ok("\"ab\"c,d\n");
	assert_row(t, 0, 1, 2, "abc", "d");
	table_free(t);

	read_fails("", 0, TABLE_CSV, 0, "没有数据");
	read_fails("\r\n,,\r\n", 6, TABLE_CSV, 0, "没有数据");
}

static void test_csv_limits(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;

	/* a cell of exactly TABLE_MAX_CELL bytes is fine, one more is not */
	buf_puts(&b, "名称\n");
	for (int i = 0; i < TABLE_MAX_CELL; i++)
		buf_putc(&b, 'x');
	struct table *t = read_ok(b.data, b.len, TABLE_CSV);
	assert_int_equal(strlen(t->rows[1].cells[0]), TABLE_MAX_CELL);
	table_free(t);
	buf_puts(&b, "\n\"y\n");
	for (int i = 0; i < TABLE_MAX_CELL; i++)
		buf_putc(&b, 'y');
	buf_puts(&b, "\"\n");
	read_fails(b.data, b.len, TABLE_CSV, 3, "第 3 行：单元格超过 32767 字节");

	/* columns */
	buf_reset(&b);
	for (int i = 0; i < TABLE_MAX_COLS; i++)
		buf_puts(&b, i ? ",c" : "c");
	t = read_ok(b.data, b.len, TABLE_CSV);
	assert_int_equal(t->rows[0].ncells, TABLE_MAX_COLS);
	table_free(t);
	buf_puts(&b, ",c");
	read_fails(b.data, b.len, TABLE_CSV, 1, "超过 256 列");

	/* rows: header + TABLE_MAX_ROWS data rows, then one too many */
	buf_reset(&b);
	buf_puts(&b, "h\n");
	for (int i = 0; i < TABLE_MAX_ROWS; i++)
		buf_puts(&b, "1\n");
	t = read_ok(b.data, b.len, TABLE_CSV);
	assert_int_equal(t->nrows, TABLE_MAX_ROWS + 1);
	assert_int_equal(t->rows[TABLE_MAX_ROWS].line, TABLE_MAX_ROWS + 1);
	table_free(t);
	buf_puts(&b, "1\n");
	read_fails(b.data, b.len, TABLE_CSV, 0, "数据超过 100000 行");
	buf_free(&b);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("abc", 3));
	assert_true(utf8_valid("学校", 6));
	assert_true(utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
	assert_true(utf8_valid("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
	assert_true(utf8_valid("\xEF\xBF\xBF", 3));      /* U+FFFF */
	assert_true(utf8_valid("\xED\x9F\xBF", 3));      /* U+D7FF */
	assert_true(utf8_valid("a\0b", 3));              /* NUL is valid UTF-8 */
	assert_false(utf8_valid("\xC0\xAF", 2));         /* overlong '/' */
	assert_false(utf8_valid("\xC1\xBF", 2));         /* overlong */
	assert_false(utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
	assert_false(utf8_valid("\xE0\x9F\xBF", 3));     /* overlong U+07FF */
	assert_false(utf8_valid("\xF0\x80\x80\xAF", 4)); /* overlong */
	assert_false(utf8_valid("\xF0\x8F\xBF\xBF", 4)); /* overlong U+FFFF */
	assert_false(utf8_valid("\xED\xA0\x80", 3));     /* U+D800 surrogate */
	assert_false(utf8_valid("\xED\xBF\xBF", 3));     /* U+DFFF surrogate */
	assert_false(utf8_valid("\xF4\x90\x80\x80", 4)); /* U+110000 */
	assert_false(utf8_valid("\xF5\x80\x80\x80", 4));
	assert_false(utf8_valid("\xFF", 1));
	assert_false(utf8_valid("\x80", 1));             /* stray continuation */
	assert_false(utf8_valid("\xE5\xAD", 2));         /* truncated */
	assert_false(utf8_valid("\xE5\xADx", 3));
	assert_false(utf8_valid("\xE5\xAD\xA6", 2));     /* cut by the length */
}

static void test_sniff_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(table_sniff("PK\3\4rest", 8), TABLE_XLSX);
	assert_int_equal(table_sniff("PK", 2), TABLE_CSV);
	assert_int_equal(table_sniff("a,b", 3), TABLE_CSV);
	double d;
	assert_true(table_parse_number("-12.5", &d));
	assert_true(d == -12.5);
	assert_true(table_parse_number("1.2E3", &d) && d == 1200);
	assert_true(table_parse_number(".5", NULL));
	assert_false(table_parse_number("", NULL));
	assert_false(table_parse_number("-", NULL));
	assert_false(table_parse_number(" 1", NULL));
	assert_false(table_parse_number("0x10", NULL));
	assert_false(table_parse_number("inf", NULL));
	assert_false(table_parse_number("1e999", NULL));
	assert_false(table_parse_number("1e", NULL));
}

/*--- CSV writing ---*/

static void test_csv_write_formula_injection(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	csv_begin(&b);
	const char *row[] = {"=SUM(A1)", "-12.5", "@x", "+1", "-", "a,b", "他说\"好\"", "\tx", NULL, "普通"};
	csv_write_row(&b, row, 10);
	assert_string_equal(b.data, "\xEF\xBB\xBF'=SUM(A1),-12.5,'@x,+1,'-,\"a,b\",\"他说\"\"好\"\"\",\"'\tx\",,普通\r\n");

	/* and it reads back as the guarded text */
	struct table *t = read_ok(b.data, b.len, TABLE_CSV);
	assert_row(t, 0, 1, 10, "'=SUM(A1)", "-12.5", "'@x", "+1", "'-", "a,b", "他说\"好\"", "'\tx", "", "普通");
	table_free(t);
	buf_free(&b);
}

static void test_csv_write_read_round_trip(void **state)
{
	(void)state;
	const char *rows[][3] = {
		{"名称", "备注", "x"},
		{"多行\r\n文本", "\"quoted\"", ""},
		{"tab\there", "  空格  ", "_x0041_"},
	};
	struct buf b = BUF_INIT;
	csv_begin(&b);
	for (int r = 0; r < 3; r++)
		csv_write_row(&b, rows[r], 3);
	struct table *t = read_ok(b.data, b.len, TABLE_CSV);
	assert_int_equal(t->nrows, 3);
	for (size_t r = 0; r < 3; r++)
		for (size_t c = 0; c < 3; c++)
			assert_string_equal(table_cell(t, r, c), rows[r][c]);
	table_free(t);
	buf_free(&b);
}

/*--- xlsx ---*/

static void test_xlsx_round_trip(void **state)
{
	(void)state;
	const char *header[] = {"学校名称", "学生人数", "备注", "建校日期"};
	const char *cells[] = {
		"第一中学", "1200",  "=1+1",             "1985-09-01",
		"第二小学", "12.5",  "多行\n文本",       "",
		"_x0041_", "未知",  "@cmd",             NULL,
		"",        "-3",    "  前后空格  ",     "2001",
	};
	char *x = NULL;
	size_t n = 0;
	assert_int_equal(xlsx_write("学校名录", header, "snsd", 4, cells, 4, NULL, &x, &n), 0);
	assert_non_null(x);
	assert_true(n > 100);
	assert_int_equal(table_sniff(x, n), TABLE_XLSX);

	struct table *t = read_ok(x, n, TABLE_XLSX);
	assert_int_equal(t->nrows, 5);
	assert_row(t, 0, 1, 4, "学校名称", "学生人数", "备注", "建校日期");
	assert_row(t, 1, 2, 4, "第一中学", "1200", "=1+1", "1985-09-01");
	assert_row(t, 2, 3, 3, "第二小学", "12.5", "多行\n文本");
	assert_row(t, 3, 4, 3, "_x0041_", "未知", "@cmd");
	assert_row(t, 4, 5, 4, "", "-3", "  前后空格  ", "2001");
	table_free(t);

	/* the number column really holds numbers, the text column strings (no formula) */
	char xml[16384];
	zip_entry(x, n, "xl/worksheets/sheet1.xml", xml, sizeof xml);
	assert_non_null(strstr(xml, "<c r=\"B2\"><v>1200</v></c>"));
	assert_null(strstr(xml, "<f>"));
	assert_non_null(strstr(xml, "<pane "));      /* frozen header */
	assert_non_null(strstr(xml, "<autoFilter ")); /* filter on the header */
	zip_entry(x, n, "xl/workbook.xml", xml, sizeof xml);
	assert_non_null(strstr(xml, "name=\"学校名录\""));
	free(x);

	/* bad input is refused, not written */
	const char *bad[] = {"\xC0\xAF"};
	assert_int_equal(xlsx_write("x", bad, NULL, 1, NULL, 0, NULL, &x, &n), -1);
	assert_null(x);
	assert_int_equal(xlsx_write("x", header, NULL, 0, NULL, 0, NULL, &x, &n), -1);
	assert_int_equal(xlsx_write("x", header, NULL, 1, NULL, 0, "/nonexistent/dir", &x, &n), -1);
	/* odd sheet names are cleaned rather than refused (孛 is U+5B5B: not a '[') */
	assert_int_equal(xlsx_write("'孛a/b:c*?[]", header, NULL, 1, NULL, 0, NULL, &x, &n), 0);
	zip_entry(x, n, "xl/workbook.xml", xml, sizeof xml);
	assert_non_null(strstr(xml, "name=\"_孛a_b_c____\""));
	free(x);
	assert_int_equal(xlsx_write("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二", header, NULL, 1,
				    NULL, 0, NULL, &x, &n), 0);
	zip_entry(x, n, "xl/workbook.xml", xml, sizeof xml);
	assert_non_null(strstr(xml, "name=\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一\""));
	free(x);
}

/* Written with libxlsxwriter directly: shared strings, a gap, skipped rows, typed cells. */
static void test_xlsx_gaps_and_types(void **state)
{
	(void)state;
	char path[] = "/tmp/test_table_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	lxw_workbook *wb = workbook_new(path);
	lxw_worksheet *ws = workbook_add_worksheet(wb, "名录");
	worksheet_write_string(ws, 0, 0, "名称", NULL);
	worksheet_write_string(ws, 0, 1, "人数", NULL);
	worksheet_write_string(ws, 0, 2, "备注", NULL);
	worksheet_write_string(ws, 1, 0, "一中", NULL); /* B2 missing */
	worksheet_write_string(ws, 1, 2, "重点", NULL);
	worksheet_write_blank(ws, 2, 0, workbook_add_format(wb)); /* styled but empty row 3 */
	worksheet_write_number(ws, 3, 1, 12.0, NULL);            /* row 4: A4 missing */
	worksheet_write_number(ws, 4, 0, 0.1, NULL);
	worksheet_write_number(ws, 4, 1, 1200, NULL);
	worksheet_write_boolean(ws, 4, 2, 1, NULL);
	worksheet_write_formula_str(ws, 5, 0, "=\"a\"&\"b\"", NULL, "ab");
	worksheet_write_string(ws, 5, 1, "一中", NULL); /* same shared string as A2 */
	worksheet_write_number(ws, 6, 0, 43831, NULL);  /* a date stays a serial number */
	assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
	size_t n;
	char *x = slurp(path, &n);
	unlink(path);

	struct table *t = read_ok(x, n, TABLE_XLSX);
	assert_int_equal(t->nrows, 6);
	assert_row(t, 0, 1, 3, "名称", "人数", "备注");
	assert_row(t, 1, 2, 3, "一中", "", "重点");
	assert_row(t, 2, 4, 2, "", "12");
	assert_row(t, 3, 5, 3, "0.1", "1200", "1");
	assert_row(t, 4, 6, 2, "ab", "一中");
	assert_row(t, 5, 7, 1, "43831");
	table_free(t);
	free(x);
}

/* Hand-made parts: what Excel and WPS write that libxlsxwriter does not. */
static void test_xlsx_excel_features(void **state)
{
	(void)state;
	const char *sst = "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
			  "<si><t>普通</t></si>"
			  "<si><r><rPr><b/></rPr><t>富</t></r><r><t xml:space=\"preserve\">文本 </t></r>"
			  "<rPh sb=\"0\" eb=\"1\"><t>フ</t></rPh></si>"
			  "<si><t>a_x000D_b_x005F_x0041_</t></si>"
			  "<si><t>&lt;&amp;&gt;</t></si>"
			  "</sst>";
	const char *data = "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c><c r=\"B2\" t=\"s\"><v>1</v></c></row>"
			   "<row><c t=\"s\"><v>2</v></c><c t=\"s\"><v>3</v></c><c t=\"inlineStr\"><is><t>内联</t></is></c></row>"
			   "<row r=\"9\"><c r=\"C9\"><v>12.0</v></c><c r=\"D9\"><v>1.2E3</v></c>"
			   "<c r=\"E9\"><v>0.30000000000000004</v></c><c r=\"F9\" t=\"e\"><v>#DIV/0!</v></c>"
			   "<c r=\"G9\"><v>-0</v></c><c r=\"H9\"><v>1E+20</v></c><c r=\"I9\" t=\"b\"><v>0</v></c></row>"
			   "<row r=\"10\"><c r=\"XFD10\" s=\"1\"/><c r=\"A10\" t=\"str\"><f>A1</f><v>x</v></c></row>";
	size_t n;
	char *x = make_xlsx(data, sst, &n);
	struct table *t = read_ok(x, n, TABLE_XLSX);
	assert_int_equal(t->nrows, 4);
	assert_row(t, 0, 2, 2, "普通", "富文本 ");
	assert_row(t, 1, 3, 3, "a\rb_x0041_", "<&>", "内联");
	assert_row(t, 2, 9, 9, "", "", "12", "1200", "0.3", "", "0", "1e+20", "0");
	assert_row(t, 3, 10, 1, "x");
	table_free(t);
	free(x);

	/* the first sheet is found through workbook.xml and its relationships */
	const char *names[] = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/data.xml",
			       "xl/worksheets/sheet1.xml", "xl/strings.xml"};
	const char *bodies[] = {
		"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
		"<sheets><sheet name=\"一\" sheetId=\"2\" r:id=\"rId7\"/><sheet name=\"二\" sheetId=\"1\" r:id=\"rId1\"/>"
		"</sheets></workbook>",
		"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		"<Relationship Id=\"rId7\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"/xl/worksheets/./x/../data.xml\"/>"
		"<Relationship Id=\"rId9\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"strings.xml\"/>"
		"</Relationships>",
		"<worksheet><sheetData><row r=\"1\"><c t=\"s\"><v>0</v></c></row></sheetData></worksheet>",
		"<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>wrong sheet</t></is></c></row></sheetData></worksheet>",
		"<sst><si><t>right sheet</t></si></sst>",
	};
	x = make_zip(5, names, bodies, NULL, 0, &n);
	t = read_ok(x, n, TABLE_XLSX);
	assert_row(t, 0, 1, 1, "right sheet");
	table_free(t);
	free(x);

	/* ".." above the package root (found by the fuzzer) stays at the root */
	bodies[1] = "<Relationships><Relationship Id=\"rId7\" Type=\"x/worksheet\" "
		    "Target=\"/../..//./xl/worksheets/data.xml\"/>"
		    "<Relationship Id=\"rId9\" Type=\"x/sharedStrings\" Target=\"../../xl/strings.xml\"/>"
		    "</Relationships>";
	x = make_zip(5, names, bodies, NULL, 0, &n);
	t = read_ok(x, n, TABLE_XLSX);
	assert_row(t, 0, 1, 1, "right sheet");
	table_free(t);
	free(x);
}

static void test_xlsx_bad_files(void **state)
{
	(void)state;
	size_t n;
	/* a zip that is not a workbook */
	const char *names[] = {"readme.txt"};
	const char *bodies[] = {"hello"};
	char *x = make_zip(1, names, bodies, NULL, 0, &n);
	read_fails(x, n, TABLE_XLSX, 0, "不是 Excel 工作簿");
	free(x);

	/* not a zip at all */
	read_fails("学校,学段\n", strlen("学校,学段\n"), TABLE_XLSX, 0, "不是有效的 xlsx");
	read_fails("", 0, TABLE_XLSX, 0, "不是有效的 xlsx");

	/* every truncation of a real xlsx is an error, never a crash */
	const char *header[] = {"名称", "人数"};
	const char *cells[] = {"第一中学", "1200", "第二中学", "900"};
	assert_int_equal(xlsx_write("s", header, "sn", 2, cells, 2, NULL, &x, &n), 0);
	for (size_t cut = 0; cut < n; cut += 7) {
		struct table *t = (struct table *)1;
		struct table_error err;
		assert_int_equal(table_read(x, cut, TABLE_XLSX, &t, &err), -1);
		assert_null(t);
		assert_true(err.message[0] != '\0');
	}
	/* a flipped byte inside compressed data: a CRC or XML error, not a crash */
	for (size_t at = 30; at < n; at += 13) {
		x[at] ^= 0x55;
		struct table *t = NULL;
		struct table_error err;
		if (table_read(x, n, TABLE_XLSX, &t, &err) == 0)
			table_free(t);
		x[at] ^= 0x55;
	}
	free(x);

	/* broken XML, bad shared string index */
	x = make_xlsx("<row><c><v>1</c></row>", NULL, &n);
	read_fails(x, n, TABLE_XLSX, 0, "格式错误");
	free(x);
	x = make_xlsx("<row r=\"3\"><c t=\"s\"><v>5</v></c></row>", "<sst><si><t>a</t></si></sst>", &n);
	read_fails(x, n, TABLE_XLSX, 3, "共享字符串编号无效");
	free(x);
	x = make_xlsx("", NULL, &n);
	read_fails(x, n, TABLE_XLSX, 0, "没有数据");
	free(x);

	/* a long part name in the message is cut on a character boundary */
	struct buf target = BUF_INIT, rels = BUF_INIT;
	buf_puts(&target, "worksheets/x");
	for (int i = 0; i < 40; i++)
		buf_puts(&target, "工作表");
	buf_printf(&rels,
		   "<Relationships><Relationship Id=\"rId1\" Type=\"x/worksheet\" Target=\"%s\"/></Relationships>",
		   target.data);
	struct buf part = BUF_INIT;
	buf_printf(&part, "xl/%s", target.data);
	const char *names2[] = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", part.data};
	const char *bodies2[] = {"<workbook xmlns:r=\"urn:r\"><sheets><sheet r:id=\"rId1\"/></sheets></workbook>",
				 rels.data, "<worksheet><sheetData><row>"};
	x = make_zip(3, names2, bodies2, NULL, 0, &n);
	struct table *t = NULL;
	struct table_error err;
	assert_int_equal(table_read(x, n, TABLE_XLSX, &t, &err), -1);
	assert_non_null(strstr(err.message, "工作表工作表"));
	assert_non_null(strstr(err.message, "格式错误"));
	assert_true(utf8_valid(err.message, strlen(err.message)));
	free(x);
	buf_free(&target);
	buf_free(&rels);
	buf_free(&part);
}

static void test_xlsx_hostile_files(void **state)
{
	(void)state;
	size_t n;
	/* billion laughs: any DOCTYPE is refused */
	const char *names[] = {"xl/worksheets/sheet1.xml"};
	const char *lol[] = {"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
			     "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
			     "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&lol2;</t></is></c></row>"
			     "</sheetData></worksheet>"};
	char *x = make_zip(1, names, lol, NULL, 0, &n);
	read_fails(x, n, TABLE_XLSX, 0, "DOCTYPE");
	free(x);
	const char *xxe[] = {"<!DOCTYPE w [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><worksheet>&e;</worksheet>"};
	x = make_zip(1, names, xxe, NULL, 0, &n);
	read_fails(x, n, TABLE_XLSX, 0, "DOCTYPE");
	free(x);

	/* zip bomb: 80 MiB of spaces deflate to ~80 KiB */
	size_t big = 80u * 1024 * 1024;
	char *sheet = malloc(big);
	memset(sheet, ' ', big);
	memcpy(sheet, "<worksheet>", 11);
	size_t lens[] = {big};
	const char *bodies[] = {sheet};
	x = make_zip(1, names, bodies, lens, 0, &n);
	free(sheet);
	read_fails(x, n, TABLE_XLSX, 0, "已拒绝");
	/* the same bomb declaring a harmless 100 bytes: caught while inflating */
	assert_memory_equal(x, "PK\3\4", 4);
	memcpy(x + 22, "\x64\0\0\0", 4);
	char *cd = memmem(x, n, "PK\1\2", 4);
	assert_non_null(cd);
	memcpy(cd + 24, "\x64\0\0\0", 4);
	read_fails(x, n, TABLE_XLSX, 0, "xlsx 文件压缩比异常");
	free(x);

	/* 80 MiB that compresses only ~50:1, split over two parts: the total cap */
	size_t half = 40u * 1024 * 1024;
	char *a = malloc(half + 1), *b = malloc(half + 1);
	uint32_t seed = 12345;
	for (size_t i = 0; i < half; i++) {
		seed = seed * 1103515245 + 12345;
		a[i] = b[i] = i % 97 ? ' ' : (char)('a' + (seed >> 16) % 26);
	}
	memcpy(a, "<sst>", 5);
	memcpy(a + half - 6, "</sst>", 6);
	memcpy(b, "<worksheet>", 11);
	const char *names2[] = {"xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"};
	const char *bodies2[] = {a, b};
	size_t lens2[] = {half, half};
	x = make_zip(2, names2, bodies2, lens2, 0, &n);
	free(a);
	free(b);
	read_fails(x, n, TABLE_XLSX, 0, "解压后超过 64 MiB");
	free(x);

	/* too many entries */
	enum { N = TABLE_XLSX_MAX_ENTRIES + 1 };
	const char **nm = malloc(N * sizeof *nm), **bd = malloc(N * sizeof *bd);
	char (*names_buf)[24] = malloc(N * sizeof *names_buf);
	for (size_t i = 0; i < N; i++) {
		snprintf(names_buf[i], sizeof names_buf[i], "f%zu", i);
		nm[i] = names_buf[i];
		bd[i] = "";
	}
	x = make_zip(N, nm, bd, NULL, 1, &n);
	read_fails(x, n, TABLE_XLSX, 0, "条目");
	free(x);
	free(nm);
	free(bd);
	free(names_buf);

	/* 257 columns, an over-long cell, a cell far right */
	struct buf row = BUF_INIT;
	buf_puts(&row, "<row r=\"4\">");
	for (int i = 0; i <= TABLE_MAX_COLS; i++)
		buf_puts(&row, "<c><v>1</v></c>");
	buf_puts(&row, "</row>");
	x = make_xlsx(row.data, NULL, &n);
	read_fails(x, n, TABLE_XLSX, 4, "超过 256 列");
	free(x);
	buf_reset(&row);
	buf_puts(&row, "<row r=\"2\"><c t=\"inlineStr\"><is><t>");
	for (int i = 0; i <= TABLE_MAX_CELL; i++)
		buf_putc(&row, 'x');
	buf_puts(&row, "</t></is></c></row>");
	x = make_xlsx(row.data, NULL, &n);
	read_fails(x, n, TABLE_XLSX, 2, "单元格超过 32767 字节");
	free(x);
	x = make_xlsx("<row r=\"5\"><c r=\"IW5\"><v>1</v></c></row>", NULL, &n);
	read_fails(x, n, TABLE_XLSX, 5, "超过 256 列");
	free(x);
	buf_free(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quotes_commas_newlines),
		cmocka_unit_test(test_csv_bom_stripped_and_lf),
		cmocka_unit_test(test_csv_gb18030),
		cmocka_unit_test(test_csv_bad_encodings_refused),
		cmocka_unit_test(test_csv_unterminated_quote_names_line),
		cmocka_unit_test(test_csv_line_numbers),
		cmocka_unit_test(test_csv_ragged_and_tabs),
		cmocka_unit_test(test_csv_limits),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_sniff_and_numbers),
		cmocka_unit_test(test_csv_write_formula_injection),
		cmocka_unit_test(test_csv_write_read_round_trip),
		cmocka_unit_test(test_xlsx_round_trip),
		cmocka_unit_test(test_xlsx_gaps_and_types),
		cmocka_unit_test(test_xlsx_excel_features),
		cmocka_unit_test(test_xlsx_bad_files),
		cmocka_unit_test(test_xlsx_hostile_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
