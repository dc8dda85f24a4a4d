/*
 * importer.c - the column-driven import/export engine shared by every
 * registry (see importer.h). No SQL here: reads and writes go through the
 * registry's callbacks; the engine owns the file, the header mapping, cell
 * validation, the error list, the transaction and the audit entries.
 */
#include "io/importer.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/audit.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/http.h"
#include "io/table.h"
#include "store/store.h"

/*--- header matching ---*/

void io_header_norm(const char *in, char *out, size_t outlen)
{
	static const struct {
		const char *from;
		const char *to;
	} fold[] = {
		{ "\xE3\x80\x80", "" },  /* U+3000 ideographic space */
		{ "\xC2\xA0", "" },      /* U+00A0 no-break space */
		{ "\xEF\xBC\x8A", "" },  /* ＊ required marker */
		{ "\xEF\xBC\x88", "(" }, /* （ */
		{ "\xEF\xBC\x89", ")" }, /* ） */
		{ "\xE3\x80\x90", "(" }, /* 【 */
		{ "\xE3\x80\x91", ")" }, /* 】 */
	};
	size_t o = 0;
	if (!outlen)
		return;
	while (*in && o + 1 < outlen) {
		unsigned char c = (unsigned char)*in;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '*') {
			in++;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof fold / sizeof fold[0]; k++) {
			size_t n = strlen(fold[k].from);
			if (strncmp(in, fold[k].from, n) == 0) {
				for (const char *t = fold[k].to; *t && o + 1 < outlen; t++)
					out[o++] = *t;
				in += n;
				break;
			}
		}
		if (k < sizeof fold / sizeof fold[0])
			continue;
		out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
		in++;
	}
	out[o] = '\0';
}

/* 1 when header is one of c's "|"-separated aliases; loose compares
 * both after io_header_norm. */
static int alias_any(const struct io_column *c, const char *header, int loose)
{
	if (!c->aliases)
		return 0;
	char want[512], have[512];
	if (loose)
		io_header_norm(header, want, sizeof want);
	const char *p = c->aliases;
	while (*p) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n < sizeof have) {
			memcpy(have, p, n);
			have[n] = '\0';
			if (!loose && strcmp(have, header) == 0)
				return 1;
			if (loose) {
				char norm[512];
				io_header_norm(have, norm, sizeof norm);
				if (*norm && strcmp(norm, want) == 0)
					return 1;
			}
		}
		p += n;
		if (*p == '|')
			p++;
	}
	return 0;
}

const struct io_column *io_match_header(const struct io_registry *reg, const char *header)
{
	if (!header || !*header)
		return NULL;
	for (const struct io_column *c = reg->columns; c->header; c++)
		if (strcmp(c->header, header) == 0)
			return c;
	for (const struct io_column *c = reg->columns; c->header; c++)
		if (alias_any(c, header, 0))
			return c;
	char want[512], have[512];
	io_header_norm(header, want, sizeof want);
	if (!*want)
		return NULL;
	for (const struct io_column *c = reg->columns; c->header; c++) {
		io_header_norm(c->header, have, sizeof have);
		if (strcmp(have, want) == 0 || alias_any(c, header, 1))
			return c;
	}
	return NULL;
}

static const struct io_column *column_of_field(const struct io_registry *reg, const char *field)
{
	for (const struct io_column *c = reg->columns; c->header; c++)
		if (strcmp(c->field, field) == 0)
			return c;
	return NULL;
}

static const struct vfield *column_vfield(const struct io_registry *reg, const struct io_column *c)
{
	return c->cell ? c->cell : valid_find(reg->fields, c->field);
}

/*
 * Which registry column each file column fills. A file column matching a
 * field an earlier column already fills is a duplicate and fills nothing.
 */
struct binding {
	size_t ncols;                     /* columns in the file's header row */
	const struct io_column **col;     /* per file column, or NULL (ignored) */
	size_t *dup_of;                   /* per file column: the earlier column + 1, or 0 */
};

static void bind_columns(struct req *r, const struct io_registry *reg, const struct table *t, json_t *mapping,
			 struct binding *b)
{
	b->ncols = t->rows[0].ncells;
	b->col = arena_alloc(r->arena, (b->ncols + 1) * sizeof *b->col);
	b->dup_of = arena_alloc(r->arena, (b->ncols + 1) * sizeof *b->dup_of);
	for (size_t i = 0; i < b->ncols; i++) {
		const char *h = table_cell(t, 0, i);
		const struct io_column *c = NULL;
		json_t *m = mapping ? json_object_get(mapping, h) : NULL;
		if (m) {
			if (json_is_string(m) && json_string_length(m))
				c = column_of_field(reg, json_string_value(m));
		} else {
			c = io_match_header(reg, h);
		}
		for (size_t j = 0; c && j < i; j++)
			if (b->col[j] == c) {
				b->dup_of[i] = j + 1;
				c = NULL;
			}
		b->col[i] = c;
	}
}

/* The file column filling field, or SIZE_MAX. */
static size_t file_column_of(const struct binding *b, const char *field)
{
	for (size_t i = 0; field && i < b->ncols; i++)
		if (b->col[i] && strcmp(b->col[i]->field, field) == 0)
			return i;
	return SIZE_MAX;
}

/* Headers of required fields no file column fills, as a JSON array. */
static json_t *missing_headers(const struct io_registry *reg, const struct binding *b)
{
	json_t *a = json_array();
	for (const struct io_column *c = reg->columns; c->header; c++) {
		const struct vfield *f = column_vfield(reg, c);
		if (f && f->required && file_column_of(b, c->field) == SIZE_MAX)
			json_array_append_new(a, json_string(c->header));
	}
	return a;
}

/* Reads the body as a table; on failure replies 400 and returns NULL. */
static struct table *read_body(struct req *r)
{
	if (!r->body || r->body_len == 0) {
		reply_error(r, 400, "import.empty_file", "请上传 CSV 或 Excel（.xlsx）文件", NULL);
		return NULL;
	}
	struct table *t = NULL;
	struct table_error err;
	if (table_read(r->body, r->body_len, table_sniff(r->body, r->body_len), &t, &err) != 0) {
		reply_error(r, 400, "import.unreadable", arena_strdup(r->arena, err.message), NULL);
		return NULL;
	}
	if (t->nrows == 0) {
		table_free(t);
		reply_error(r, 400, "import.empty_file", "文件是空的：没有表头行", NULL);
		return NULL;
	}
	return t;
}

/*--- preview ---*/

int io_preview(struct req *r, const struct io_registry *reg)
{
	struct table *t = read_body(r);
	if (!t)
		return 0;
	struct binding b;
	bind_columns(r, reg, t, NULL, &b);

	json_t *headers = json_array(), *mapping = json_object(), *unknown = json_array(), *dups = json_array();
	for (size_t i = 0; i < b.ncols; i++) {
		const char *h = table_cell(t, 0, i);
		json_array_append_new(headers, json_string(h));
		if (b.col[i])
			json_object_set_new(mapping, h, json_string(b.col[i]->field));
		else if (!json_object_get(mapping, h))
			json_object_set_new(mapping, h, json_null());
		if (b.dup_of[i])
			json_array_append_new(dups, json_string(h));
		else if (!b.col[i] && *h)
			json_array_append_new(unknown, json_string(h));
	}
	json_t *rows = json_array();
	for (size_t k = 1; k < t->nrows && k <= IO_PREVIEW_ROWS; k++) {
		json_t *row = json_array();
		size_t n = t->rows[k].ncells > b.ncols ? t->rows[k].ncells : b.ncols;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(row, json_string(table_cell(t, k, i)));
		json_array_append_new(rows, row);
	}
	json_t *fields = json_array();
	for (const struct io_column *c = reg->columns; c->header; c++) {
		const struct vfield *f = column_vfield(reg, c);
		json_array_append_new(fields, json_pack("{s:s,s:s,s:b}", "field", c->field, "label", c->header,
							"required", f && f->required));
	}
	json_t *out = json_pack("{s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o}", "headers", headers, "rows", rows, "total_rows",
				(json_int_t)(t->nrows - 1), "mapping", mapping, "fields", fields, "unknown", unknown,
				"missing", missing_headers(reg, &b), "duplicates", dups);
	table_free(t);
	return reply_json(r, 200, out);
}

/*--- import ---*/

struct job {
	int csv;            /* the file is CSV: undo the exporter's formula guard */
	struct req *r;
	const struct io_registry *reg;
	void *ctx;
	struct table *t;
	struct binding b;
	json_t *errors;     /* the first IO_MAX_ERRORS errors */
	size_t nerrors;     /* all errors */
	size_t bad_rows;
	size_t created, updated, unchanged;
};

static void add_error(struct job *j, size_t line, size_t col, const char *field, const char *message)
{
	j->nerrors++;
	if (json_array_size(j->errors) >= IO_MAX_ERRORS)
		return;
	json_t *e = json_pack("{s:I,s:s?,s:s?,s:s}", "row", (json_int_t)line, "column",
			      col == SIZE_MAX ? NULL : table_cell(j->t, 0, col), "field", field, "message", message);
	if (col == SIZE_MAX)
		json_object_set_new(e, "column", json_null());
	if (!field)
		json_object_set_new(e, "field", json_null());
	json_array_append_new(j->errors, e);
}

/*
 * One pass over every data row: cells, duplicate keys, the registry's
 * resolve and, when write is set, row_write and the audit entry. Returns 0
 * or a negative store error (row errors are collected, not returned).
 */
static int run_pass(struct job *j, int write)
{
	const struct io_registry *reg = j->reg;
	const struct vfield *keyf = reg->key_field ? valid_find(reg->fields, reg->key_field) : NULL;
	size_t keycol = file_column_of(&j->b, reg->key_field);
	json_t *keys = json_object(); /* key value → line where first seen */
	int rc = 0;
	for (size_t k = 1; k < j->t->nrows; k++) {
		size_t line = j->t->rows[k].line;
		size_t before = j->nerrors;
		json_t *row = json_object();
		struct verr e;
		for (size_t i = 0; i < j->b.ncols; i++) {
			const struct io_column *c = j->b.col[i];
			if (!c)
				continue;
			json_t *v;
			const char *text = table_cell(j->t, k, i);
			/* csv_write_row puts a ' before a cell starting = + - @ TAB CR
			 * so that Excel does not run it; our own export comes back
			 * without it */
			if (j->csv && text[0] == '\'' && text[1] && strchr("=+-@\t\r'", text[1]))
				text++;
			const struct vfield *f = column_vfield(reg, c);
			if (valid_cell(f, text, &v, &e) != 0) {
				add_error(j, line, i, c->field, e.message);
				continue;
			}
			/* an empty cell in a field that cannot be empty keeps what the
			 * record has (or its default); in a text field it clears it */
			if (json_is_null(v) && !f->nullable) {
				json_decref(v);
				if (f->type != V_STR)
					continue;
				v = json_string("");
			}
			json_object_set_new(row, c->field, v);
		}
		const char *key = keyf ? json_string_value(json_object_get(row, reg->key_field)) : NULL;
		if (key && *key) {
			json_t *seen = json_object_get(keys, key);
			if (seen) {
				char msg[160];
				snprintf(msg, sizeof msg, "%s与第 %" PRId64 " 行重复", keyf->label,
					 (int64_t)json_integer_value(seen));
				add_error(j, line, keycol, reg->key_field, msg);
			} else {
				json_object_set_new(keys, key, json_integer((json_int_t)line));
			}
		}
		if (j->nerrors == before) {
			enum io_action action = IO_CREATE;
			rc = reg->row_resolve(j->r, j->ctx, row, &action, &e);
			if (rc < 0) {
				json_decref(row);
				break;
			}
			if (rc > 0) {
				add_error(j, line, file_column_of(&j->b, e.field), e.field, e.message);
				rc = 0;
			} else if (action == IO_CREATE) {
				j->created++;
			} else {
				/* an unchanged row still counts as updated: the file and the registry agree */
				j->updated++;
				if (action == IO_UNCHANGED)
					j->unchanged++;
			}
			if (write && j->nerrors == before && action != IO_UNCHANGED) {
				struct io_written w = { .id = "" };
				rc = reg->row_write(j->r, j->ctx, row, action, &w);
				if (rc == 0)
					rc = audit_write(j->r, action == IO_CREATE ? "import_create" : "import_update",
							 reg->entity, w.id, w.before, w.after);
				json_decref(w.before);
				json_decref(w.after);
				if (rc) {
					json_decref(row);
					break;
				}
			}
		}
		if (j->nerrors != before)
			j->bad_rows++;
		json_decref(row);
	}
	json_decref(keys);
	return rc;
}

static json_t *result_json(struct job *j, int dry_run)
{
	json_t *out = json_pack("{s:b,s:b,s:I,s:I,s:I,s:I,s:O}", "dry_run", dry_run, "ok", j->nerrors == 0,
				"total_rows", (json_int_t)(j->t->nrows - 1), "created", (json_int_t)j->created,
				"updated", (json_int_t)j->updated, "unchanged", (json_int_t)j->unchanged, "errors",
				j->errors);
	size_t listed = json_array_size(j->errors);
	if (j->nerrors > listed) {
		json_object_set_new(out, "errors_omitted", json_integer((json_int_t)(j->nerrors - listed)));
		char note[96];
		snprintf(note, sizeof note, "还有 %zu 条错误未列出", j->nerrors - listed);
		json_object_set_new(out, "errors_note", json_string(note));
	}
	return out;
}

/* Parses ?mapping=; replies 400 and returns -1 when it is unusable. */
static int parse_mapping(struct req *r, const struct io_registry *reg, const struct table *t, json_t **out)
{
	*out = NULL;
	const char *s = req_query(r, "mapping");
	if (!s || !*s)
		return 0;
	json_t *m = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	if (!m || !json_is_object(m)) {
		json_decref(m);
		return reply_error(r, 400, "import.bad_mapping", "列映射须为 JSON 对象：{\"表头\":\"字段\"}", "mapping"),
		       -1;
	}
	const char *h;
	json_t *v;
	json_object_foreach(m, h, v) {
		int found = 0;
		for (size_t i = 0; i < t->rows[0].ncells && !found; i++)
			found = strcmp(table_cell(t, 0, i), h) == 0;
		const char *msg = NULL;
		if (!found)
			msg = arena_printf(r->arena, "列映射中的表头“%.100s”不在文件中", h);
		else if (!json_is_null(v) && !(json_is_string(v) && (json_string_length(v) == 0 ||
								     column_of_field(reg, json_string_value(v)))))
			msg = arena_printf(r->arena, "列映射中表头“%.100s”对应的字段不存在", h);
		if (msg) {
			json_decref(m);
			return reply_error(r, 400, "import.bad_mapping", msg, "mapping"), -1;
		}
	}
	*out = m;
	return 0;
}

int io_import(struct req *r, const struct io_registry *reg, void *ctx)
{
	int dry_run = 0;
	const char *dr = req_query(r, "dry_run");
	if (dr && (!strcmp(dr, "1") || !strcmp(dr, "true")))
		dry_run = 1;
	else if (dr && *dr && strcmp(dr, "0") && strcmp(dr, "false"))
		return reply_error(r, 400, "validation.type", "dry_run 须为 1 或 0", "dry_run"), 0;

	struct job j = { .r = r, .reg = reg, .ctx = ctx };
	if (!(j.t = read_body(r)))
		return 0;
	j.csv = table_sniff(r->body, r->body_len) == TABLE_CSV;
	json_t *mapping = NULL;
	if (parse_mapping(r, reg, j.t, &mapping))
		goto out;
	bind_columns(r, reg, j.t, mapping, &j.b);
	json_decref(mapping);

	for (size_t i = 0; i < j.b.ncols; i++)
		if (j.b.dup_of[i]) {
			size_t first = j.b.dup_of[i] - 1;
			reply_error(r, 400, "import.duplicate_column",
				    arena_printf(r->arena, "第 %zu 列“%s”和第 %zu 列“%s”都对应%s，请删除或改名其中一列",
						 first + 1, table_cell(j.t, 0, first), i + 1, table_cell(j.t, 0, i),
						 j.b.col[first]->header),
				    NULL);
			goto out;
		}
	json_t *missing = missing_headers(reg, &j.b);
	if (json_array_size(missing)) {
		struct buf m = BUF_INIT;
		buf_puts(&m, "缺少必填列：");
		size_t k;
		json_t *h;
		json_array_foreach(missing, k, h) {
			if (k)
				buf_puts(&m, "、");
			buf_puts(&m, json_string_value(h));
		}
		reply_error(r, 400, "import.missing_columns", arena_strdup(r->arena, m.data), NULL);
		buf_free(&m);
		json_decref(missing);
		goto out;
	}
	json_decref(missing);
	if (j.t->nrows < 2) {
		reply_error(r, 400, "import.empty_file", "文件中没有数据行", NULL);
		goto out;
	}

	/* pass 1: check everything before the transaction */
	j.errors = json_array();
	int rc = run_pass(&j, 0);
	if (rc) {
		reply_store_error(r, rc, NULL, NULL, NULL);
		goto out;
	}
	if (dry_run) {
		reply_json(r, 200, result_json(&j, 1));
		goto out;
	}
	if (j.nerrors) {
		json_t *body = result_json(&j, 0);
		json_object_set_new(body, "error",
				    json_pack("{s:s,s:s,s:n}", "code", "import.invalid_rows", "message",
					      arena_printf(r->arena, "有 %zu 行数据不合格，未导入任何记录；请按错误列表修改后重新导入",
							   j.bad_rows),
					      "field"));
		reply_json(r, 422, body);
		goto out;
	}

	/* pass 2: the same rows again inside one transaction, writing */
	struct db *db = req_db(r);
	if ((rc = db_begin(db))) {
		reply_store_error(r, rc, NULL, NULL, NULL);
		goto out;
	}
	j.created = j.updated = j.unchanged = j.bad_rows = 0;
	rc = run_pass(&j, 1);
	if (rc == 0 && j.nerrors) {
		/* someone changed the registry between the check and the write */
		db_rollback(db);
		json_t *body = result_json(&j, 0);
		json_object_set_new(body, "error", json_pack("{s:s,s:s,s:n}", "code", "import.changed", "message",
							     "导入期间数据发生了变化，未导入任何记录，请重新导入",
							     "field"));
		reply_json(r, 409, body);
		goto out;
	}
	if (rc || (rc = db_commit(db))) {
		db_rollback(db);
		reply_store_error(r, rc, "import.conflict", "导入时发生数据冲突，未导入任何记录，请重新导入", NULL);
		goto out;
	}
	reply_json(r, 200, result_json(&j, 0));
out:
	json_decref(j.errors);
	table_free(j.t);
	return 0;
}

/*--- export ---*/

struct io_sink {
	const struct io_registry *reg;
	size_t ncols;
	int csv;
	struct buf out;      /* csv: the file so far */
	struct buf text;     /* xlsx: every cell, NUL-terminated, back to back */
	size_t *offs;        /* xlsx: per cell, offset in text or SIZE_MAX for blank */
	size_t noffs, cap;
	size_t nrows;
	int overflow;
};

void io_format_real(double d, char *out, size_t outlen)
{
	if (!isfinite(d)) {
		snprintf(out, outlen, "%s", "");
		return;
	}
	snprintf(out, outlen, "%.7f", d);
	char *dot = strchr(out, '.');
	if (dot) {
		char *e = out + strlen(out) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(out, "-0") == 0)
		snprintf(out, outlen, "%s", "0");
}

/* The text of a record value in a file cell, or NULL for blank. */
static const char *cell_text(json_t *v, char *tmp, size_t tmplen)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(tmp, tmplen, "%" PRId64, (int64_t)json_integer_value(v));
		return tmp;
	}
	if (json_is_real(v)) {
		io_format_real(json_real_value(v), tmp, tmplen);
		return tmp;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "是" : "否";
	return NULL;
}

int io_sink_add(struct io_sink *s, json_t *rec)
{
	if (s->nrows >= TABLE_MAX_ROWS) {
		s->overflow = 1;
		return -1;
	}
	const char **cells = calloc(s->ncols, sizeof *cells);
	char (*tmp)[48] = calloc(s->ncols, sizeof *tmp);
	if (!cells || !tmp)
		abort();
	size_t i = 0;
	for (const struct io_column *c = s->reg->columns; c->header; c++, i++)
		cells[i] = cell_text(json_object_get(rec, c->out_field ? c->out_field : c->field), tmp[i], sizeof tmp[i]);
	if (s->csv) {
		csv_write_row(&s->out, cells, s->ncols);
	} else {
		if (s->noffs + s->ncols > s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64 * s->ncols;
			s->offs = realloc(s->offs, s->cap * sizeof *s->offs);
			if (!s->offs)
				abort();
		}
		for (i = 0; i < s->ncols; i++) {
			if (!cells[i]) {
				s->offs[s->noffs++] = SIZE_MAX;
				continue;
			}
			s->offs[s->noffs++] = s->text.len;
			buf_append(&s->text, cells[i], strlen(cells[i]) + 1);
		}
	}
	free(cells);
	free(tmp);
	s->nrows++;
	return 0;
}

char *io_rfc5987(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	buf_reserve(&b, strlen(s) * 3 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("!#$&+-.^_`|~", c)) {
			buf_putc(&b, (char)c);
		} else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[c >> 4]);
			buf_putc(&b, hex[c & 15]);
		}
	}
	size_t n;
	return buf_detach(&b, &n);
}

static void set_filename(struct req *r, const struct io_registry *reg, const char *ext)
{
	/* the offices' date, China Standard Time (UTC+8, no daylight saving) */
	time_t t = (time_t)(clock_now() + 8 * 3600);
	struct tm tm;
	gmtime_r(&t, &tm);
	char day[16];
	strftime(day, sizeof day, "%Y%m%d", &tm);
	char *utf8 = arena_printf(r->arena, "%s-%s.%s", reg->title, day, ext);
	char *enc = io_rfc5987(utf8);
	reply_header(r, "Content-Disposition",
		     arena_printf(r->arena, "attachment; filename=\"%s-%s.%s\"; filename*=UTF-8''%s", reg->entity, day,
				  ext, enc));
	free(enc);
}

int io_export(struct req *r, const struct io_registry *reg, const char *format, io_produce_fn produce, void *arg)
{
	if (!format || !*format)
		format = "xlsx";
	int csv = strcmp(format, "csv") == 0;
	if (!csv && strcmp(format, "xlsx") != 0)
		return reply_error(r, 400, "validation.enum", "导出格式须为 csv 或 xlsx", "format"), 0;

	struct io_sink s = { .reg = reg, .csv = csv };
	for (const struct io_column *c = reg->columns; c->header; c++)
		s.ncols++;
	const char **header = calloc(s.ncols, sizeof *header);
	char *types = calloc(s.ncols + 1, 1);
	if (!header || !types)
		abort();
	for (size_t i = 0; i < s.ncols; i++) {
		header[i] = reg->columns[i].header;
		types[i] = reg->columns[i].xlsx_type == 'n' ? 'n' : 's';
	}
	if (csv) {
		csv_begin(&s.out);
		csv_write_row(&s.out, header, s.ncols);
	}
	int rc = produce(r, arg, &s);
	if (s.overflow) {
		reply_error(r, 400, "export.too_many",
			    arena_printf(r->arena, "导出记录超过 %d 条，请先筛选再导出", TABLE_MAX_ROWS), NULL);
		goto out;
	}
	if (rc) {
		reply_store_error(r, rc, NULL, NULL, NULL);
		goto out;
	}
	if (csv) {
		size_t len;
		char *data = buf_detach(&s.out, &len);
		reply_take(r, 200, "text/csv; charset=utf-8", data, len);
		set_filename(r, reg, "csv");
		goto out;
	}
	const char **cells = calloc(s.noffs + 1, sizeof *cells);
	if (!cells)
		abort();
	for (size_t i = 0; i < s.noffs; i++)
		cells[i] = s.offs[i] == SIZE_MAX ? NULL : s.text.data + s.offs[i];
	char *data = NULL;
	size_t len = 0;
	const char *tmpdir = r->cfg && r->cfg->data_dir[0] ? r->cfg->data_dir : NULL;
	rc = xlsx_write(reg->title, header, types, s.ncols, cells, s.nrows, tmpdir, &data, &len);
	free(cells);
	if (rc) {
		reply_internal(r, "xlsx_write failed");
		goto out;
	}
	reply_take(r, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, len);
	set_filename(r, reg, "xlsx");
out:
	buf_free(&s.out);
	buf_free(&s.text);
	free(s.offs);
	free(header);
	free(types);
	return 0;
}
