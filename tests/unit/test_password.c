/*
 * test_password.c - unit tests for src/auth/password.c: the password policy
 * users meet when they set a password, argon2id hashing, generated one-time
 * passwords, tokens and SHA-256.
 *
 * Hashing runs at the argon2id minimum cost (as XIAOAN_PW_COST=fast does)
 * except where the test is about the default cost itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/password.h"

#define FAST_OPS 1ULL
#define FAST_MEM ((size_t)8 << 20)

static int setup_fast(void **state)
{
	(void)state;
	if (password_init() != 0)
		return -1;
	password_set_cost(FAST_OPS, FAST_MEM);
	return 0;
}

/* Asserts the policy refuses pw with exactly the message want. */
static void assert_refused(const char *pw, const char *user, const char *want)
{
	const char *why = NULL;
	if (password_policy_check(pw, user, &why) != -1)
		fail_msg("accepted \"%s\"", pw ? pw : "(null)");
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void assert_accepted(const char *pw, const char *user)
{
	const char *why = "unset";
	if (password_policy_check(pw, user, &why) != 0)
		fail_msg("refused \"%s\": %s", pw, why ? why : "(null)");
	assert_null(why);
}

/*--- Policy ----------------------------------------------------------------*/

static void test_policy_length(void **state)
{
	(void)state;
	assert_refused("Abcdefg1!", NULL, "密码至少 10 个字符");     /* 9 */
	assert_accepted("Abcdefgh12", NULL);                         /* 10, 3 classes */
	assert_refused("", NULL, "密码不能为空");
	assert_refused(NULL, NULL, "密码不能为空");

	char pw[PASSWORD_MAX_LEN + 2];
	memset(pw, 'a', sizeof(pw));
	memcpy(pw, "A1", 2);
	pw[PASSWORD_MAX_LEN] = '\0';
	assert_accepted(pw, NULL);                                   /* 128 */
	pw[PASSWORD_MAX_LEN] = 'a';
	pw[PASSWORD_MAX_LEN + 1] = '\0';
	assert_refused(pw, NULL, "密码最多 128 个字符");             /* 129 */

	/* why may be NULL. */
	assert_int_equal(password_policy_check("short", NULL, NULL), -1);
	assert_int_equal(password_policy_check("Abcdefgh12", NULL, NULL), 0);
}

static void test_policy_classes(void **state)
{
	(void)state;
	const char *msg = "密码须包含大写字母、小写字母、数字、符号中的至少三类";
	assert_refused("abcdefghij12", NULL, msg);    /* lower + digit */
	assert_refused("ABCDEFGH!!", NULL, msg);      /* upper + other */
	assert_refused("abcdefghijKLMN", NULL, msg);  /* lower + upper */
	assert_refused("1234567890", NULL, msg);      /* digit only */
	assert_accepted("abcdefgh1!", NULL);          /* lower + digit + other */
	assert_accepted("ABCDEFGH1!", NULL);          /* upper + digit + other */
	assert_accepted("abcdEFGH!!", NULL);          /* lower + upper + other */
	assert_accepted("my pass word 2024", NULL);   /* space is "other" */
}

static void test_policy_cjk(void **state)
{
	(void)state;
	/* 8 code points but 16 bytes: counted as 8, so too short. */
	assert_refused("校安密码Ab12", NULL, "密码至少 10 个字符");
	/* 8 CJK + "ab12" = 12 code points; CJK is the "other" class. */
	assert_accepted("校园安全管理密码ab12", NULL);
	assert_accepted("校园安全管理密码AB12", NULL);
	/* CJK alone, or CJK with one ASCII class, is two classes at most. */
	assert_refused("校园安全管理平台密码", NULL,
		       "密码须包含大写字母、小写字母、数字、符号中的至少三类");
	assert_refused("校园安全abcdef", NULL,
		       "密码须包含大写字母、小写字母、数字、符号中的至少三类");

	/* The upper bound is in code points too: 126 CJK + "a1" = 128 code
	 * points (380 bytes) is accepted, 127 + "a1" is not. */
	char pw[3 * 127 + 3];
	size_t n = 0;
	for (int i = 0; i < 126; i++) {
		memcpy(pw + n, "校", 3);
		n += 3;
	}
	memcpy(pw + n, "a1", 3);
	assert_accepted(pw, NULL);
	memcpy(pw + n, "校a1", 6);
	assert_refused(pw, NULL, "密码最多 128 个字符");
}

static void test_policy_invalid_utf8(void **state)
{
	(void)state;
	const char *msg = "密码包含无效字符";
	assert_refused("Abcdefgh12\xff", NULL, msg);          /* never valid */
	assert_refused("Abcdefgh12\xc0\xaf", NULL, msg);      /* overlong '/' */
	assert_refused("Abcdefgh12\xed\xa0\x80", NULL, msg);  /* surrogate */
	assert_refused("Abcdefgh12\xf4\x90\x80\x80", NULL, msg); /* > U+10FFFF */
	assert_refused("Abcdefgh12\xe6\xa0", NULL, msg);      /* truncated */
	assert_refused("Abcdefgh12\x80", NULL, msg);          /* lone continuation */
	assert_refused("Abcdef\tgh12", NULL, msg);            /* control */
	assert_refused("Abcdefgh12\x7f", NULL, msg);          /* DEL */
	assert_refused("Abcdefgh12\xc2\x85", NULL, msg);      /* C1 NEL */
	/* A 4-byte character is fine. */
	assert_accepted("Abcdefgh1\xf0\x9f\x94\x91", NULL);   /* U+1F511 */
}

static void test_policy_username(void **state)
{
	(void)state;
	const char *msg = "密码不能包含用户名";
	assert_refused("Xx-zhangsan-2024", "zhangsan", msg);
	assert_refused("Xx-ZhangSan-2024", "zhangsan", msg);  /* case-insensitive */
	assert_refused("Xx-zhangsan-2024", "ZHANGSAN", msg);
	assert_refused("ZhangSan2024", "zhangsan", msg);      /* at the start */
	assert_refused("Password!王小明", "王小明", msg);     /* CJK username */
	assert_accepted("Xx-zhangsa-2024", "zhangsan");       /* only a prefix */
	/* Usernames under 3 characters are not checked (they would forbid too
	 * much); 3 is. */
	assert_accepted("abXYZ12!!zz", "ab");
	assert_accepted("Password!王小", "王小");
	assert_refused("abcXYZ12!!zz", "abc", msg);
	assert_accepted("Abcdefgh12", NULL);
	assert_accepted("Abcdefgh12", "");
}

/*--- Hashing ---------------------------------------------------------------*/

static void test_hash_verify(void **state)
{
	(void)state;
	char h1[PASSWORD_HASH_LEN], h2[PASSWORD_HASH_LEN];
	assert_int_equal(password_hash("Correct-Horse-9", h1), 0);
	assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
	assert_non_null(strstr(h1, "m=8192,t=1,"));

	assert_int_equal(password_verify(h1, "Correct-Horse-9"), 0);
	assert_int_equal(password_verify(h1, "correct-Horse-9"), -1);
	assert_int_equal(password_verify(h1, "Correct-Horse-"), -1);
	assert_int_equal(password_verify(h1, ""), -1);
	assert_int_equal(password_verify(h1, NULL), -1);

	/* Same password, fresh salt: different strings, both verify. */
	assert_int_equal(password_hash("Correct-Horse-9", h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(password_verify(h2, "Correct-Horse-9"), 0);

	/* CJK passwords hash by their UTF-8 bytes. */
	assert_int_equal(password_hash("校园安全管理密码ab12", h2), 0);
	assert_int_equal(password_verify(h2, "校园安全管理密码ab12"), 0);
	assert_int_equal(password_verify(h2, "校园安全管理密码ab13"), -1);

	assert_int_equal(password_hash(NULL, h2), -1);
}

static void test_verify_malformed(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_LEN];
	assert_int_equal(password_hash("Correct-Horse-9", h), 0);

	assert_int_equal(password_verify(NULL, "Correct-Horse-9"), -1);
	assert_int_equal(password_verify("", "Correct-Horse-9"), -1);
	assert_int_equal(password_verify("garbage", "Correct-Horse-9"), -1);
	assert_int_equal(password_verify("$argon2id$v=19$m=8192,t=1,p=1$bad", "Correct-Horse-9"), -1);
	assert_int_equal(password_verify("Correct-Horse-9", "Correct-Horse-9"), -1);

	/* Truncated hash. */
	char t[PASSWORD_HASH_LEN];
	memcpy(t, h, sizeof(t));
	t[strlen(t) - 5] = '\0';
	assert_int_equal(password_verify(t, "Correct-Horse-9"), -1);

	/* One character in the middle of the digest changed (not the last,
	 * whose low bits are base64 padding). */
	memcpy(t, h, sizeof(t));
	size_t mid = strlen(t) - 10;
	t[mid] = t[mid] == 'A' ? 'B' : 'A';
	assert_int_equal(password_verify(t, "Correct-Horse-9"), -1);

	/* Longer than any hash, without a NUL in the first 128 bytes. */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(password_verify(big, "Correct-Horse-9"), -1);
	assert_int_equal(password_needs_rehash(big), -1);
}

static void test_needs_rehash(void **state)
{
	(void)state;
	char fast[PASSWORD_HASH_LEN], dflt[PASSWORD_HASH_LEN];
	assert_int_equal(password_hash("Correct-Horse-9", fast), 0);
	assert_int_equal(password_needs_rehash(fast), 0);

	/* Back to the default cost: the fast hash is now stale. */
	password_set_cost(crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
	assert_int_equal(password_needs_rehash(fast), 1);
	assert_int_equal(password_hash("Correct-Horse-9", dflt), 0);
	assert_non_null(strstr(dflt, "m=65536,t=2,"));
	assert_int_equal(password_needs_rehash(dflt), 0);
	assert_int_equal(password_verify(dflt, "Correct-Horse-9"), 0);
	/* An old hash still verifies at its own cost. */
	assert_int_equal(password_verify(fast, "Correct-Horse-9"), 0);

	assert_int_equal(password_needs_rehash(NULL), -1);
	assert_int_equal(password_needs_rehash("garbage"), -1);

	/* Below-minimum values are clamped rather than breaking hashing. */
	password_set_cost(0, 0);
	assert_int_equal(password_hash("Correct-Horse-9", fast), 0);
	assert_non_null(strstr(fast, "t=1,"));

	password_set_cost(FAST_OPS, FAST_MEM);
}

static void test_init_env_fast(void **state)
{
	(void)state;
	char h[PASSWORD_HASH_LEN];
	password_set_cost(crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);

	/* Any other value leaves the cost alone. */
	assert_int_equal(setenv("XIAOAN_PW_COST", "slow", 1), 0);
	assert_int_equal(password_init(), 0);
	assert_int_equal(password_hash("Correct-Horse-9", h), 0);
	assert_non_null(strstr(h, "m=65536,t=2,"));

	assert_int_equal(setenv("XIAOAN_PW_COST", "fast", 1), 0);
	assert_int_equal(password_init(), 0);
	assert_int_equal(password_hash("Correct-Horse-9", h), 0);
	assert_non_null(strstr(h, "m=8192,t=1,"));
	assert_int_equal(unsetenv("XIAOAN_PW_COST"), 0);
}

/*--- Generated passwords, tokens, digests ----------------------------------*/

static void test_generate(void **state)
{
	(void)state;
	char prev[17] = "";
	for (int i = 0; i < 1000; i++) {
		char pw[17];
		memset(pw, 0x55, sizeof(pw));
		password_generate(pw);
		assert_int_equal(strlen(pw), 16);
		assert_null(strpbrk(pw, "0Oo1lI"));
		int lower = 0, upper = 0, digit = 0, sym = 0;
		for (int k = 0; k < 16; k++) {
			char c = pw[k];
			if (c >= 'a' && c <= 'z')
				lower = 1;
			else if (c >= 'A' && c <= 'Z')
				upper = 1;
			else if (c >= '2' && c <= '9')
				digit = 1;
			else if (strchr("-_!@#%+=", c))
				sym = 1;
			else
				fail_msg("unexpected character 0x%02x in %s", (unsigned char)c, pw);
		}
		assert_true(lower && upper && digit && sym);
		const char *why = NULL;
		if (password_policy_check(pw, NULL, &why) != 0)
			fail_msg("generated \"%s\" refused: %s", pw, why);
		assert_string_not_equal(pw, prev);
		memcpy(prev, pw, sizeof(prev));
	}
}

static void test_secure_eq(void **state)
{
	(void)state;
	assert_int_equal(secure_eq("abcdef", "abcdef"), 1);
	assert_int_equal(secure_eq("abcdef", "abcdeg"), 0);
	assert_int_equal(secure_eq("abcdef", "abcde"), 0);
	assert_int_equal(secure_eq("abcde", "abcdef"), 0);
	assert_int_equal(secure_eq("", ""), 1);
	assert_int_equal(secure_eq("", "a"), 0);
	assert_int_equal(secure_eq(NULL, "a"), 0);
	assert_int_equal(secure_eq("a", NULL), 0);
	assert_int_equal(secure_eq(NULL, NULL), 0);
}

static void test_token_random(void **state)
{
	(void)state;
	char a[48], b[48];
	token_random(a);
	token_random(b);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(strlen(b), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);

	unsigned char raw[64];
	size_t rawlen = 0;
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), a, strlen(a), NULL, &rawlen, NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	assert_int_equal(rawlen, 32);
}

static void test_sha256_hex(void **state)
{
	(void)state;
	char out[65];
	/* FIPS 180-2, Appendix B.1 and B.2. */
	sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(m2, strlen(m2), out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* The empty message. */
	sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_length),
		cmocka_unit_test(test_policy_classes),
		cmocka_unit_test(test_policy_cjk),
		cmocka_unit_test(test_policy_invalid_utf8),
		cmocka_unit_test(test_policy_username),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_init_env_fast),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_secure_eq),
		cmocka_unit_test(test_token_random),
		cmocka_unit_test(test_sha256_hex),
	};
	return cmocka_run_group_tests(tests, setup_fast, NULL);
}
