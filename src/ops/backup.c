/*
 * backup.c - `xiaoan backup PATH`: an online backup of the SQLite database
 * while the server keeps serving, checked before it is called a backup
 * (PRAGMA integrity_check, then the audit chain of the copy), with the
 * vault key beside it as PATH.key: without it the sealed TOTP secrets in
 * the copy cannot be opened. On PostgreSQL the database's own tools do
 * this (pg_dump, or a streaming replica); see docs/deploy.md.
 */
#include "ops/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/audit.h"
#include "core/config.h"
#include "store/store.h"
#include "store/store_impl.h"

static const char backup_usage[] =
	"usage: xiaoan backup PATH\n"
	"Backs up the SQLite database online (the server keeps serving) into PATH, which must not exist,\n"
	"checks the copy (PRAGMA integrity_check, audit verify) and writes the data directory's secret.key\n"
	"beside it as PATH.key (mode 0600): the sealed TOTP secrets need it. To restore, stop the server\n"
	"and put PATH back as DATA/xiaoan.db and PATH.key as DATA/secret.key. On PostgreSQL use pg_dump\n"
	"(docs/deploy.md).\n";

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	fprintf(stderr, "xiaoan: backup: ");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Copies the key file src to dst (created with mode 0600, never
 * overwritten) and syncs it. Returns 0 or -1 with errno set. */
static int copy_key(const char *src, const char *dst)
{
	unsigned char buf[4096];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	ssize_t n = read(in, buf, sizeof buf);
	int e = errno;
	close(in);
	if (n <= 0) {
		errno = n < 0 ? e : EINVAL;
		return -1;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return -1;
	int ok = write(out, buf, (size_t)n) == n && fsync(out) == 0;
	e = errno;
	close(out);
	if (!ok) {
		unlink(dst);
		errno = e;
		return -1;
	}
	return 0;
}

int ops_backup_cli(const struct config *cfg, int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(backup_usage, stdout);
			return 0;
		}
		if (path || argv[i][0] == '-')
			return fail("unexpected argument '%s' (xiaoan backup --help)", argv[i]);
		path = argv[i];
	}
	if (!path)
		return fail("which file? xiaoan backup PATH (xiaoan backup --help)");
	const char *url = cfg->database;
	if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
		return fail("the database is PostgreSQL: back it up with pg_dump -Fc (see docs/deploy.md)");
	const char *db_path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;

	char key[1100], keycopy[1100], err[512];
	struct stat sb;
	snprintf(key, sizeof key, "%s/secret.key", cfg->data_dir);
	snprintf(keycopy, sizeof keycopy, "%s.key", path);
	if (stat(db_path, &sb) != 0)
		return fail("no database at %s", db_path);
	if (stat(path, &sb) == 0 || stat(keycopy, &sb) == 0)
		return fail("%s exists; a backup never overwrites a file", stat(path, &sb) == 0 ? path : keycopy);

	struct store *st = store_open(url, 1, err, sizeof err);
	if (!st)
		return fail("%s", err);
	int pages = 0;
	int rc = sqlite_backup_to(st, path, &pages, err, sizeof err);
	store_close(st);
	if (rc < 0)
		return fail("%s", err);
	printf("backup: %s -> %s, %d pages\n", db_path, path, pages);
	if (rc > 0) {
		printf("integrity_check: %s\n", err);
		return fail("the copy in %s failed integrity_check: %s", path, err);
	}
	printf("integrity_check: ok\n");

	/* the copy's own audit chain: what a restore would find */
	char copy_url[1100];
	snprintf(copy_url, sizeof copy_url, "sqlite:%s", path);
	if (!(st = store_open(copy_url, 1, err, sizeof err)))
		return fail("%s", err);
	struct db *db = store_acquire(st);
	int broken = audit_verify(db, stdout);
	store_release(db);
	store_close(st);

	if (copy_key(key, keycopy) != 0) {
		int e = errno;
		fprintf(stderr, "xiaoan: backup: the copy is in %s, but %s -> %s failed: %s\n", path, key, keycopy,
			strerror(e));
		return 1;
	}
	printf("backup: %s -> %s (mode 0600): the sealed TOTP secrets need it; restore it as secret.key\n", key,
	       keycopy);
	if (broken)
		return fail("%s", broken < 0 ? "cannot read the copy's audit trail"
					     : "the audit chain of the copy does not verify (nor does the database's: run"
					       " xiaoan audit verify)");
	return 0;
}
