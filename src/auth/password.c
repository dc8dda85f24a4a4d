/*
 * password.c - password policy (密码策略), argon2id hashing and small secret
 * helpers, all on libsodium.
 *
 * The policy counts Unicode code points, not bytes, so a passphrase in
 * Chinese is measured the way the user typed it, and anything that is not
 * an ASCII letter or digit (punctuation, CJK, ...) counts as the "other"
 * class. Invalid UTF-8 and control characters are refused outright: they
 * cannot be typed on a login form, so they only arrive from broken clients
 * or attacks, and would make the same password hash differently later.
 */
#include "auth/password.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

_Static_assert(PASSWORD_HASH_LEN == crypto_pwhash_STRBYTES,
	       "password_hash() buffer must match libsodium");
_Static_assert(sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= 48,
	       "token_random() buffer too small");

/*--- Cost ------------------------------------------------------------------*/

/* Set before threads start (password_init / password_set_cost), read-only
 * afterwards. */
static unsigned long long pw_opslimit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
static size_t pw_memlimit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;

/* XIAOAN_PW_COST=fast: the argon2id minimum time cost and 8 MiB. */
#define PW_FAST_OPS 1ULL
#define PW_FAST_MEM ((size_t)8 << 20)

void password_set_cost(unsigned long long ops, size_t mem)
{
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN)
		ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
	if (ops > crypto_pwhash_argon2id_OPSLIMIT_MAX)
		ops = crypto_pwhash_argon2id_OPSLIMIT_MAX;
	if (mem < crypto_pwhash_argon2id_MEMLIMIT_MIN)
		mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
	if (mem > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		mem = crypto_pwhash_argon2id_MEMLIMIT_MAX;
	pw_opslimit = ops;
	pw_memlimit = mem;
}

int password_init(void)
{
	if (sodium_init() < 0)
		return -1;
	const char *cost = getenv("XIAOAN_PW_COST");
	if (cost && strcmp(cost, "fast") == 0)
		password_set_cost(PW_FAST_OPS, PW_FAST_MEM);
	return 0;
}

/*--- Policy ----------------------------------------------------------------*/

static const char msg_empty[] = "密码不能为空";
static const char msg_invalid[] = "密码包含无效字符";
static const char msg_short[] = "密码至少 10 个字符";
static const char msg_long[] = "密码最多 128 个字符";
static const char msg_classes[] = "密码须包含大写字母、小写字母、数字、符号中的至少三类";
static const char msg_username[] = "密码不能包含用户名";

_Static_assert(PASSWORD_MIN_LEN == 10 && PASSWORD_MAX_LEN == 128,
	       "update the length messages with the limits");

/* Decodes one UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). Returns its length in bytes and stores the code
 * point in *cp, or returns 0 for an invalid sequence. s is NUL-terminated,
 * so a truncated sequence stops at the NUL, which is not a continuation. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t n;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		min = 0x80;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		min = 0x800;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* C0 controls, DEL and C1 controls. */
static int is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether needle occurs in hay, folding ASCII case only. Bytes of
 * multi-byte UTF-8 sequences compare exactly, which is correct because a
 * valid sequence can only match at a sequence boundary. */
static int contains_ascii_ci(const char *hay, const char *needle)
{
	size_t nh = strlen(hay), nn = strlen(needle);
	if (nn > nh)
		return 0;
	for (size_t i = 0; i + nn <= nh; i++) {
		size_t k = 0;
		while (k < nn && ascii_lower((unsigned char)hay[i + k]) ==
					 ascii_lower((unsigned char)needle[k]))
			k++;
		if (k == nn)
			return 1;
	}
	return 0;
}

/* Code points in a string, counting every byte that does not continue a
 * sequence; used for the username, which the policy does not validate. */
static size_t count_code_points(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			n++;
	return n;
}

int password_policy_check(const char *pw, const char *username, const char **why)
{
	const char *reason = NULL;
	size_t len = 0;
	int has_lower = 0, has_upper = 0, has_digit = 0, has_other = 0;

	if (!pw || !*pw) {
		reason = msg_empty;
		goto out;
	}
	for (const unsigned char *p = (const unsigned char *)pw; *p;) {
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);
		if (n == 0 || is_control(cp)) {
			reason = msg_invalid;
			goto out;
		}
		if (cp >= 'a' && cp <= 'z')
			has_lower = 1;
		else if (cp >= 'A' && cp <= 'Z')
			has_upper = 1;
		else if (cp >= '0' && cp <= '9')
			has_digit = 1;
		else
			has_other = 1;
		len++;
		p += n;
	}
	if (len < PASSWORD_MIN_LEN) {
		reason = msg_short;
		goto out;
	}
	if (len > PASSWORD_MAX_LEN) {
		reason = msg_long;
		goto out;
	}
	if (has_lower + has_upper + has_digit + has_other < 3) {
		reason = msg_classes;
		goto out;
	}
	if (username && count_code_points(username) >= 3 &&
	    contains_ascii_ci(pw, username)) {
		reason = msg_username;
		goto out;
	}

out:
	if (why)
		*why = reason;
	return reason ? -1 : 0;
}

/*--- Hashing ---------------------------------------------------------------*/

int password_hash(const char *pw, char out[PASSWORD_HASH_LEN])
{
	if (!pw)
		return -1;
	if (crypto_pwhash_str_alg(out, pw, strlen(pw), pw_opslimit, pw_memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	return 0;
}

/* libsodium reads the hash as a C string of at most STRBYTES bytes; refuse
 * anything longer rather than let it look further. */
static int hash_string_ok(const char *hash)
{
	return hash && strnlen(hash, PASSWORD_HASH_LEN) < PASSWORD_HASH_LEN;
}

int password_verify(const char *hash, const char *pw)
{
	if (!pw || !hash_string_ok(hash))
		return -1;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0 ? 0 : -1;
}

int password_needs_rehash(const char *hash)
{
	if (!hash_string_ok(hash))
		return -1;
	int r = crypto_pwhash_argon2id_str_needs_rehash(hash, pw_opslimit, pw_memlimit);
	return r < 0 ? -1 : (r ? 1 : 0);
}

/*--- Generated passwords and tokens ----------------------------------------*/

/* 24 lower + 24 upper + 8 digits + 8 symbols = 64, so each character is one
 * unbiased randombytes_uniform(64) draw (6 bits). Look-alikes left out:
 * 0 O o 1 l I. */
static const char gen_alphabet[] =
	"abcdefghijkmnpqrstuvwxyz"
	"ABCDEFGHJKLMNPQRSTUVWXYZ"
	"23456789"
	"-_!@#%+=";
#define GEN_LOWER_END 24
#define GEN_UPPER_END 48
#define GEN_DIGIT_END 56
#define GEN_LEN 16

_Static_assert(sizeof(gen_alphabet) - 1 == 64, "alphabet must have 64 characters");

void password_generate(char out[17])
{
	/* Rejection sampling keeps the result uniform over all strings that
	 * have every class; about three draws in four are accepted. */
	for (;;) {
		unsigned seen = 0;
		for (int i = 0; i < GEN_LEN; i++) {
			uint32_t k = randombytes_uniform(64);
			out[i] = gen_alphabet[k];
			if (k < GEN_LOWER_END)
				seen |= 1;
			else if (k < GEN_UPPER_END)
				seen |= 2;
			else if (k < GEN_DIGIT_END)
				seen |= 4;
			else
				seen |= 8;
		}
		out[GEN_LEN] = '\0';
		if (seen == 15)
			return;
	}
}

int secure_eq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t na = strlen(a), nb = strlen(b);
	if (na != nb)
		return 0;
	return sodium_memcmp(a, b, na) == 0;
}

void token_random(char out[48])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, 48, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}
