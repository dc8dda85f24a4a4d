/*
 * vault.h - encryption at rest for secrets kept in the database (TOTP
 * secrets now; later the most sensitive personal fields). XChaCha20-
 * Poly1305 (libsodium secretbox) with a 32-byte key in <data_dir>/secret.key,
 * created with mode 0600 on first use. Losing the key file makes those
 * fields unreadable: back it up with the database.
 */
#ifndef XIAOAN_VAULT_H
#define XIAOAN_VAULT_H

#include <stddef.h>

/* Loads or creates the key. Returns 0, or -1 with a reason in err. */
int vault_init(const char *data_dir, char *err, size_t errlen);
/* Seals text; returns a malloc'd "v1:" + base64 string, or NULL. */
char *vault_seal(const char *plain);
/* Opens what vault_seal made; returns malloc'd text, or NULL when the
 * input is malformed or was sealed with another key. */
char *vault_open(const char *sealed);

#endif
