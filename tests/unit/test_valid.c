/*
 * test_valid.c - field validation: what a user typing into a form or an
 * Excel sheet gets refused, and with which message and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/valid.h"

static const char *const stages[] = { "小学", "初中", NULL };

static const struct vfield fields[] = {
	{ .name = "name", .label = "学校名称", .type = V_STR, .required = 1, .max_len = 5 },
	{ .name = "code", .label = "学校标识码", .type = V_STR, .required = 1, .check = vcheck_digits10,
	  .check_msg = "须为 10 位数字" },
	{ .name = "stage", .label = "学段", .type = V_ENUM, .enum_vals = stages },
	{ .name = "phone", .label = "电话", .type = V_STR, .nullable = 1, .check = vcheck_phone, .check_msg = "格式不正确" },
	{ .name = "count", .label = "人数", .type = V_INT, .min = 0, .max = 100 },
	{ .name = "lat", .label = "纬度", .type = V_NUM, .dmin = -90, .dmax = 90 },
	{ .name = "boarding", .label = "是否寄宿", .type = V_BOOL },
	{ .name = "notes", .label = "备注", .type = V_STR, .multiline = 1 },
	{ 0 },
};

static int check(const char *json, int partial, struct verr *e)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	assert_non_null(j);
	int rc = valid_json(j, fields, partial, e);
	json_decref(j);
	return rc;
}

static void expect_fail(const char *json, int partial, const char *code, const char *field)
{
	struct verr e;
	assert_int_equal(check(json, partial, &e), -1);
	assert_string_equal(e.code, code);
	if (field)
		assert_string_equal(e.field, field);
	assert_true(strlen(e.message) > 0);
}

static void test_good_object(void **state)
{
	(void)state;
	struct verr e;
	assert_int_equal(check("{\"name\":\"一中\",\"code\":\"3408990001\",\"stage\":\"小学\",\"count\":12,"
			       "\"lat\":30.5,\"boarding\":true,\"phone\":\"0556-5123456\",\"notes\":\"a\\nb\"}",
			       0, &e),
			 0);
	assert_int_equal(check("{\"phone\":null}", 1, &e), 0); /* clearing an optional field */
}

static void test_refusals(void **state)
{
	(void)state;
	expect_fail("{\"code\":\"3408990001\"}", 0, "validation.required", "name");
	expect_fail("{\"name\":\"\",\"code\":\"3408990001\"}", 0, "validation.required", "name");
	expect_fail("{\"name\":\"   \",\"code\":\"3408990001\"}", 0, "validation.required", "name");
	expect_fail("{\"name\":\"\u3000\u3000\",\"code\":\"3408990001\"}", 0, "validation.required", "name");
	expect_fail("{\"name\":\"一二三四五六\",\"code\":\"3408990001\"}", 0, "validation.too_long", "name");
	expect_fail("{\"name\":\"一中\",\"code\":\"340899000\"}", 0, "validation.format", "code");
	expect_fail("{\"name\":\"一中\",\"code\":\"3408990001\",\"extra\":1}", 0, "validation.unknown_field", "extra");
	expect_fail("{\"stage\":\"大学\"}", 1, "validation.enum", "stage");
	expect_fail("{\"count\":\"12\"}", 1, "validation.type", "count");
	expect_fail("{\"count\":101}", 1, "validation.range", "count");
	expect_fail("{\"count\":1.5}", 1, "validation.type", "count");
	expect_fail("{\"lat\":91}", 1, "validation.range", "lat");
	expect_fail("{\"boarding\":\"是\"}", 1, "validation.type", "boarding");
	expect_fail("{\"name\":\"a\\u0001b\"}", 1, "validation.control_char", "name");
	expect_fail("{\"name\":\"a\\nb\"}", 1, "validation.control_char", "name");
	expect_fail("{\"name\":null}", 1, "validation.required", "name");
	/* the message names the field in Chinese */
	struct verr e;
	check("{\"count\":101}", 1, &e);
	assert_non_null(strstr(e.message, "人数"));
	assert_non_null(strstr(e.message, "0 到 100"));
}

static void test_phone_formats(void **state)
{
	(void)state;
	assert_true(vcheck_phone("13912345678"));
	assert_true(vcheck_phone("0556-5123456"));
	assert_true(vcheck_phone("010-12345678"));
	assert_true(vcheck_phone("05565123456"));
	assert_true(vcheck_phone("0556-5123456-801"));
	assert_false(vcheck_phone("12912345678"));   /* no such mobile prefix */
	assert_false(vcheck_phone("1391234567"));    /* 10 digits */
	assert_false(vcheck_phone("139123456789"));  /* 12 digits */
	assert_false(vcheck_phone("5565123456"));    /* landline without 0 */
	assert_false(vcheck_phone("0556-512345"));   /* 6-digit local */
	assert_false(vcheck_phone("0556-5123456-")); /* dangling extension */
	assert_false(vcheck_phone("+8613912345678"));
	assert_false(vcheck_phone("139 1234 5678"));
}

static void test_cells_from_excel(void **state)
{
	(void)state;
	struct verr e;
	json_t *v;
	assert_int_equal(valid_cell(valid_find(fields, "count"), "12.0", &v, &e), 0);
	assert_int_equal(json_integer_value(v), 12);
	json_decref(v);
	assert_int_equal(valid_cell(valid_find(fields, "count"), "12.5", &v, &e), -1);
	assert_string_equal(e.code, "validation.type");
	assert_int_equal(valid_cell(valid_find(fields, "boarding"), "是", &v, &e), 0);
	assert_true(json_is_true(v));
	json_decref(v);
	assert_int_equal(valid_cell(valid_find(fields, "boarding"), "否", &v, &e), 0);
	assert_true(json_is_false(v));
	json_decref(v);
	assert_int_equal(valid_cell(valid_find(fields, "boarding"), "maybe", &v, &e), -1);
	assert_int_equal(valid_cell(valid_find(fields, "name"), "  一中 ", &v, &e), 0);
	assert_string_equal(json_string_value(v), "一中");
	json_decref(v);
	assert_int_equal(valid_cell(valid_find(fields, "name"), "   ", &v, &e), -1);
	assert_string_equal(e.code, "validation.required");
	assert_int_equal(valid_cell(valid_find(fields, "phone"), "", &v, &e), 0);
	assert_true(json_is_null(v));
	json_decref(v);
	assert_int_equal(valid_cell(valid_find(fields, "lat"), "abc", &v, &e), -1);
	assert_int_equal(valid_cell(valid_find(fields, "lat"), "nan", &v, &e), -1);
	assert_int_equal(valid_cell(valid_find(fields, "stage"), "高中", &v, &e), -1);
	assert_string_equal(e.code, "validation.enum");
}

static void test_utf8_chars(void **state)
{
	(void)state;
	assert_int_equal(utf8_chars("abc"), 3);
	assert_int_equal(utf8_chars("学校"), 2);
	assert_int_equal(utf8_chars(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_object),     cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_phone_formats),   cmocka_unit_test(test_cells_from_excel),
		cmocka_unit_test(test_utf8_chars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
