/*
 * test_importer.c - the shared import/export engine as an office sees it,
 * through a small made-up registry (物品名录): headers matched however the
 * office typed them, every bad row reported with its line and header and
 * nothing written, an all-good file written in one go with one audit entry
 * per row, a re-import of an unchanged file changing nothing, and an export
 * that reads back as the same table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/http.h"
#include "io/importer.h"
#include "io/table.h"
#include "store/store.h"

/*--- a made-up registry: things with a name, a code and a quantity ---*/

static const struct vfield thing_fields[] = {
	{ .name = "name", .label = "名称", .type = V_STR, .required = 1, .max_len = 20 },
	{ .name = "code", .label = "编号", .type = V_STR, .required = 1, .check = vcheck_code, .check_msg = "格式不正确" },
	{ .name = "qty", .label = "数量", .type = V_INT, .nullable = 1, .min = 0, .max = 100 },
	{ 0 },
};

static const struct io_column thing_columns[] = {
	{ .header = "名称", .aliases = "品名|物品名称", .field = "name" },
	{ .header = "编号（代码）", .field = "code" },
	{ .header = "数量", .field = "qty", .xlsx_type = 'n' },
	{ 0 },
};

/* ctx: code → {"name","qty"}, the registry's "table" */
static int thing_resolve(struct req *r, void *ctx, json_t *row, enum io_action *action, struct verr *e)
{
	(void)r;
	const char *code = json_string_value(json_object_get(row, "code"));
	if (strcmp(code, "taken") == 0) {
		e->code = "thing.taken";
		e->field = "code";
		snprintf(e->message, sizeof e->message, "编号已被管辖范围外的物品使用");
		return 1;
	}
	json_t *have = json_object_get(ctx, code);
	if (!have)
		*action = IO_CREATE;
	else
		*action = json_equal(json_object_get(have, "name"), json_object_get(row, "name")) &&
					  json_equal(json_object_get(have, "qty"), json_object_get(row, "qty"))
				  ? IO_UNCHANGED
				  : IO_UPDATE;
	return 0;
}

static int thing_write(struct req *r, void *ctx, json_t *row, enum io_action action, struct io_written *w)
{
	(void)r;
	const char *code = json_string_value(json_object_get(row, "code"));
	if (action == IO_UPDATE)
		w->before = json_deep_copy(json_object_get(ctx, code));
	json_object_set_new(ctx, code, json_pack("{s:O,s:O}", "name", json_object_get(row, "name"), "qty",
						 json_object_get(row, "qty")));
	w->after = json_deep_copy(row);
	snprintf(w->id, sizeof w->id, "%s", code);
	return 0;
}

static const struct io_registry things = {
	.entity = "thing",
	.title = "物品名录",
	.columns = thing_columns,
	.fields = thing_fields,
	.key_field = "code",
	.row_resolve = thing_resolve,
	.row_write = thing_write,
};

/*--- a request without a connection: no query string, so imports commit ---*/

struct fx {
	char path[256];
	struct store *st;
	struct principal user;
	struct req r;
	json_t *things;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_true(sodium_init() >= 0);
	snprintf(f->path, sizeof f->path, "/tmp/xiaoan-test-importer-%d-%ld.db", getpid(), random());
	char err[256];
	f->st = store_open(f->path, 2, err, sizeof err);
	assert_non_null(f->st);
	int applied;
	assert_int_equal(store_migrate(f->st, &applied, err, sizeof err), 0);
	f->user = (struct principal){ .user_id = 1, .username = "tester", .scope_kind = "all", .scope_value = "",
				      .scope_path = "", .perms = " ", .roles = " " };
	f->r.arena = arena_new();
	f->r.store = f->st;
	f->r.user = &f->user;
	f->r.client_ip = "127.0.0.1";
	f->r.request_id = "test";
	f->things = json_object();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->r.resp_body);
	if (f->r.db)
		store_release(f->r.db);
	arena_free(f->r.arena);
	store_close(f->st);
	json_decref(f->things);
	char p[300];
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* Sends body to fn and returns the answer's JSON (new reference); the
 * status goes to *status. */
static json_t *call(struct fx *f, int (*fn)(struct req *, const struct io_registry *, void *), const char *body,
		    int *status)
{
	free(f->r.resp_body);
	f->r.resp_body = NULL;
	f->r.status = 0;
	f->r.nheaders = 0;
	f->r.body = body;
	f->r.body_len = strlen(body);
	fn(&f->r, &things, f->things);
	*status = f->r.status;
	json_t *j = json_loadb(f->r.resp_body, f->r.resp_len, 0, NULL);
	assert_non_null(j);
	return j;
}

static int import_fn(struct req *r, const struct io_registry *reg, void *ctx)
{
	return io_import(r, reg, ctx);
}

static int preview_fn(struct req *r, const struct io_registry *reg, void *ctx)
{
	(void)ctx;
	return io_preview(r, reg);
}

static int64_t audit_count(struct fx *f)
{
	int64_t n = -1;
	assert_int_equal(db_query_int64(req_db(&f->r), &n, "SELECT count(*) FROM audit WHERE entity = $1", 1, "thing"), 0);
	return n;
}

static void assert_error(json_t *errors, size_t i, int row, const char *column, const char *field, const char *part)
{
	json_t *e = json_array_get(errors, i);
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "row")), row);
	assert_string_equal(json_string_value(json_object_get(e, "column")), column);
	assert_string_equal(json_string_value(json_object_get(e, "field")), field);
	const char *m = json_string_value(json_object_get(e, "message"));
	if (!m || !strstr(m, part))
		fail_msg("message \"%s\" lacks \"%s\"", m ? m : "(null)", part);
}

/*--- header matching ---*/

static void test_header_norm(void **state)
{
	(void)state;
	char out[64];
	io_header_norm("＊学校名称 ", out, sizeof out);
	assert_string_equal(out, "学校名称");
	io_header_norm("所属乡镇（街道）", out, sizeof out);
	assert_string_equal(out, "所属乡镇(街道)");
	io_header_norm("*  Code\u3000【A】\n", out, sizeof out);
	assert_string_equal(out, "code(a)");
	io_header_norm("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

static void test_match_header(void **state)
{
	(void)state;
	assert_ptr_equal(io_match_header(&things, "名称"), &thing_columns[0]);
	assert_ptr_equal(io_match_header(&things, "品名"), &thing_columns[0]);
	assert_ptr_equal(io_match_header(&things, " 物品名称 *"), &thing_columns[0]);
	assert_ptr_equal(io_match_header(&things, "编号(代码)"), &thing_columns[1]);
	assert_ptr_equal(io_match_header(&things, "编号 （代码）"), &thing_columns[1]);
	assert_null(io_match_header(&things, "编号"));
	assert_null(io_match_header(&things, "备注"));
	assert_null(io_match_header(&things, ""));
	assert_null(io_match_header(&things, " * "));
}

static void test_filename_and_numbers(void **state)
{
	(void)state;
	char *s = io_rfc5987("学校名录-20250101.xlsx");
	assert_string_equal(s, "%E5%AD%A6%E6%A0%A1%E5%90%8D%E5%BD%95-20250101.xlsx");
	free(s);
	s = io_rfc5987("a b\";%");
	assert_string_equal(s, "a%20b%22%3B%25");
	free(s);
	char out[48];
	io_format_real(117.0445984, out, sizeof out);
	assert_string_equal(out, "117.0445984");
	io_format_real(30.5, out, sizeof out);
	assert_string_equal(out, "30.5");
	io_format_real(12.0, out, sizeof out);
	assert_string_equal(out, "12");
	io_format_real(-0.00000001, out, sizeof out);
	assert_string_equal(out, "0");
}

/*--- import ---*/

static void test_preview(void **state)
{
	struct fx *f = *state;
	int status;
	json_t *j = call(f, preview_fn, "品名,数量,备注\nA,1,x\nB,2,y\n", &status);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "total_rows")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "mapping"), "品名")), "name");
	assert_true(json_is_null(json_object_get(json_object_get(j, "mapping"), "备注")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "unknown"), 0)), "备注");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "missing"), 0)), "编号（代码）");
	assert_int_equal(json_array_size(json_object_get(j, "rows")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "fields")), 3);
	json_decref(j);
}

static void test_bad_rows_write_nothing(void **state)
{
	struct fx *f = *state;
	int status;
	/* line 3 is blank: line numbers are the file's, not the row index */
	json_t *j = call(f, import_fn,
			 "名称,编号(代码),数量\n"
			 "甲,a1,1\n"
			 "\n"
			 "乙,b 2,101\n"
			 "丙,a1,3\n"
			 "丁,taken,1\n"
			 "戊,e5,5\n",
			 &status);
	assert_int_equal(status, 422);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
			    "import.invalid_rows");
	json_t *errors = json_object_get(j, "errors");
	assert_int_equal(json_array_size(errors), 4);
	assert_error(errors, 0, 4, "编号(代码)", "code", "编号格式不正确");
	assert_error(errors, 1, 4, "数量", "qty", "0 到 100");
	assert_error(errors, 2, 5, "编号(代码)", "code", "与第 2 行重复");
	assert_error(errors, 3, 6, "编号(代码)", "code", "管辖范围外");
	assert_int_equal(json_object_size(f->things), 0);
	assert_int_equal(audit_count(f), 0);
	json_decref(j);
}

static void test_missing_and_duplicate_columns(void **state)
{
	struct fx *f = *state;
	int status;
	json_t *j = call(f, import_fn, "名称,数量\n甲,1\n", &status);
	assert_int_equal(status, 400);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "import.missing_columns");
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "编号（代码）"));
	json_decref(j);

	j = call(f, import_fn, "名称,品名,编号（代码）\n甲,乙,a1\n", &status);
	assert_int_equal(status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
			    "import.duplicate_column");
	json_decref(j);

	j = call(f, import_fn, "名称,编号（代码）\n", &status);
	assert_int_equal(status, 400);
	json_decref(j);
	assert_int_equal(json_object_size(f->things), 0);
}

static void test_commit_then_unchanged(void **state)
{
	struct fx *f = *state;
	int status;
	const char *file = "\xEF\xBB\xBF品名,编号（代码）,数量,备注\n甲,a1,1,x\n乙,b2,,y\n";
	json_t *j = call(f, import_fn, file, &status);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "updated")), 0);
	json_decref(j);
	assert_int_equal(json_object_size(f->things), 2);
	assert_true(json_is_null(json_object_get(json_object_get(f->things, "b2"), "qty")));
	assert_int_equal(audit_count(f), 2);

	/* the same file again: everything matched, nothing written */
	j = call(f, import_fn, file, &status);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "updated")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "unchanged")), 2);
	json_decref(j);
	assert_int_equal(audit_count(f), 2);

	/* one row changed: one update, one audit entry */
	j = call(f, import_fn, "名称,编号（代码）,数量\n甲,a1,7\n乙,b2,\n", &status);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "unchanged")), 1);
	json_decref(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(f->things, "a1"), "qty")), 7);
	assert_int_equal(audit_count(f), 3);
}

static void test_error_cap(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;
	buf_puts(&b, "名称,编号（代码）\n");
	for (int i = 0; i < IO_MAX_ERRORS + 5; i++)
		buf_printf(&b, "甲,bad code %d\n", i);
	int status;
	json_t *j = call(f, import_fn, b.data, &status);
	buf_free(&b);
	assert_int_equal(status, 422);
	assert_int_equal(json_array_size(json_object_get(j, "errors")), IO_MAX_ERRORS);
	assert_int_equal(json_integer_value(json_object_get(j, "errors_omitted")), 5);
	assert_string_equal(json_string_value(json_object_get(j, "errors_note")), "还有 5 条错误未列出");
	json_decref(j);
}

/*--- export ---*/

static int produce(struct req *r, void *arg, struct io_sink *s)
{
	(void)r;
	(void)arg;
	json_t *a = json_pack("{s:s,s:s,s:i}", "name", "=SUM(A1)", "code", "a1", "qty", 3);
	json_t *b = json_pack("{s:s,s:s,s:n}", "name", "乙, \"引号\"", "code", "b2", "qty");
	int rc = io_sink_add(s, a) || io_sink_add(s, b);
	json_decref(a);
	json_decref(b);
	return rc;
}

static const char *header_of(struct req *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcmp(r->hname[i], name) == 0)
			return r->hval[i];
	return NULL;
}

static void test_export_csv_and_xlsx(void **state)
{
	struct fx *f = *state;
	struct req *r = &f->r;
	io_export(r, &things, "csv", produce, NULL);
	assert_int_equal(r->status, 200);
	const char *want = "\xEF\xBB\xBF名称,编号（代码）,数量\r\n'=SUM(A1),a1,3\r\n\"乙, \"\"引号\"\"\",b2,\r\n";
	assert_int_equal(r->resp_len, strlen(want));
	assert_memory_equal(r->resp_body, want, strlen(want));
	const char *cd = header_of(r, "Content-Disposition");
	assert_non_null(cd);
	assert_non_null(strstr(cd, "filename=\"thing-"));
	assert_non_null(strstr(cd, "filename*=UTF-8''%E7%89%A9%E5%93%81%E5%90%8D%E5%BD%95-"));

	/* the CSV comes back as the same rows, formula guard undone */
	char *csv = strndup(r->resp_body, r->resp_len);
	int status;
	json_t *j = call(f, import_fn, csv, &status);
	free(csv);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 2);
	json_decref(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f->things, "a1"), "name")), "=SUM(A1)");

	free(r->resp_body);
	r->resp_body = NULL;
	r->status = 0;
	r->nheaders = 0;
	io_export(r, &things, "xlsx", produce, NULL);
	assert_int_equal(r->status, 200);
	struct table *t = NULL;
	struct table_error err;
	assert_int_equal(table_sniff(r->resp_body, r->resp_len), TABLE_XLSX);
	assert_int_equal(table_read(r->resp_body, r->resp_len, TABLE_XLSX, &t, &err), 0);
	assert_int_equal(t->nrows, 3);
	assert_string_equal(table_cell(t, 0, 1), "编号（代码）");
	assert_string_equal(table_cell(t, 1, 0), "=SUM(A1)");
	assert_string_equal(table_cell(t, 1, 2), "3");
	assert_string_equal(table_cell(t, 2, 0), "乙, \"引号\"");
	assert_string_equal(table_cell(t, 2, 2), "");
	table_free(t);

	free(r->resp_body);
	r->resp_body = NULL;
	r->status = 0;
	io_export(r, &things, "pdf", produce, NULL);
	assert_int_equal(r->status, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_norm),
		cmocka_unit_test(test_match_header),
		cmocka_unit_test(test_filename_and_numbers),
		cmocka_unit_test_setup_teardown(test_preview, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows_write_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_duplicate_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_then_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_csv_and_xlsx, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
