/*
 * test_router.c - route matching (params, 404/405 with Allow, HEAD) and the
 * rule that every state-changing route needs a permission.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/http.h"
#include "core/router.h"
#include "routes.h"

static int h(struct req *r)
{
	(void)r;
	return 0;
}

static const struct route t1[] = {
	{ .method = "GET", .pattern = "/api/things", .handler = h, .perm = "thing.read" },
	{ .method = "POST", .pattern = "/api/things", .handler = h, .perm = "thing.write" },
	{ .method = "GET", .pattern = "/api/things/:id", .handler = h, .perm = "thing.read" },
	{ .method = "DELETE", .pattern = "/api/things/:id", .handler = h, .perm = "thing.delete" },
	{ .method = "POST", .pattern = "/api/things/:id/notes/:note", .handler = h, .perm = "thing.write" },
	{ 0 },
};

static int setup(void **state)
{
	(void)state;
	router_reset();
	router_add(t1);
	return 0;
}

static void test_match_params(void **state)
{
	(void)state;
	char copy[256];
	struct router_result rr;
	assert_int_equal(router_match("GET", "/api/things/42", copy, &rr), ROUTER_FOUND);
	assert_ptr_equal(rr.route, &t1[2]);
	assert_int_equal(rr.nparams, 1);
	assert_true(router_param_is(rr.pname[0], "id"));
	assert_string_equal(rr.pval[0], "42");

	assert_int_equal(router_match("POST", "/api/things/7/notes/abc", copy, &rr), ROUTER_FOUND);
	assert_int_equal(rr.nparams, 2);
	assert_true(router_param_is(rr.pname[1], "note"));
	assert_false(router_param_is(rr.pname[1], "not"));
	assert_string_equal(rr.pval[0], "7");
	assert_string_equal(rr.pval[1], "abc");
}

static void test_404_and_405(void **state)
{
	(void)state;
	char copy[256];
	struct router_result rr;
	assert_int_equal(router_match("GET", "/api/nothing", copy, &rr), ROUTER_NO_PATH);
	assert_int_equal(router_match("GET", "/api/things/", copy, &rr), ROUTER_NO_PATH);   /* empty param */
	assert_int_equal(router_match("GET", "/api/things/1/2", copy, &rr), ROUTER_NO_PATH); /* too long */
	assert_int_equal(router_match("GET", "/api/thing", copy, &rr), ROUTER_NO_PATH);      /* prefix only */
	assert_int_equal(router_match("PUT", "/api/things/1", copy, &rr), ROUTER_NO_METHOD);
	assert_string_equal(rr.allow, "GET, HEAD, DELETE");
	assert_int_equal(router_match("PATCH", "/api/things", copy, &rr), ROUTER_NO_METHOD);
	assert_string_equal(rr.allow, "GET, HEAD, POST");
}

static void test_head_is_get(void **state)
{
	(void)state;
	char copy[256];
	struct router_result rr;
	assert_int_equal(router_match("HEAD", "/api/things", copy, &rr), ROUTER_FOUND);
	assert_ptr_equal(rr.route, &t1[0]);
}

/* Every route of the real tables: a write either needs a permission, or is
 * self-service on the caller's own account (sign-in, password, TOTP), or is
 * public by design. */
static void test_every_write_needs_permission(void **state)
{
	(void)state;
	routes_register();
	size_t n = router_count();
	assert_true(n > 10);
	for (size_t i = 0; i < n; i++) {
		const struct route *r = router_at(i);
		assert_non_null(r->handler);
		assert_true(r->pattern[0] == '/');
		if (strcmp(r->method, "GET") == 0)
			continue;
		int self_service = strncmp(r->pattern, "/api/auth/", 10) == 0;
		if (!r->perm && !self_service) {
			print_error("write route %s %s has no permission\n", r->method, r->pattern);
			fail();
		}
		if ((r->flags & ROUTE_PUBLIC) && strcmp(r->pattern, "/api/auth/login") != 0) {
			print_error("public write route %s %s\n", r->method, r->pattern);
			fail();
		}
	}
	/* and no two routes share a method and pattern */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct route *a = router_at(i), *b = router_at(j);
			if (!strcmp(a->method, b->method) && !strcmp(a->pattern, b->pattern)) {
				print_error("duplicate route %s %s\n", a->method, a->pattern);
				fail();
			}
		}
	router_reset();
	router_add(t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_match_params, setup),
		cmocka_unit_test_setup(test_404_and_405, setup),
		cmocka_unit_test_setup(test_head_is_get, setup),
		cmocka_unit_test(test_every_write_needs_permission),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
