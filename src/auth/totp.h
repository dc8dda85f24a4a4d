/*
 * totp.h - time-based one-time passwords (RFC 6238) for two-factor login.
 *
 * The parameters are the ones every authenticator app assumes when it scans
 * an otpauth:// QR code: HMAC-SHA-1, 30-second steps counted from the Unix
 * epoch, 6 digits. Secrets travel and are stored as unpadded base32.
 * Call totp_init() once at start-up, before any thread is started.
 */
#ifndef XIAOAN_AUTH_TOTP_H
#define XIAOAN_AUTH_TOTP_H

#include <stdint.h>

#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS 6

/* Initialises liboath and libsodium (for randomness). Returns 0, or -1 if
 * either fails. */
int totp_init(void);

/* Writes a new secret, 20 random bytes as 32 base32 characters without
 * padding plus NUL, into out. Returns 0, or -1 when out of memory (out is
 * then an empty string). */
int totp_new_secret(char out[64]);

/* Checks code (exactly 6 ASCII digits) against the base32 secret at Unix
 * time now, accepting the current step and one step either side for clock
 * drift. A code whose step is <= last_step is refused, so that a code
 * cannot be replayed: store *step_out after a successful login and pass it
 * back as last_step next time (-1 or 0 when no code has been used yet).
 * Returns 0 and stores the matched step in *step_out (if step_out is not
 * NULL); returns -1 for a wrong, reused or malformed code, a negative now,
 * or a secret that is not base32 or is shorter than 128 bits. */
int totp_verify(const char *secret_b32, const char *code, int64_t now,
		int64_t last_step, int64_t *step_out);

/* Writes the 6-digit code for the base32 secret at Unix time now, plus NUL,
 * into out. Returns 0, or -1 for a bad secret (as in totp_verify()) or a
 * negative now. */
int totp_code(const char *secret_b32, int64_t now, char out[7]);

/* Returns a malloc'd "otpauth://totp/Xiaoan:USER?secret=SECRET&issuer=Xiaoan"
 * URI for a QR code, with the username percent-encoded (RFC 3986: all but
 * A-Z a-z 0-9 - . _ ~ , UTF-8 byte by byte). The caller frees it. Returns
 * NULL when either argument is NULL or empty, or when out of memory. */
char *totp_uri(const char *secret_b32, const char *username);

#endif
