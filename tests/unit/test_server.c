/*
 * test_server.c - which peers may speak for a client (trusted_proxies).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/server.h"

static void test_trusted_proxies(void **state)
{
	(void)state;
	const char *list = "10.0.1.10, 10.0.1.11 ,fd00::1";
	assert_true(server_proxy_listed(list, "10.0.1.10"));
	assert_true(server_proxy_listed(list, "10.0.1.11"));
	assert_true(server_proxy_listed(list, "fd00::1"));
	assert_false(server_proxy_listed(list, "10.0.1.1"));   /* a prefix of a listed address */
	assert_false(server_proxy_listed(list, "10.0.1.100")); /* a listed address is a prefix of it */
	assert_false(server_proxy_listed(list, "0.1.10"));
	assert_false(server_proxy_listed("", "10.0.1.10"));
	assert_false(server_proxy_listed(list, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_trusted_proxies) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
