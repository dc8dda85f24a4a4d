/*
 * fuzz_http.c - whole requests through the real server in-process: the
 * router (paths, methods, :params), query strings, headers, the cookie
 * and session lookup, CSRF, body limits and every handler, on a temporary
 * database with the demo county and a signed-in administrator.
 *
 * Input: the first byte picks a mode.
 *   even: the rest is sent as a raw HTTP request, as an attacker would;
 *   odd:  the rest is "REQUEST-LINE\n BODY": the harness adds Host, a valid
 *         session cookie (or, on every fourth input, a mangled one built
 *         from the input), the CSRF token and Content-Length, so the
 *         fuzzer reaches the handlers behind the session check.
 * A crash or sanitizer report is a finding; with FUZZ_STRICT=1 a 500
 * answer is one too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "auth/vault.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "demo/demo.h"
#include "routes.h"
#include "store/store.h"

static struct server_embedded *srv;
static char cookie[128], csrf[64];
static int strict;

static size_t feed(const char *req, size_t len, char *resp, size_t cap)
{
	return server_embedded_feed(srv, req, len, resp, cap - 1);
}

/* Pulls "name":"value" out of a JSON answer (good enough for the harness). */
static void json_field(const char *resp, const char *name, char *out, size_t n)
{
	char key[64];
	snprintf(key, sizeof key, "\"%s\":\"", name);
	const char *p = strstr(resp, key);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	size_t i = 0;
	while (*p && *p != '"' && i + 1 < n)
		out[i++] = *p++;
	out[i] = '\0';
}

static void login(const char *pw)
{
	static char resp[65536];
	char body[256], req[1024];
	snprintf(body, sizeof body, "{\"username\":\"admin\",\"password\":\"%s\"}", pw);
	int n = snprintf(req, sizeof req,
			 "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 strlen(body), body);
	size_t got = feed(req, (size_t)n, resp, sizeof resp);
	resp[got] = '\0';
	const char *c = strstr(resp, "xiaoan_session=");
	if (!c) {
		fprintf(stderr, "fuzz_http: login failed: %.300s\n", resp);
		abort();
	}
	size_t i = 0;
	while (c[i] && c[i] != ';' && i + 1 < sizeof cookie)
		i++;
	snprintf(cookie, sizeof cookie, "%.*s", (int)i, c);
	json_field(resp, "csrf", csrf, sizeof csrf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	strict = getenv("FUZZ_STRICT") != NULL;
	setenv("XIAOAN_PW_COST", "fast", 1);
	log_set_quiet(1);
	static char dir[256];
	snprintf(dir, sizeof dir, "%s/xiaoan-fuzz-http-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	static struct config cfg;
	char err[256], db[512];
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
	snprintf(db, sizeof db, "sqlite:%s/xiaoan.db", dir);
	config_set(&cfg, "database", db, err, sizeof err);
	cfg.rate_per_minute = 1000000;
	if (password_init() || totp_init() || vault_init(dir, err, sizeof err))
		abort();
	struct store *st = store_open(cfg.database, 8, err, sizeof err);
	int applied;
	if (!st || store_migrate(st, &applied, err, sizeof err))
		abort();
	char pw[17];
	FILE *devnull = fopen("/dev/null", "w");
	if (admin_init(st, "admin", pw, err, sizeof err) || demo_seed(st, devnull, err, sizeof err))
		abort();
	fclose(devnull);
	routes_register();
	session_install();
	srv = server_embedded_start(&cfg, st);
	if (!srv)
		abort();
	/* sign in and get past the forced password change */
	login(pw);
	static char resp[65536];
	char body[256], req[1024];
	snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"Fuzz-Password-2026\"}", pw);
	int n = snprintf(req, sizeof req,
			 "POST /api/auth/password HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 cookie, csrf, strlen(body), body);
	feed(req, (size_t)n, resp, sizeof resp);
	login("Fuzz-Password-2026");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char resp[1 << 20];
	if (size < 1 || size > 65536)
		return 0;
	struct buf b = BUF_INIT;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	if (data[0] % 2 == 0) {
		buf_append(&b, in, len);
	} else {
		const char *nl = memchr(in, '\n', len);
		size_t line = nl ? (size_t)(nl - in) : len;
		const char *body = nl ? nl + 1 : "";
		size_t blen = nl ? len - line - 1 : 0;
		buf_append(&b, in, line);
		buf_puts(&b, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
		if (data[0] % 4 == 3) {
			/* a mangled cookie made of the body bytes */
			buf_puts(&b, "Cookie: xiaoan_session=");
			for (size_t i = 0; i < blen && i < 80; i++)
				if (body[i] != '\r' && body[i] != '\n')
					buf_putc(&b, body[i]);
			buf_puts(&b, "\r\n");
		} else {
			buf_printf(&b, "Cookie: %s\r\nX-CSRF-Token: %s\r\n", cookie, csrf);
		}
		buf_printf(&b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", blen);
		buf_append(&b, body, blen);
	}
	size_t got = feed(b.data, b.len, resp, sizeof resp);
	resp[got] = '\0';
	buf_free(&b);
	if (strict && strncmp(resp, "HTTP/1.1 500", 12) == 0) {
		fprintf(stderr, "fuzz_http: 500 answer:\n%.2000s\n", resp);
		abort();
	}
	return 0;
}
