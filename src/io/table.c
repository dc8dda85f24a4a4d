/*
 * table.c - reading registries (台账) from CSV and .xlsx into struct table.
 *
 * Both readers feed one builder that keeps every cell's text in a single
 * byte pool and the cells as offsets into it, so a table costs a handful of
 * allocations however many cells it has, and cells that share a value (all
 * the empty ones, xlsx shared strings) share storage. Every limit in table.h
 * is checked as the data arrives, before anything is allocated for it.
 *
 * xlsx goes through libzip and expat only: entries are inflated in chunks
 * straight into the XML parser, counting real bytes against the caps rather
 * than trusting the sizes the zip declares.
 */
/* expat.h only declares the billion-laughs setters under XML_DTD; Debian's
 * libexpat is built with it. */
#ifndef XML_DTD
#define XML_DTD 1
#endif

#include "io/table.h"

#include "core/buf.h"

#include <errno.h>
#include <expat.h>
#include <iconv.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define MSG_ENCODING "文件编码无法识别（请使用 UTF-8 或 GB18030）"

static size_t utf8_seq(const unsigned char *s, size_t n);

/*--- Errors ---*/

/* Fills err (if any) with "第 N 行：" + message, or just message for line 0. Returns -1. */
static int __attribute__((format(printf, 3, 4)))
table_fail(struct table_error *err, size_t line, const char *fmt, ...)
{
	if (!err)
		return -1;
	err->line = line;
	int off = 0;
	if (line)
		off = snprintf(err->message, sizeof err->message, "第 %zu 行：", line);
	if (off < 0 || (size_t)off >= sizeof err->message)
		off = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message + off, sizeof err->message - (size_t)off, fmt, ap);
	va_end(ap);
	/* A long message (a file name in it) may be cut mid-character: drop the stub. */
	const unsigned char *m = (const unsigned char *)err->message;
	size_t n = strlen(err->message), i = 0, k;
	while (i < n && (k = utf8_seq(m + i, n - i)) > 0)
		i += k;
	err->message[i] = '\0';
	return -1;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort(); /* as buf.c: nothing sensible to answer without memory */
	return p;
}

/*--- Builder: rows and cells as offsets into one text pool ---*/

struct builder {
	struct buf text;        /* cell strings, each NUL-terminated; offset 0 is "" */
	size_t *cellv;          /* offsets into text, all rows back to back */
	size_t ncellv, capcellv;
	struct table_row *rows; /* .cells filled in by builder_finish */
	size_t nrows, caprows;
	struct table_error *err;
};

static void builder_init(struct builder *b, struct table_error *err)
{
	memset(b, 0, sizeof *b);
	b->err = err;
	buf_putc(&b->text, '\0');
}

static void builder_free(struct builder *b)
{
	buf_free(&b->text);
	free(b->cellv);
	free(b->rows);
}

/* Appends s[0..n) plus NUL to the pool; returns its offset (0 for ""). */
static size_t builder_text(struct builder *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	size_t off = b->text.len;
	buf_append(&b->text, s, n);
	buf_putc(&b->text, '\0');
	return off;
}

/* Adds a row of n cell offsets unless they are all empty. 0 or -1 (limit). */
static int builder_row(struct builder *b, size_t line, const size_t *offs, size_t n)
{
	size_t i;
	for (i = 0; i < n && offs[i] == 0; i++)
		;
	if (i == n)
		return 0;
	if (b->nrows > TABLE_MAX_ROWS)
		return table_fail(b->err, 0, "数据超过 %d 行（不含表头），请分批导入", TABLE_MAX_ROWS);
	if (b->ncellv + n > TABLE_MAX_CELLS)
		return table_fail(b->err, 0, "单元格总数超过 %d 个，请分批导入", TABLE_MAX_CELLS);
	if (b->nrows == b->caprows) {
		b->caprows = b->caprows ? 2 * b->caprows : 64;
		b->rows = xrealloc(b->rows, b->caprows * sizeof *b->rows);
	}
	if (b->ncellv + n > b->capcellv) {
		size_t cap = b->capcellv ? b->capcellv : 256;
		while (cap < b->ncellv + n)
			cap *= 2;
		b->cellv = xrealloc(b->cellv, cap * sizeof *b->cellv);
		b->capcellv = cap;
	}
	memcpy(b->cellv + b->ncellv, offs, n * sizeof *offs);
	b->ncellv += n;
	b->rows[b->nrows++] = (struct table_row){.line = line, .ncells = n, .cells = NULL};
	return 0;
}

/* Turns the builder into a table (the builder is emptied). 0 or -1 if no rows. */
static int builder_finish(struct builder *b, struct table **out)
{
	if (b->nrows == 0)
		return table_fail(b->err, 0, "文件中没有数据（找不到表头行）");
	struct table *t = xrealloc(NULL, sizeof *t);
	t->nrows = b->nrows;
	t->rows = b->rows;
	t->text_ = buf_detach(&b->text, NULL);
	t->cellv_ = xrealloc(NULL, b->ncellv * sizeof *t->cellv_);
	for (size_t i = 0; i < b->ncellv; i++)
		t->cellv_[i] = t->text_ + b->cellv[i];
	size_t at = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		t->rows[r].cells = t->cellv_ + at;
		at += t->rows[r].ncells;
	}
	b->rows = NULL;
	b->nrows = b->caprows = 0;
	*out = t;
	return 0;
}

/*--- UTF-8 and numbers ---*/

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* U+D800..U+DFFF surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else
		return 0; /* continuation byte, C0/C1 overlong, F5..FF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(p + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

int table_parse_number(const char *s, double *val)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	size_t digits = 0;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return 0;
	double d = strtod(s, NULL);
	if (!isfinite(d))
		return 0;
	if (val)
		*val = d;
	return 1;
}

/* Number of line breaks (CRLF, LF or lone CR) in s[0..n). */
static size_t count_lines(const char *s, size_t n)
{
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')))
			lines++;
	return lines;
}

/*--- CSV ---*/

/*
 * Tab when the first non-blank line has tabs and no commas outside quotes
 * (what Excel's "Unicode text" export and copy-paste give), else comma.
 */
static char csv_delimiter(const char *s, size_t n)
{
	size_t tabs = 0, commas = 0;
	int quoted = 0, seen = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (quoted) {
			if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = seen = 1;
		} else if (c == '\n' || c == '\r') {
			if (seen)
				break;
		} else {
			seen = 1;
			tabs += c == '\t';
			commas += c == ',';
		}
	}
	return tabs && !commas ? '\t' : ',';
}

/* Parses UTF-8 text without BOM or NUL bytes into b. 0 or -1. */
static int csv_parse(const char *s, size_t n, struct builder *b)
{
	const char delim = csv_delimiter(s, n);
	struct buf *text = &b->text;
	size_t offs[TABLE_MAX_COLS];
	size_t line = 1; /* physical line of s[i] */
	size_t i = 0;

	while (i < n) {
		size_t rec_line = line, ncells = 0;
		for (;;) { /* one field per pass */
			size_t start = text->len;
			if (i < n && s[i] == '"') {
				size_t qline = line;
				i++;
				for (;;) {
					const char *q = i < n ? memchr(s + i, '"', n - i) : NULL;
					if (!q)
						return table_fail(b->err, qline, "引号未闭合（从这一行开始的带引号单元格没有结束引号）");
					size_t k = (size_t)(q - s);
					line += count_lines(s + i, k - i);
					buf_append(text, s + i, k - i);
					i = k + 1;
					if (i < n && s[i] == '"') { /* "" is a literal quote */
						buf_putc(text, '"');
						i++;
						continue;
					}
					break;
				}
			}
			/* Unquoted text, or stray text after a closing quote (kept, as Excel does). */
			size_t k = i;
			while (k < n && s[k] != delim && s[k] != '\n' && s[k] != '\r')
				k++;
			buf_append(text, s + i, k - i);
			i = k;

			size_t len = text->len - start;
			if (len > TABLE_MAX_CELL)
				return table_fail(b->err, rec_line, "单元格超过 %d 字节", TABLE_MAX_CELL);
			if (ncells == TABLE_MAX_COLS)
				return table_fail(b->err, rec_line, "超过 %d 列", TABLE_MAX_COLS);
			if (len == 0) {
				offs[ncells++] = 0;
			} else {
				buf_putc(text, '\0');
				offs[ncells++] = start;
			}
			if (i < n && s[i] == delim) {
				i++;
				continue;
			}
			break;
		}
		if (i < n) { /* line break ends the record */
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			i++;
			line++;
		}
		if (builder_row(b, rec_line, offs, ncells) < 0)
			return -1;
	}
	return 0;
}

/* Converts GB18030 bytes to UTF-8 into out. 0, or -1 on any invalid sequence. */
static int gb18030_to_utf8(const char *in, size_t n, struct buf *out)
{
	int rc = -1;
	iconv_t cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return -1;
	char *ip = (char *)in;
	size_t il = n;
	while (il > 0) {
		buf_reserve(out, il + il / 2 + 16);
		char *op = out->data + out->len;
		size_t ol = out->cap - out->len - 1;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		out->len = (size_t)(op - out->data);
		out->data[out->len] = '\0';
		if (r == (size_t)-1 && errno != E2BIG)
			goto out; /* EILSEQ, or EINVAL: sequence cut off at the end */
	}
	rc = utf8_valid(out->data, out->len) ? 0 : -1;
out:
	iconv_close(cd);
	return rc;
}

/*
 * When bytes are mostly well-formed multi-byte UTF-8 with a few bad ones,
 * the file is broken UTF-8, not GB18030: decoding it as GB18030 would
 * import silently garbled names. Returns the offset of the first bad byte in
 * that case, else SIZE_MAX.
 */
static size_t broken_utf8_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t good = 0, bad = 0, first_bad = SIZE_MAX;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(p + i, n - i);
		if (k) {
			good++;
			i += k;
		} else {
			if (first_bad == SIZE_MAX)
				first_bad = i;
			bad++;
			i++;
		}
	}
	return good >= 4 && good >= 8 * bad ? first_bad : SIZE_MAX;
}

static int csv_read(const char *s, size_t n, struct builder *b)
{
	static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
	int rc = -1;
	struct buf conv = BUF_INIT;

	if (n >= 8 && memcmp(s, ole, 8) == 0)
		return table_fail(b->err, 0, "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入");
	if (n >= 4 && memcmp(s, "PK\3\4", 4) == 0)
		return table_fail(b->err, 0, "这是 Excel（.xlsx）文件，不是 CSV");
	if (n >= 2 && ((unsigned char)s[0] == 0xFF || (unsigned char)s[0] == 0xFE) &&
	    ((unsigned char)s[1] == 0xFF || (unsigned char)s[1] == 0xFE) && s[0] != s[1])
		return table_fail(b->err, 0, MSG_ENCODING); /* UTF-16 byte order mark */
	const char *nul = memchr(s, '\0', n);
	if (nul)
		return table_fail(b->err, 1 + count_lines(s, (size_t)(nul - s)),
				  "含有 NUL 字节（文件可能是 UTF-16 或二进制格式，请另存为 UTF-8 CSV）");

	int bom = n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
	if (bom)
		s += 3, n -= 3;
	if (utf8_valid(s, n)) {
		rc = csv_parse(s, n, b);
		goto out;
	}
	size_t at = bom ? 0 : broken_utf8_at(s, n);
	if (bom || at != SIZE_MAX) {
		const unsigned char *p = (const unsigned char *)s;
		if (bom) /* the BOM says UTF-8: point at the first bad byte */
			for (at = 0; at < n; at += p[at] < 0x80 ? 1 : utf8_seq(p + at, n - at))
				if (p[at] >= 0x80 && !utf8_seq(p + at, n - at))
					break;
		table_fail(b->err, 1 + count_lines(s, at), "含有无效的 UTF-8 字节，" MSG_ENCODING);
		goto out;
	}
	if (gb18030_to_utf8(s, n, &conv) < 0) {
		table_fail(b->err, 0, MSG_ENCODING);
		goto out;
	}
	rc = csv_parse(conv.data, conv.len, b);
out:
	buf_free(&conv);
	return rc;
}

/*--- xlsx: zip entries into expat ---*/

struct xlsx {
	zip_t *za;
	size_t unzipped; /* bytes inflated so far, all entries */
	struct table_error *err;
	int failed;      /* a handler stopped the parser and filled err */
};

/* First member of every parser's user data, so shared handlers can reach it. */
struct xml_base {
	XML_Parser parser;
	struct xlsx *x;
};

/* Stops the parser with an error (first one wins). */
static void __attribute__((format(printf, 3, 4)))
xml_fail(struct xml_base *base, size_t line, const char *fmt, ...)
{
	if (base->x->failed)
		return;
	base->x->failed = 1;
	if (base->x->err) {
		char msg[200];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		table_fail(base->x->err, line, "%s", msg);
	}
	XML_StopParser(base->parser, XML_FALSE);
}

/* OOXML never needs a DTD; refusing it shuts out entity expansion attacks. */
static void XMLCALL xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
				const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	xml_fail(ud, 0, "xlsx 文件中含有 DOCTYPE 声明，已拒绝（可能是恶意文件）");
}

static int XMLCALL xml_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base,
				       const XML_Char *sysid, const XML_Char *pubid)
{
	(void)p, (void)context, (void)base, (void)sysid, (void)pubid;
	return XML_STATUS_ERROR;
}

static XML_Parser xml_new(struct xml_base *base, struct xlsx *x, XML_StartElementHandler start,
			  XML_EndElementHandler end, XML_CharacterDataHandler text)
{
	XML_Parser p = XML_ParserCreateNS(NULL, '|');
	if (!p)
		abort();
	base->parser = p;
	base->x = x;
	XML_SetUserData(p, base);
	XML_SetElementHandler(p, start, end);
	XML_SetCharacterDataHandler(p, text);
	XML_SetStartDoctypeDeclHandler(p, xml_doctype);
	XML_SetExternalEntityRefHandler(p, xml_external_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(p, 10.0f);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(p, 1024 * 1024);
	return p;
}

/* The part of an expat "uri|local" name after the namespace. */
static const char *xml_local(const XML_Char *name)
{
	const char *s = strrchr(name, '|');
	return s ? s + 1 : name;
}

static const char *xml_attr(const XML_Char **atts, const char *local)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], local) == 0)
			return atts[i + 1];
	return NULL;
}

static zip_int64_t xlsx_locate(struct xlsx *x, const char *name)
{
	return zip_name_locate(x->za, name, ZIP_FL_NOCASE);
}

/*
 * Inflates entry idx in chunks straight into p. 0, or -1 with err filled
 * (corrupt entry, caps exceeded, XML error or a handler's error).
 */
static int xlsx_parse_entry(struct xlsx *x, zip_int64_t idx, XML_Parser p)
{
	enum { CHUNK = 64 * 1024, RATIO_FROM = 1024 * 1024 };
	int rc = -1;
	zip_file_t *zf = NULL;
	zip_stat_t st;
	const char *name = zip_get_name(x->za, (zip_uint64_t)idx, 0);
	if (!name)
		name = "?";
	/* Part names go into messages; keep at most ~80 bytes, cut between characters. */
	size_t namelen = strlen(name), nw = 0, k;
	while (nw < namelen && nw < 80 && (k = utf8_seq((const unsigned char *)name + nw, namelen - nw)) > 0)
		nw += k;

	zip_stat_init(&st);
	if (zip_stat_index(x->za, (zip_uint64_t)idx, 0, &st) < 0 ||
	    !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) {
		table_fail(x->err, 0, "xlsx 文件已损坏（无法读取 %.*s）", (int)nw, name);
		goto out;
	}
	/* The declared sizes can lie; this is a cheap first look, the real check is below. */
	if (st.size > TABLE_XLSX_MAX_UNZIPPED ||
	    (st.size > RATIO_FROM && st.size / (st.comp_size ? st.comp_size : 1) > TABLE_XLSX_MAX_RATIO)) {
		table_fail(x->err, 0, "xlsx 文件解压后过大或压缩比异常（可能是压缩炸弹），已拒绝");
		goto out;
	}
	zf = zip_fopen_index(x->za, (zip_uint64_t)idx, 0);
	if (!zf) {
		table_fail(x->err, 0, "xlsx 文件已损坏或已加密（无法打开 %.*s）", (int)nw, name);
		goto out;
	}
	size_t got = 0;
	for (;;) {
		void *chunk = XML_GetBuffer(p, CHUNK);
		if (!chunk)
			abort();
		zip_int64_t n = zip_fread(zf, chunk, CHUNK);
		if (n < 0) {
			table_fail(x->err, 0, "xlsx 文件已损坏（%.*s 解压失败）", (int)nw, name);
			goto out;
		}
		got += (size_t)n;
		x->unzipped += (size_t)n;
		if (x->unzipped > TABLE_XLSX_MAX_UNZIPPED) {
			table_fail(x->err, 0, "xlsx 文件解压后超过 %u MiB，已拒绝",
				   TABLE_XLSX_MAX_UNZIPPED / (1024 * 1024));
			goto out;
		}
		if (got > RATIO_FROM && got / (st.comp_size ? st.comp_size : 1) > TABLE_XLSX_MAX_RATIO) {
			table_fail(x->err, 0, "xlsx 文件压缩比异常（可能是压缩炸弹），已拒绝");
			goto out;
		}
		if (XML_ParseBuffer(p, (int)n, n == 0) == XML_STATUS_ERROR) {
			if (!x->failed)
				table_fail(x->err, 0, "xlsx 文件中的 %.*s 格式错误（XML 第 %lu 行：%s）", (int)nw, name,
					   (unsigned long)XML_GetCurrentLineNumber(p),
					   XML_ErrorString(XML_GetErrorCode(p)));
			goto out;
		}
		if (n == 0)
			break;
	}
	rc = 0;
out:
	if (zf)
		zip_fclose(zf);
	return rc;
}

/*--- xlsx: workbook.xml and its relationships ---*/

struct rels_ctx {
	struct xml_base base;
	int in_sheets, found;
	struct buf rid;   /* r:id of the first <sheet> */
	struct buf sheet; /* its target part name */
	struct buf sst;   /* the sharedStrings part name */
};

static void XMLCALL workbook_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rels_ctx *c = ud;
	if (c->found || strcmp(xml_local(name), "sheet") != 0)
		return;
	for (size_t i = 0; atts[i]; i += 2) {
		/* r:id: an attribute named "id" in the relationships namespace */
		if (strchr(atts[i], '|') && strcmp(xml_local(atts[i]), "id") == 0) {
			buf_puts(&c->rid, atts[i + 1]);
			c->found = 1;
			return;
		}
	}
}

static void XMLCALL xml_no_end(void *ud, const XML_Char *name)
{
	(void)ud, (void)name;
}

static void XMLCALL xml_no_text(void *ud, const XML_Char *s, int len)
{
	(void)ud, (void)s, (void)len;
}

/* Resolves a relationship target against xl/ into a zip entry name. */
static void rels_resolve(const char *target, struct buf *out)
{
	struct buf path = BUF_INIT;
	if (target[0] == '/')
		buf_puts(&path, target + 1);
	else
		buf_printf(&path, "xl/%s", target);
	buf_reset(out);
	buf_append(out, "", 0); /* out->data exists even if ".." comes first */
	/* Fold "." and ".." segments; ".." above the root stays at the root. */
	const char *s = path.data;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			char *slash = out->len ? memrchr(out->data, '/', out->len) : NULL;
			out->len = slash ? (size_t)(slash - out->data) : 0;
			out->data[out->len] = '\0';
		} else if (n && !(n == 1 && s[0] == '.')) {
			if (out->len)
				buf_putc(out, '/');
			buf_append(out, s, n);
		}
		s += n + (e != NULL);
	}
	buf_free(&path);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rels_ctx *c = ud;
	if (strcmp(xml_local(name), "Relationship") != 0)
		return;
	const char *id = xml_attr(atts, "Id"), *type = xml_attr(atts, "Type");
	const char *target = xml_attr(atts, "Target"), *mode = xml_attr(atts, "TargetMode");
	if (!id || !type || !target || (mode && strcmp(mode, "Internal") != 0))
		return;
	if (c->rid.len && strcmp(id, c->rid.data) == 0 && ends_with(type, "/worksheet"))
		rels_resolve(target, &c->sheet);
	else if (ends_with(type, "/sharedStrings") && !c->sst.len)
		rels_resolve(target, &c->sst);
}

/*--- xlsx: cell text ---*/

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes OOXML's _xHHHH_ escapes in place (Excel writes a CR in a cell as
 * _x000D_). NUL and surrogate halves stay as literal text. Returns the new
 * length; the result is never longer.
 */
static size_t xstring_decode(char *s, size_t n)
{
	size_t r = 0, w = 0;
	while (r < n) {
		if (s[r] == '_' && r + 6 < n && s[r + 1] == 'x' && s[r + 6] == '_') {
			int h[4] = {hexval(s[r + 2]), hexval(s[r + 3]), hexval(s[r + 4]), hexval(s[r + 5])};
			if (h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && h[3] >= 0) {
				unsigned cp = (unsigned)(h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
				if (cp && (cp < 0xD800 || cp > 0xDFFF)) {
					if (cp < 0x80) {
						s[w++] = (char)cp;
					} else if (cp < 0x800) {
						s[w++] = (char)(0xC0 | cp >> 6);
						s[w++] = (char)(0x80 | (cp & 0x3F));
					} else {
						s[w++] = (char)(0xE0 | cp >> 12);
						s[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
						s[w++] = (char)(0x80 | (cp & 0x3F));
					}
					r += 7;
					continue;
				}
			}
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	return w;
}

/* Text collected beyond this is dropped and the cell reported too long;
 * escapes shrink by at most 7:1, so a legal cell always fits. */
#define XLSX_COLLECT_MAX (8 * TABLE_MAX_CELL)

static void collect(struct buf *b, int *too_long, const char *s, int len)
{
	if (*too_long)
		return;
	if (b->len + (size_t)len > XLSX_COLLECT_MAX)
		*too_long = 1;
	else
		buf_append(b, s, (size_t)len);
}

/*--- xlsx: sharedStrings.xml ---*/

#define SST_TOO_LONG SIZE_MAX

struct sst_ctx {
	struct xml_base base;
	struct builder *b;
	size_t *offs; /* pool offset per shared string, SST_TOO_LONG if over the cell limit */
	size_t n, cap;
	int in_si, in_t, rph, too_long;
	struct buf cur;
};

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)atts;
	struct sst_ctx *c = ud;
	const char *l = xml_local(name);
	if (strcmp(l, "si") == 0) {
		c->in_si = 1;
		c->rph = c->in_t = c->too_long = 0;
		buf_reset(&c->cur);
	} else if (strcmp(l, "rPh") == 0) {
		c->rph++; /* phonetic (furigana) runs are not part of the text */
	} else if (strcmp(l, "t") == 0 && c->in_si && !c->rph) {
		c->in_t = 1;
	}
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
	struct sst_ctx *c = ud;
	const char *l = xml_local(name);
	if (strcmp(l, "t") == 0) {
		c->in_t = 0;
	} else if (strcmp(l, "rPh") == 0) {
		if (c->rph)
			c->rph--;
	} else if (strcmp(l, "si") == 0 && c->in_si) {
		c->in_si = 0;
		if (c->n == TABLE_MAX_CELLS) {
			xml_fail(&c->base, 0, "xlsx 共享字符串超过 %d 个", TABLE_MAX_CELLS);
			return;
		}
		size_t off = SST_TOO_LONG;
		if (!c->too_long) {
			size_t len = c->cur.len ? xstring_decode(c->cur.data, c->cur.len) : 0;
			if (len <= TABLE_MAX_CELL)
				off = builder_text(c->b, c->cur.data, len);
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 256;
			c->offs = xrealloc(c->offs, c->cap * sizeof *c->offs);
		}
		c->offs[c->n++] = off;
	}
}

static void XMLCALL sst_text(void *ud, const XML_Char *s, int len)
{
	struct sst_ctx *c = ud;
	if (c->in_t)
		collect(&c->cur, &c->too_long, s, len);
}

/*--- xlsx: the worksheet ---*/

struct sheet_ctx {
	struct xml_base base;
	struct builder *b;
	const size_t *sst;
	size_t nsst;
	int in_data, in_row;
	size_t row;      /* current row number r= */
	size_t next_col; /* column of a <c> without r= */
	size_t ncells;   /* 1 + last non-empty column in this row */
	size_t cells[TABLE_MAX_COLS];
	/* the current <c> */
	int in_c, in_v, in_is, in_t, rph, too_long;
	size_t col;
	char type[16];
	struct buf val;
	struct buf num;
};

/* Parses "123" fully into *out (no sign, no overflow). 1 or 0. */
static int parse_uint(const char *s, size_t *out)
{
	size_t v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 1;
}

/* Column index of a reference like "C5" (A is 0). 1 or 0 if malformed. */
static int parse_col(const char *ref, size_t *col)
{
	size_t v = 0, n = 0;
	for (; *ref >= 'A' && *ref <= 'Z'; ref++, n++) {
		if (n == 3)
			return 0; /* XFD is Excel's last column */
		v = v * 26 + (size_t)(*ref - 'A' + 1);
	}
	if (!n)
		return 0;
	*col = v - 1;
	return 1;
}

/* Strips XML whitespace around s in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * Renders a number cell's <v>: whole numbers below 1e15 in plain decimal
 * ("12.0" and "1.2E3" become "12" and "1200"), other numbers with %.15g, and
 * text that is not a number as it is.
 */
static void number_text(struct buf *out, char *v)
{
	double d;
	v = trim(v);
	buf_reset(out);
	if (!table_parse_number(v, &d)) {
		buf_puts(out, v);
		return;
	}
	/* no floor()/fabs(): this file should not need libm */
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
		buf_printf(out, "%lld", (long long)d);
	else
		buf_printf(out, "%.15g", d);
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct sheet_ctx *c = ud;
	const char *l = xml_local(name);
	if (!c->in_data) {
		if (strcmp(l, "sheetData") == 0)
			c->in_data = 1;
		return;
	}
	if (strcmp(l, "row") == 0) {
		const char *r = xml_attr(atts, "r");
		size_t n;
		if (r && parse_uint(r, &n) && n > 0)
			c->row = n;
		else
			c->row++;
		memset(c->cells, 0, c->ncells * sizeof *c->cells);
		c->ncells = c->next_col = 0;
		c->in_row = 1;
	} else if (strcmp(l, "c") == 0 && c->in_row) {
		const char *r = xml_attr(atts, "r"), *t = xml_attr(atts, "t");
		if (!r || !parse_col(r, &c->col))
			c->col = c->next_col;
		snprintf(c->type, sizeof c->type, "%s", t ? t : "n");
		c->in_c = 1;
		c->in_v = c->in_is = c->in_t = c->rph = c->too_long = 0;
		buf_reset(&c->val);
	} else if (c->in_c) {
		if (strcmp(l, "v") == 0)
			c->in_v = 1;
		else if (strcmp(l, "is") == 0)
			c->in_is = 1;
		else if (strcmp(l, "rPh") == 0)
			c->rph++;
		else if (strcmp(l, "t") == 0 && c->in_is && !c->rph)
			c->in_t = 1;
	}
}

/* Works out the value of the <c> that just ended and stores it. */
static void sheet_cell(struct sheet_ctx *c)
{
	size_t off = 0;
	char *v = c->val.data ? c->val.data : "";
	c->next_col = c->col + 1;
	if (c->too_long) {
		xml_fail(&c->base, c->row, "单元格超过 %d 字节", TABLE_MAX_CELL);
		return;
	}
	if (strcmp(c->type, "s") == 0) {
		size_t i;
		v = trim(v);
		if (!*v)
			return; /* no <v>: empty */
		if (!parse_uint(v, &i) || i >= c->nsst) {
			xml_fail(&c->base, c->row, "共享字符串编号无效（xlsx 文件可能已损坏）");
			return;
		}
		if (c->sst[i] == SST_TOO_LONG) {
			xml_fail(&c->base, c->row, "单元格超过 %d 字节", TABLE_MAX_CELL);
			return;
		}
		off = c->sst[i];
	} else if (strcmp(c->type, "e") == 0) {
		return; /* #DIV/0! and friends read as empty */
	} else {
		const char *s = v;
		size_t len;
		if (strcmp(c->type, "inlineStr") == 0 || strcmp(c->type, "str") == 0) {
			len = c->val.len ? xstring_decode(c->val.data, c->val.len) : 0;
		} else if (strcmp(c->type, "n") == 0) {
			number_text(&c->num, v);
			s = c->num.data;
			len = c->num.len;
		} else { /* b ("1"/"0"), d (ISO date) and anything unknown: the text as is */
			s = trim(v);
			len = strlen(s);
		}
		if (len > TABLE_MAX_CELL) {
			xml_fail(&c->base, c->row, "单元格超过 %d 字节", TABLE_MAX_CELL);
			return;
		}
		off = builder_text(c->b, s, len);
	}
	if (off == 0)
		return;
	if (c->col >= TABLE_MAX_COLS) {
		xml_fail(&c->base, c->row, "超过 %d 列", TABLE_MAX_COLS);
		return;
	}
	c->cells[c->col] = off;
	if (c->col + 1 > c->ncells)
		c->ncells = c->col + 1;
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
	struct sheet_ctx *c = ud;
	const char *l = xml_local(name);
	if (!c->in_data)
		return;
	if (c->in_c) {
		if (strcmp(l, "v") == 0)
			c->in_v = 0;
		else if (strcmp(l, "t") == 0)
			c->in_t = 0;
		else if (strcmp(l, "is") == 0)
			c->in_is = 0;
		else if (strcmp(l, "rPh") == 0 && c->rph)
			c->rph--;
		else if (strcmp(l, "c") == 0) {
			c->in_c = 0;
			sheet_cell(c);
		}
	} else if (strcmp(l, "row") == 0 && c->in_row) {
		c->in_row = 0;
		if (builder_row(c->b, c->row, c->cells, c->ncells) < 0) {
			c->base.x->failed = 1; /* builder_row filled err */
			XML_StopParser(c->base.parser, XML_FALSE);
		}
	} else if (strcmp(l, "sheetData") == 0) {
		c->in_data = 0;
	}
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
	struct sheet_ctx *c = ud;
	if (c->in_v || c->in_t)
		collect(&c->val, &c->too_long, s, len);
}

/*--- xlsx: putting it together ---*/

static int xlsx_read(const void *data, size_t len, struct builder *b)
{
	int rc = -1;
	struct xlsx x = {.err = b->err};
	struct rels_ctx wbc = {0};
	struct sst_ctx sc = {0};
	struct sheet_ctx *shc = NULL;
	XML_Parser p = NULL;
	zip_source_t *src = NULL;
	zip_error_t ze;

	zip_error_init(&ze);
	/* libzip takes an empty buffer for an empty archive; demand a zip signature */
	if (table_sniff(data, len) != TABLE_XLSX) {
		table_fail(b->err, 0, "文件不是有效的 xlsx 文件（可能已损坏或不完整）");
		goto out;
	}
	src = zip_source_buffer_create(data, len, 0, &ze);
	if (!src) {
		table_fail(b->err, 0, "无法读取 xlsx 文件");
		goto out;
	}
	x.za = zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (!x.za) {
		table_fail(b->err, 0, "文件不是有效的 xlsx 文件（可能已损坏或不完整）");
		goto out;
	}
	src = NULL; /* the archive owns it now */
	zip_int64_t nent = zip_get_num_entries(x.za, 0);
	if (nent < 0 || nent > TABLE_XLSX_MAX_ENTRIES) {
		table_fail(b->err, 0, "xlsx 文件包含超过 %d 个条目，已拒绝", TABLE_XLSX_MAX_ENTRIES);
		goto out;
	}

	/* Which part is the first sheet, and where are the shared strings? */
	zip_int64_t wb = xlsx_locate(&x, "xl/workbook.xml");
	if (wb >= 0) {
		p = xml_new(&wbc.base, &x, workbook_start, xml_no_end, xml_no_text);
		if (xlsx_parse_entry(&x, wb, p) < 0)
			goto out;
		XML_ParserFree(p);
		p = NULL;
		zip_int64_t rels = xlsx_locate(&x, "xl/_rels/workbook.xml.rels");
		if (rels >= 0 && wbc.found) {
			p = xml_new(&wbc.base, &x, rels_start, xml_no_end, xml_no_text);
			if (xlsx_parse_entry(&x, rels, p) < 0)
				goto out;
			XML_ParserFree(p);
			p = NULL;
		}
	}
	zip_int64_t sheet = wbc.sheet.len ? xlsx_locate(&x, wbc.sheet.data) : -1;
	if (sheet < 0)
		sheet = xlsx_locate(&x, "xl/worksheets/sheet1.xml");
	if (sheet < 0) {
		if (wb < 0)
			table_fail(b->err, 0, "文件不是 Excel 工作簿（压缩包中没有 xl/workbook.xml），请上传 .xlsx 文件");
		else
			table_fail(b->err, 0, "xlsx 文件中找不到第一个工作表");
		goto out;
	}

	zip_int64_t sst = wbc.sst.len ? xlsx_locate(&x, wbc.sst.data) : -1;
	if (sst < 0)
		sst = xlsx_locate(&x, "xl/sharedStrings.xml");
	if (sst >= 0) {
		sc.b = b;
		p = xml_new(&sc.base, &x, sst_start, sst_end, sst_text);
		if (xlsx_parse_entry(&x, sst, p) < 0)
			goto out;
		XML_ParserFree(p);
		p = NULL;
	}

	shc = xrealloc(NULL, sizeof *shc);
	memset(shc, 0, sizeof *shc);
	shc->b = b;
	shc->sst = sc.offs;
	shc->nsst = sc.n;
	p = xml_new(&shc->base, &x, sheet_start, sheet_end, sheet_text);
	if (xlsx_parse_entry(&x, sheet, p) < 0)
		goto out;
	rc = 0;
out:
	if (p)
		XML_ParserFree(p);
	if (shc) {
		buf_free(&shc->val);
		buf_free(&shc->num);
		free(shc);
	}
	buf_free(&wbc.rid);
	buf_free(&wbc.sheet);
	buf_free(&wbc.sst);
	buf_free(&sc.cur);
	free(sc.offs);
	if (x.za)
		zip_discard(x.za);
	if (src)
		zip_source_free(src);
	zip_error_fini(&ze);
	return rc;
}

/*--- API ---*/

enum table_kind table_sniff(const void *data, size_t len)
{
	return len >= 4 && memcmp(data, "PK\3\4", 4) == 0 ? TABLE_XLSX : TABLE_CSV;
}

int table_read(const void *data, size_t len, enum table_kind kind, struct table **out,
	       struct table_error *err)
{
	int rc = -1;
	struct builder b;

	*out = NULL;
	if (err) {
		err->line = 0;
		err->message[0] = '\0';
	}
	builder_init(&b, err);
	if (!data && len) {
		table_fail(err, 0, "没有数据");
		goto out;
	}
	if (kind == TABLE_CSV)
		rc = csv_read(data ? data : "", len, &b);
	else if (kind == TABLE_XLSX)
		rc = xlsx_read(data ? data : "", len, &b);
	else
		rc = table_fail(err, 0, "不支持的文件类型");
	if (rc == 0)
		rc = builder_finish(&b, out);
out:
	builder_free(&b);
	return rc;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	free(t->text_);
	free(t->cellv_);
	free(t->rows);
	free(t);
}

const char *table_cell(const struct table *t, size_t row, size_t col)
{
	if (!t || row >= t->nrows || col >= t->rows[row].ncells)
		return "";
	return t->rows[row].cells[col];
}
