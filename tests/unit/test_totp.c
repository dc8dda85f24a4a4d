/*
 * test_totp.c - unit tests for src/auth/totp.c (two-factor login codes).
 *
 * What a user would notice: the code on their phone is refused, a code
 * from a slightly fast or slow phone is refused, or a code someone read
 * over their shoulder works a second time.
 *
 * Reference values: RFC 6238 Appendix B, SHA-1 rows. The seed there is the
 * ASCII string "12345678901234567890" (base32
 * GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ) and the table prints 8 digits; with 6
 * digits the dynamic-truncation value is taken mod 10^6 instead of 10^8,
 * which is exactly the last 6 of the 8 printed digits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <liboath/oath.h>

#include "auth/totp.h"

#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static const struct {
	int64_t t;
	const char *code;
} rfc6238_sha1[] = {
	{59, "287082"},          /* 94287082 */
	{1111111109, "081804"},  /* 07081804 */
	{1111111111, "050471"},  /* 14050471 */
	{1234567890, "005924"},  /* 89005924 */
	{2000000000, "279037"},  /* 69279037 */
	{20000000000, "353130"}, /* 65353130: past 2038 */
};

#define N_RFC (sizeof(rfc6238_sha1) / sizeof(rfc6238_sha1[0]))

static int setup(void **state)
{
	(void)state;
	return totp_init();
}

static void test_rfc6238_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_RFC; i++) {
		char code[7] = "xxxxxx";
		assert_int_equal(totp_code(RFC_SECRET, rfc6238_sha1[i].t, code), 0);
		assert_string_equal(code, rfc6238_sha1[i].code);

		int64_t step = -5;
		assert_int_equal(totp_verify(RFC_SECRET, rfc6238_sha1[i].code,
					     rfc6238_sha1[i].t, -1, &step), 0);
		assert_int_equal(step, rfc6238_sha1[i].t / 30);
	}
	/* Secrets typed by hand: lower case and spaces decode the same. */
	char code[7];
	assert_int_equal(totp_code("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", 59, code), 0);
	assert_string_equal(code, "287082");
	/* step_out may be NULL. */
	assert_int_equal(totp_verify(RFC_SECRET, "287082", 59, -1, NULL), 0);
}

static void test_window(void **state)
{
	(void)state;
	const int64_t now = 1700000015; /* mid-step */
	const int64_t cur = now / 30;
	char c[7];
	int64_t step;

	/* The current step and one either side are accepted, and report
	 * which step matched. */
	for (int d = -1; d <= 1; d++) {
		assert_int_equal(totp_code(RFC_SECRET, now + 30 * d, c), 0);
		step = -5;
		assert_int_equal(totp_verify(RFC_SECRET, c, now, -1, &step), 0);
		assert_int_equal(step, cur + d);
	}
	/* Two steps either side are refused and leave *step_out alone. */
	for (int d = -2; d <= 2; d += 4) {
		assert_int_equal(totp_code(RFC_SECRET, now + 30 * d, c), 0);
		step = -5;
		assert_int_equal(totp_verify(RFC_SECRET, c, now, -1, &step), -1);
		assert_int_equal(step, -5);
	}
	/* Step edges: the first and last second of the current step. */
	assert_int_equal(totp_code(RFC_SECRET, cur * 30, c), 0);
	assert_int_equal(totp_verify(RFC_SECRET, c, cur * 30 + 29, -1, &step), 0);
	assert_int_equal(step, cur);
	assert_int_equal(totp_verify(RFC_SECRET, c, cur * 30 + 59, -1, &step), 0);
	assert_int_equal(step, cur);
	assert_int_equal(totp_verify(RFC_SECRET, c, cur * 30 + 60, -1, &step), -1);

	/* Near the epoch there is no step -1; the window just shrinks. */
	assert_int_equal(totp_code(RFC_SECRET, 0, c), 0);
	assert_int_equal(totp_verify(RFC_SECRET, c, 5, -1, &step), 0);
	assert_int_equal(step, 0);
}

static void test_replay(void **state)
{
	(void)state;
	const int64_t now = 1700000015;
	const int64_t cur = now / 30;
	char c[7], next[7], prev[7];
	int64_t step = -5;

	assert_int_equal(totp_code(RFC_SECRET, now, c), 0);
	assert_int_equal(totp_verify(RFC_SECRET, c, now, -1, &step), 0);
	assert_int_equal(step, cur);

	/* Same code, same step: refused, even later within the window. */
	int64_t again = -5;
	assert_int_equal(totp_verify(RFC_SECRET, c, now, step, &again), -1);
	assert_int_equal(totp_verify(RFC_SECRET, c, now + 30, step, &again), -1);
	assert_int_equal(again, -5);

	/* An older code still inside the window: refused too. */
	assert_int_equal(totp_code(RFC_SECRET, now - 30, prev), 0);
	assert_int_equal(totp_verify(RFC_SECRET, prev, now, step, &again), -1);

	/* The next step's code is fresh. */
	assert_int_equal(totp_code(RFC_SECRET, now + 30, next), 0);
	assert_int_equal(totp_verify(RFC_SECRET, next, now + 30, step, &again), 0);
	assert_int_equal(again, cur + 1);
}

static void test_malformed_codes(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"28708",      /* too short */
		"2870820",    /* too long */
		"94287082",   /* the 8-digit form */
		"",
		"28708a",
		"28708 ",
		" 287082",
		"287 082",
		"-28708",
		"+287082",
		"２８７０８２", /* full-width digits */
	};
	int64_t step = -5;
	/* Sanity: the right code at this time is 287082. */
	assert_int_equal(totp_verify(RFC_SECRET, "287082", 59, -1, &step), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		step = -5;
		if (totp_verify(RFC_SECRET, bad[i], 59, -1, &step) != -1)
			fail_msg("accepted code \"%s\"", bad[i]);
		assert_int_equal(step, -5);
	}
	assert_int_equal(totp_verify(RFC_SECRET, NULL, 59, -1, &step), -1);
	/* A wrong but well-formed code. */
	assert_int_equal(totp_verify(RFC_SECRET, "287083", 59, -1, &step), -1);
	/* Negative time. */
	char c[7];
	assert_int_equal(totp_verify(RFC_SECRET, "287082", -1, -1, &step), -1);
	assert_int_equal(totp_code(RFC_SECRET, -1, c), -1);
}

static void test_bad_secret(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"not base32!",
		"GEZDGNBV18",       /* 1 and 8 are not base32 */
		"GEZDGNBV====",     /* bad padding */
		"GEZDGNBVGY3TQOJQ", /* valid, but 80 bits: under RFC 4226's 128 */
	};
	char c[7];
	int64_t step;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (totp_code(bad[i], 59, c) != -1)
			fail_msg("made a code from secret \"%s\"", bad[i]);
		assert_string_equal(c, "");
		if (totp_verify(bad[i], "287082", 59, -1, &step) != -1)
			fail_msg("verified with secret \"%s\"", bad[i]);
	}
	assert_int_equal(totp_code(NULL, 59, c), -1);
	assert_int_equal(totp_verify(NULL, "287082", 59, -1, &step), -1);
}

static void test_new_secret(void **state)
{
	(void)state;
	char a[64], b[64];
	assert_int_equal(totp_new_secret(a), 0);
	assert_int_equal(totp_new_secret(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
	assert_string_not_equal(a, b);

	char *raw = NULL;
	size_t rawlen = 0;
	assert_int_equal(oath_base32_decode(a, strlen(a), &raw, &rawlen), OATH_OK);
	assert_int_equal(rawlen, 20);
	free(raw);

	/* A fresh secret works end to end. */
	char c[7];
	int64_t step;
	assert_int_equal(totp_code(a, 1700000000, c), 0);
	assert_int_equal(totp_verify(a, c, 1700000000, -1, &step), 0);
	assert_int_equal(step, 1700000000 / 30);
}

static void test_uri(void **state)
{
	(void)state;
	char *u = totp_uri(RFC_SECRET, "zhang.san");
	assert_non_null(u);
	assert_string_equal(u, "otpauth://totp/Xiaoan:zhang.san?secret=" RFC_SECRET "&issuer=Xiaoan");
	free(u);

	/* UTF-8 byte by byte, and characters that would break the URI. */
	u = totp_uri(RFC_SECRET, "王 小明&x:a/b?c");
	assert_non_null(u);
	assert_string_equal(u, "otpauth://totp/Xiaoan:%E7%8E%8B%20%E5%B0%8F%E6%98%8E%26x%3Aa%2Fb%3Fc"
			       "?secret=" RFC_SECRET "&issuer=Xiaoan");
	free(u);

	assert_null(totp_uri(NULL, "zhang"));
	assert_null(totp_uri(RFC_SECRET, NULL));
	assert_null(totp_uri("", "zhang"));
	assert_null(totp_uri(RFC_SECRET, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_malformed_codes),
		cmocka_unit_test(test_bad_secret),
		cmocka_unit_test(test_new_secret),
		cmocka_unit_test(test_uri),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
