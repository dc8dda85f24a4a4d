/*
 * vault.c - secretbox sealing with a key file (see vault.h).
 */
#include "auth/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char key[crypto_secretbox_KEYBYTES];
static int have_key;

int vault_init(const char *data_dir, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	char path[1024];
	snprintf(path, sizeof path, "%s/secret.key", data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, key, sizeof key);
		close(fd);
		if (n != (ssize_t)sizeof key) {
			snprintf(err, errlen, "%s: expected %zu bytes", path, sizeof key);
			return -1;
		}
		have_key = 1;
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(key, sizeof key);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, key, sizeof key) != (ssize_t)sizeof key || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	have_key = 1;
	return 0;
}

char *vault_seal(const char *plain)
{
	if (!have_key || !plain)
		return NULL;
	size_t n = strlen(plain);
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	unsigned char *box = malloc(blen);
	if (!box)
		abort();
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, box, key);
	size_t olen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(olen + 3);
	if (!out)
		abort();
	memcpy(out, "v1:", 3);
	sodium_bin2base64(out + 3, olen, box, blen, sodium_base64_VARIANT_ORIGINAL);
	free(box);
	return out;
}

char *vault_open(const char *sealed)
{
	if (!have_key || !sealed || strncmp(sealed, "v1:", 3) != 0)
		return NULL;
	size_t slen = strlen(sealed + 3);
	unsigned char *box = malloc(slen + 1);
	if (!box)
		abort();
	size_t blen = 0;
	if (sodium_base642bin(box, slen, sealed + 3, slen, NULL, &blen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(box);
		return NULL;
	}
	size_t n = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *out = malloc(n + 1);
	if (!out)
		abort();
	if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
				       blen - crypto_secretbox_NONCEBYTES, box, key) != 0) {
		free(box);
		free(out);
		return NULL;
	}
	out[n] = '\0';
	free(box);
	return out;
}
