/*
 * totp.c - RFC 6238 one-time passwords on liboath, with replay protection.
 *
 * TOTP is HOTP (RFC 4226) with the counter T = floor(unix_time / 30)
 * (RFC 6238 section 4.2), so codes are made with oath_hotp_generate() on the
 * step number directly: the caller's last-used step is what prevents
 * replay, and working in steps keeps every time value far from overflow.
 * Candidate codes are compared with sodium_memcmp so a wrong code takes the
 * same time whichever digits are right, and all three steps of the window
 * are always computed.
 */
#include "auth/totp.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

/* RFC 4226 section 4, R6: the shared secret MUST be at least 128 bits. */
#define TOTP_MIN_KEY_BYTES 16
/* RFC 4226 recommends 160 bits; it is also what the apps expect. */
#define TOTP_NEW_KEY_BYTES 20

int totp_init(void)
{
	if (oath_init() != OATH_OK)
		return -1;
	if (sodium_init() < 0)
		return -1;
	return 0;
}

int totp_new_secret(char out[64])
{
	unsigned char key[TOTP_NEW_KEY_BYTES];
	char *b32 = NULL;
	size_t len = 0;
	int rc = -1;

	out[0] = '\0';
	randombytes_buf(key, sizeof(key));
	if (oath_base32_encode((const char *)key, sizeof(key), &b32, &len) != OATH_OK)
		goto out;
	/* 20 bytes are a whole number of 5-byte groups, so there is no '='
	 * padding to strip; stop at one anyway in case of a future size. */
	len = strcspn(b32, "=");
	if (len >= 64)
		goto out;
	memcpy(out, b32, len);
	out[len] = '\0';
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	if (b32) {
		sodium_memzero(b32, strlen(b32));
		free(b32);
	}
	return rc;
}

/* Decodes the base32 secret into a malloc'd key (lower case and spaces are
 * accepted, as liboath does). Returns 0, or -1 when it is missing, not
 * base32, or too short. The caller wipes and frees *key with key_free(). */
static int key_decode(const char *secret_b32, char **key, size_t *keylen)
{
	*key = NULL;
	*keylen = 0;
	if (!secret_b32)
		return -1;
	if (oath_base32_decode(secret_b32, strlen(secret_b32), key, keylen) != OATH_OK) {
		*key = NULL;
		return -1;
	}
	if (*keylen < TOTP_MIN_KEY_BYTES)
		return -1;
	return 0;
}

static void key_free(char *key, size_t keylen)
{
	if (!key)
		return;
	sodium_memzero(key, keylen);
	free(key);
}

static int code_at_step(const char *key, size_t keylen, uint64_t step,
			char out[TOTP_DIGITS + 1])
{
	return oath_hotp_generate(key, keylen, step, TOTP_DIGITS, false,
				  OATH_HOTP_DYNAMIC_TRUNCATION, out) == OATH_OK ? 0 : -1;
}

static int code_well_formed(const char *code)
{
	if (!code || strnlen(code, TOTP_DIGITS + 1) != TOTP_DIGITS)
		return 0;
	for (int i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return 1;
}

int totp_code(const char *secret_b32, int64_t now, char out[7])
{
	char *key = NULL;
	size_t keylen = 0;
	int rc = -1;

	out[0] = '\0';
	if (now < 0)
		goto out;
	if (key_decode(secret_b32, &key, &keylen) != 0)
		goto out;
	if (code_at_step(key, keylen, (uint64_t)(now / TOTP_STEP_SECONDS), out) != 0) {
		out[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	key_free(key, keylen);
	return rc;
}

int totp_verify(const char *secret_b32, const char *code, int64_t now,
		int64_t last_step, int64_t *step_out)
{
	char *key = NULL;
	size_t keylen = 0;
	char cand[TOTP_DIGITS + 1];
	int64_t best = -1;
	int rc = -1;

	if (!code_well_formed(code) || now < 0)
		goto out;
	if (key_decode(secret_b32, &key, &keylen) != 0)
		goto out;

	int64_t cur = now / TOTP_STEP_SECONDS;
	for (int64_t step = cur - 1; step <= cur + 1; step++) {
		if (step < 0)
			continue;
		if (code_at_step(key, keylen, (uint64_t)step, cand) != 0)
			goto out;
		int match = sodium_memcmp(cand, code, TOTP_DIGITS) == 0;
		/* Take the latest matching step that is still unused; a code
		 * that also happens to match an older, used step is fine. */
		if (match && step > last_step && step > best)
			best = step;
	}
	if (best < 0)
		goto out;
	if (step_out)
		*step_out = best;
	rc = 0;
out:
	sodium_memzero(cand, sizeof(cand));
	key_free(key, keylen);
	return rc;
}

/*--- otpauth:// URI --------------------------------------------------------*/

static int uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s percent-encoded at p; returns the new end. p must have room
 * for 3 * strlen(s) bytes. */
static char *uri_encode(char *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (uri_unreserved(*q)) {
			*p++ = (char)*q;
		} else {
			*p++ = '%';
			*p++ = hex[*q >> 4];
			*p++ = hex[*q & 0x0F];
		}
	}
	return p;
}

char *totp_uri(const char *secret_b32, const char *username)
{
	static const char prefix[] = "otpauth://totp/Xiaoan:";
	static const char mid[] = "?secret=";
	static const char suffix[] = "&issuer=Xiaoan";

	if (!secret_b32 || !*secret_b32 || !username || !*username)
		return NULL;
	size_t nuser = strlen(username), nsecret = strlen(secret_b32);
	/* Both are short (a username and a 32-character secret); refuse
	 * anything absurd rather than reason about overflow. */
	if (nuser > 4096 || nsecret > 4096)
		return NULL;
	size_t cap = sizeof(prefix) - 1 + 3 * nuser + sizeof(mid) - 1 +
		     3 * nsecret + sizeof(suffix);
	char *uri = malloc(cap);
	if (!uri)
		return NULL;

	char *p = uri;
	memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	p = uri_encode(p, username);
	memcpy(p, mid, sizeof(mid) - 1);
	p += sizeof(mid) - 1;
	/* A base32 secret is unreserved already; encoding it anyway means a
	 * bad one cannot break the URI. */
	p = uri_encode(p, secret_b32);
	memcpy(p, suffix, sizeof(suffix)); /* with its NUL */
	return uri;
}
