/*
 * password.h - password policy, argon2id hashing, and the small secrets
 * helpers the auth module needs (one-time passwords, random tokens,
 * constant-time comparison, SHA-256 hex).
 *
 * Everything is built on libsodium; nothing here is hand-rolled crypto.
 * Call password_init() once at start-up, before any thread is started and
 * before any other function in this header.
 */
#ifndef XIAOAN_AUTH_PASSWORD_H
#define XIAOAN_AUTH_PASSWORD_H

#include <stddef.h>

/* Length bounds, in Unicode code points (not bytes). */
#define PASSWORD_MIN_LEN 10
#define PASSWORD_MAX_LEN 128

/* Size of the buffer password_hash() writes (== crypto_pwhash_STRBYTES). */
#define PASSWORD_HASH_LEN 128

/* Checks pw against the policy: valid UTF-8 without control characters,
 * PASSWORD_MIN_LEN..PASSWORD_MAX_LEN code points, characters from at least
 * three of four classes (ASCII lower case, ASCII upper case, digits, other:
 * punctuation, CJK, anything else), and not containing the username
 * (ASCII case-insensitive) when the username has 3 or more code points.
 * username may be NULL. Returns 0 if acceptable; else -1 with *why (if why
 * is not NULL) set to a static Simplified-Chinese message for the user. */
int password_policy_check(const char *pw, const char *username, const char **why);

/* Hashes pw with argon2id at the current cost into out as a NUL-terminated
 * "$argon2id$..." string. Does not check the policy. Returns 0, or -1 when
 * pw is NULL or hashing fails (out of memory). */
int password_hash(const char *pw, char out[PASSWORD_HASH_LEN]);

/* Returns 0 when pw matches hash, -1 when it does not or either is NULL or
 * hash is malformed. Takes as long as the hash's own cost. */
int password_verify(const char *hash, const char *pw);

/* Returns 1 when hash was made with a different cost than the current one
 * (re-hash after a successful login), 0 when it is current, -1 when hash is
 * NULL or not an argon2id string. */
int password_needs_rehash(const char *hash);

/* Initialises libsodium and, if the environment has XIAOAN_PW_COST=fast,
 * lowers the hashing cost to the argon2id minimum (ops 1, 8 MiB) for tests
 * and the test server. Safe to call more than once. Returns 0, or -1 when
 * libsodium cannot initialise (no entropy source). */
int password_init(void);

/* Sets the argon2id cost for later password_hash() and
 * password_needs_rehash() calls; values are clamped to libsodium's
 * argon2id limits. The default is the INTERACTIVE pair (ops 2, 64 MiB).
 * Not thread-safe: call at start-up or from single-threaded tests. */
void password_set_cost(unsigned long long ops, size_t mem);

/* Writes a random 16-character one-time password plus NUL into out. It
 * avoids look-alike characters (0 O o 1 l I), contains at least one ASCII
 * lower-case letter, upper-case letter, digit and one of "-_!@#%+=", and so
 * always passes password_policy_check() (with no username). Cannot fail. */
void password_generate(char out[17]);

/* Constant-time comparison of two NUL-terminated tokens. Returns 1 when
 * equal, 0 when not or either is NULL. Only the lengths may leak through
 * timing. */
int secure_eq(const char *a, const char *b);

/* Writes 32 random bytes as 43 characters of unpadded base64url, plus NUL,
 * into out. Cannot fail. */
void token_random(char out[48]);

/* Writes the SHA-256 of data[0..len) as 64 lower-case hex digits plus NUL
 * into out. Cannot fail. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
