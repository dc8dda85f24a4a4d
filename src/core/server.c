/*
 * server.c - libmicrohttpd glue: one request context per request with its
 * own arena, body collection under the route's cap, the router's central
 * checks (404/405/413/415, session, password-change gate, CSRF, permission),
 * the handler call, security headers, the log line and the console's
 * static files.
 *
 * Reads run on the network threads (MHD's pool). A write's handler waits
 * for its commit to reach the disk (the store's group commit); on a
 * network thread that wait would hold up every other connection the
 * thread polls, so a write request is suspended and handed to a pool of
 * write threads (write_threads), which runs it and resumes the connection
 * to send the answer. Writes waiting on the same fsync then come from as
 * many threads as there are writers, which is what lets the store batch
 * them.
 */
#include "core/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/router.h"
#include "store/store.h"

static struct server_hooks hooks;

void server_set_hooks(const struct server_hooks *h)
{
	hooks = *h;
}

struct ctx {
	struct req req;
	struct ctx *next;      /* in the write queue */
	int handed;            /* handed to a write thread */
	int done;              /* its answer is ready: send it when resumed */
	struct buf body;
	int overflow;          /* body exceeded the cap: answer 413 */
	int early;             /* an answer was queued before the body was read */
	struct router_result rr;
	int matched;
	char *path_copy;
};

struct wpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctx *head, *tail;
	int stop;
	int n;
	pthread_t *th;
};

struct srv {
	atomic_int inflight;   /* requests begun and not completed */
	struct wpool *wp;      /* NULL: writes run on the network threads */
	struct config *cfg;
	struct store *store;
	int tls;
	char csp[1024];
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Request ids: a random per-process prefix and a counter, so they are
 * unique across restarts and servers without a system call per request. */
static uint32_t request_prefix;
static atomic_uint_fast32_t request_counter;
static pthread_once_t request_once = PTHREAD_ONCE_INIT;

static void request_prefix_init(void)
{
	randombytes_buf(&request_prefix, sizeof request_prefix);
}

static char *next_request_id(struct arena *a)
{
	pthread_once(&request_once, request_prefix_init);
	uint32_t n = (uint32_t)atomic_fetch_add(&request_counter, 1);
	return arena_printf(a, "%08x%08x", request_prefix, n);
}

/* ---- rate limiting ------------------------------------------------------ */

#define RL_SLOTS 4096
struct rl_slot {
	char key[48];
	int64_t window;
	int count;
};
static struct rl_slot rl[RL_SLOTS];
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;

int ratelimit_hit(const char *client, int limit)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = client; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	int64_t win = (int64_t)time(NULL) / 60;
	pthread_mutex_lock(&rl_mu);
	struct rl_slot *s = &rl[h % RL_SLOTS];
	if (s->window != win || strncmp(s->key, client, sizeof s->key) != 0) {
		snprintf(s->key, sizeof s->key, "%s", client);
		s->window = win;
		s->count = 0;
	}
	int over = ++s->count > limit;
	pthread_mutex_unlock(&rl_mu);
	return over;
}

/* ---- answering ---------------------------------------------------------- */

static void add_security_headers(struct srv *s, struct MHD_Response *resp, int api)
{
	MHD_add_response_header(resp, "Content-Security-Policy", s->csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Permissions-Policy", "camera=(), microphone=(), geolocation=(self)");
	if (s->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (api)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result send_reply(struct srv *s, struct MHD_Connection *c, struct ctx *x)
{
	struct req *r = &x->req;
	if (!r->status)
		reply_internal(r, "handler returned without an answer");
	if (hooks.finish)
		hooks.finish(r);
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		r->resp_len, r->resp_body ? r->resp_body : (void *)"", r->resp_body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	r->resp_body = NULL;
	if (!resp)
		return MHD_NO;
	if (r->resp_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	int api = strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/healthz") == 0 ||
		  strcmp(r->path, "/readyz") == 0;
	add_security_headers(s, resp, api);
	for (int i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->hname[i], r->hval[i]);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	int64_t us = now_us() - r->started_us;
	log_info("%s %s %s %d %lld.%03lldms user=%s ip=%s", r->request_id, r->method, r->path, r->status,
		 (long long)(us / 1000), (long long)(us % 1000), r->user ? r->user->username : "-", r->client_ip);
	return ret;
}

/* ---- static files (the console) ----------------------------------------- */

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} m[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".json", "application/json" },
		{ ".svg", "image/svg+xml" },             { ".png", "image/png" },
		{ ".ico", "image/x-icon" },              { ".woff2", "font/woff2" },
		{ ".woff", "font/woff" },                { ".ttf", "font/ttf" },
		{ ".map", "application/json" },          { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	if (dot)
		for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
			if (strcmp(dot, m[i].ext) == 0)
				return m[i].type;
	return "application/octet-stream";
}

/* Serves web_root files; unknown paths get index.html (history mode). */
static int serve_static(struct srv *s, struct req *r)
{
	if (!s->cfg->web_root[0] || strstr(r->path, "..") || strchr(r->path, '\\'))
		return 0;
	char file[1024];
	const char *rel = r->path;
	struct stat sb;
	snprintf(file, sizeof file, "%s%s", s->cfg->web_root, rel);
	int is_file = stat(file, &sb) == 0 && S_ISREG(sb.st_mode);
	if (!is_file) {
		/* a missing asset is a 404, a client-side route gets the app */
		if (strncmp(rel, "/assets/", 8) == 0)
			return 0;
		snprintf(file, sizeof file, "%s/index.html", s->cfg->web_root);
		if (stat(file, &sb) != 0)
			return 0;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct buf b = BUF_INIT;
	buf_reserve(&b, (size_t)sb.st_size);
	ssize_t n;
	char tmp[65536];
	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		buf_append(&b, tmp, (size_t)n);
	close(fd);
	size_t len;
	char *data = buf_detach(&b, &len);
	reply_take(r, 200, mime_of(file), data, len);
	if (strncmp(rel, "/assets/", 8) == 0)
		reply_header(r, "Cache-Control", "public, max-age=31536000, immutable");
	else
		reply_header(r, "Cache-Control", "no-cache");
	return 1;
}

/* ---- the request path ----------------------------------------------------- */

static int body_type_ok(struct req *r)
{
	const char *ct = r->content_type ? r->content_type : "";
	if (r->route->flags & ROUTE_UPLOAD)
		return strncasecmp(ct, "text/csv", 8) == 0 ||
		       strncasecmp(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 65) == 0 ||
		       strncasecmp(ct, "application/octet-stream", 24) == 0;
	return strncasecmp(ct, "application/json", 16) == 0 && (ct[16] == '\0' || ct[16] == ';');
}

static void dispatch(struct srv *s, struct ctx *x)
{
	struct req *r = &x->req;
	if (!x->matched) {
		if ((strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) &&
		    strncmp(r->path, "/api/", 5) != 0 && serve_static(s, r))
			return;
		if (x->rr.allow[0]) {
			reply_header(r, "Allow", x->rr.allow);
			reply_error(r, 405, "method_not_allowed", "不支持此请求方法", NULL);
		} else {
			reply_error(r, 404, "no_route", "接口不存在", NULL);
		}
		return;
	}
	const struct route *rt = r->route;
	if (x->overflow) {
		reply_error(r, 413, "request.too_large",
			    arena_printf(r->arena, "请求体超过上限（%zu 字节）",
					 rt->body_max ? rt->body_max : s->cfg->body_max),
			    NULL);
		return;
	}
	if (r->body_len > 0 && !body_type_ok(r)) {
		reply_error(r, 415, "request.unsupported_type",
			    (rt->flags & ROUTE_UPLOAD) ? "只接受 CSV 或 Excel（.xlsx）文件" : "请求体须为 application/json",
			    NULL);
		return;
	}
	if (hooks.authenticate && (!(rt->flags & ROUTE_PUBLIC) || (rt->flags & ROUTE_OPTIONAL_AUTH)))
		hooks.authenticate(r);
	if (rt->flags & ROUTE_PUBLIC) {
		/* public writes (sign-in, later anonymous tips) are rate limited
		 * per address; public reads (health, version) are not */
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
		    ratelimit_hit(r->client_ip, s->cfg->rate_per_minute)) {
			reply_header(r, "Retry-After", "60");
			reply_error(r, 429, "rate_limited", "请求过于频繁，请稍后再试", NULL);
			return;
		}
	} else {
		if (!r->user) {
			reply_error(r, 401, "auth.required", "请先登录（会话不存在或已过期）", NULL);
			return;
		}
		int writes = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
		if (writes && !(rt->flags & ROUTE_NO_CSRF)) {
			const char *tok = req_header(r, "X-CSRF-Token");
			if (!tok || !r->user->csrf || sodium_memcmp(tok, r->user->csrf, strlen(r->user->csrf)) != 0 ||
			    strlen(tok) != strlen(r->user->csrf)) {
				reply_error(r, 403, "auth.csrf", "安全令牌（X-CSRF-Token）无效，请刷新页面后重试", NULL);
				return;
			}
		}
		if (r->user->must_change_password && !(rt->flags & ROUTE_PWCHANGE_OK)) {
			reply_error(r, 403, "auth.password_change_required", "首次登录或密码重置后须先修改密码", NULL);
			return;
		}
		if (r->user->must_enroll_totp && !(rt->flags & ROUTE_PWCHANGE_OK)) {
			reply_error(r, 403, "auth.totp_setup_required", "您的角色要求动态验证码，请先完成绑定", NULL);
			return;
		}
		if (rt->perm && !principal_has(r->user, rt->perm)) {
			reply_forbidden(r);
			return;
		}
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		db_expect_write(req_db(r));
	rt->handler(r);
}

/* Is ip one of the comma-separated addresses in list (spaces allowed)? */
int server_proxy_listed(const char *list, const char *ip)
{
	size_t n = strlen(ip);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if ((size_t)(e - p) == n && n && memcmp(p, ip, n) == 0)
			return 1;
		p = e;
	}
	return 0;
}

static void client_address(struct srv *s, struct MHD_Connection *c, struct req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char ip[INET6_ADDRSTRLEN] = "-";
	int loopback = 0;
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)sa;
			inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
			loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		} else if (sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const void *)sa;
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
			loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		}
	}
	r->client_ip = arena_strdup(r->arena, ip);
	r->tls = s->tls;
	if (s->cfg->trust_proxy && (loopback || server_proxy_listed(s->cfg->trusted_proxies, ip))) {
		const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
		if (xff && *xff) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			if (strlen(last) < INET6_ADDRSTRLEN)
				r->client_ip = arena_strdup(r->arena, last);
		}
		const char *xfp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
		if (xfp && strcasecmp(xfp, "https") == 0)
			r->tls = 1;
	}
}

/* ---- write threads ------------------------------------------------------------ */

static void wpool_push(struct wpool *wp, struct ctx *x)
{
	x->next = NULL;
	pthread_mutex_lock(&wp->mu);
	if (wp->tail)
		wp->tail->next = x;
	else
		wp->head = x;
	wp->tail = x;
	pthread_cond_signal(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
}

static void *write_thread(void *arg)
{
	struct srv *s = arg;
	struct wpool *wp = s->wp;
	for (;;) {
		pthread_mutex_lock(&wp->mu);
		while (!wp->head && !wp->stop)
			pthread_cond_wait(&wp->cv, &wp->mu);
		struct ctx *x = wp->head;
		if (!x) {
			pthread_mutex_unlock(&wp->mu);
			return NULL;
		}
		wp->head = x->next;
		if (!wp->head)
			wp->tail = NULL;
		pthread_mutex_unlock(&wp->mu);
		dispatch(s, x);
		x->done = 1;
		MHD_resume_connection(x->req.conn); /* MHD calls on_request again: send_reply */
	}
}

/* Starts n write threads (none when n is 0). */
static int wpool_start(struct srv *s, int n)
{
	if (n <= 0)
		return 0;
	struct wpool *wp = calloc(1, sizeof *wp);
	if (!wp || !(wp->th = calloc((size_t)n, sizeof *wp->th)))
		abort();
	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->cv, NULL);
	s->wp = wp;
	for (; wp->n < n; wp->n++)
		if (pthread_create(&wp->th[wp->n], NULL, write_thread, s) != 0)
			break;
	if (wp->n == 0) {
		free(wp->th);
		free(wp);
		s->wp = NULL;
		return -1;
	}
	return 0;
}

/* Stops the write threads once the queue is empty. */
static void wpool_stop(struct srv *s)
{
	struct wpool *wp = s->wp;
	if (!wp)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->stop = 1;
	pthread_cond_broadcast(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	for (int i = 0; i < wp->n; i++)
		pthread_join(wp->th[i], NULL);
	free(wp->th);
	free(wp);
	s->wp = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct srv *s = cls;
	struct ctx *x = *con_cls;
	if (!x) {
		x = calloc(1, sizeof *x);
		if (!x)
			return MHD_NO;
		*con_cls = x;
		atomic_fetch_add(&s->inflight, 1);
		struct req *r = &x->req;
		r->started_us = now_us();
		r->arena = arena_new();
		r->cfg = s->cfg;
		r->store = s->store;
		r->conn = c;
		r->method = arena_strdup(r->arena, method);
		r->path = arena_strdup(r->arena, url);
		r->request_id = next_request_id(r->arena);
		r->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		client_address(s, c, r);
		x->path_copy = arena_alloc(r->arena, strlen(url) + 1);
		if (router_match(method, url, x->path_copy, &x->rr) == ROUTER_FOUND) {
			x->matched = 1;
			r->route = x->rr.route;
			r->nparams = x->rr.nparams;
			for (int i = 0; i < r->nparams; i++) {
				r->pname[i] = x->rr.pname[i];
				r->pval[i] = x->rr.pval[i];
			}
			/* refuse an announced oversized body before reading it */
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
			size_t cap = r->route->body_max ? r->route->body_max : s->cfg->body_max;
			if (cl && strtoull(cl, NULL, 10) > cap) {
				x->overflow = 1;
				/* a body a little over the cap is read and dropped so
				 * the client sees the 413 instead of a broken pipe; a
				 * far larger one is answered at once and the
				 * connection closed */
				if (strtoull(cl, NULL, 10) > 4 * (unsigned long long)cap + (1u << 20))
					x->early = 1;
			}
		}
		if (x->early) {
			dispatch(s, x);
			return send_reply(s, c, x);
		}
		return MHD_YES;
	}
	if (x->early) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		struct req *r = &x->req;
		size_t cap = x->matched && r->route->body_max ? r->route->body_max : s->cfg->body_max;
		if (!x->overflow && x->body.len + *upload_size <= cap)
			buf_append(&x->body, upload_data, *upload_size);
		else
			x->overflow = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->done)
		return send_reply(s, c, x); /* resumed: a write thread has answered */
	if (x->handed)
		return MHD_YES;
	struct req *r = &x->req;
	r->body = x->body.data;
	r->body_len = x->body.len;
	if (s->wp && x->matched && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		x->handed = 1;
		MHD_suspend_connection(c);
		wpool_push(s->wp, x);
		return MHD_YES;
	}
	dispatch(s, x);
	return send_reply(s, c, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)c, (void)toe;
	struct srv *s = cls;
	struct ctx *x = *con_cls;
	if (!x)
		return;
	atomic_fetch_sub(&s->inflight, 1);
	struct req *r = &x->req;
	if (r->db) {
		if (db_in_tx(r->db))
			db_rollback(r->db);
		store_release(r->db);
	}
	json_decref(r->json_owned);
	free(r->resp_body);
	buf_free(&x->body);
	arena_free(r->arena);
	free(x);
	*con_cls = NULL;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static void srv_init(struct srv *s, struct config *cfg, struct store *st)
{
	memset(s, 0, sizeof *s);
	atomic_init(&s->inflight, 0);
	s->cfg = cfg;
	s->store = st;
	snprintf(s->csp, sizeof s->csp,
		 "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:%s%s; "
		 "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
		 "frame-ancestors 'none'",
		 cfg->tile_url[0] ? " " : "", cfg->tile_url[0] ? "https: http:" : "");
}

/* ---- embedded mode (fuzzing whole requests in-process) ---------------------- */

struct server_embedded {
	struct srv s;
	struct MHD_Daemon *d;
};

struct server_embedded *server_embedded_start(struct config *cfg, struct store *st)
{
	struct server_embedded *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	srv_init(&e->s, cfg, st);
	e->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC, 0, NULL, NULL,
				on_request, &e->s, MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, &e->s, MHD_OPTION_END);
	if (!e->d) {
		free(e);
		return NULL;
	}
	return e;
}

size_t server_embedded_feed(struct server_embedded *e, const void *req, size_t len, char *resp, size_t cap)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 0;
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (MHD_add_connection(e->d, sv[1], (struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	const char *p = req;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(sv[0], p + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR);
	size_t got = 0;
	for (;;) {
		char tmp[4096];
		ssize_t n = read(sv[0], tmp, sizeof tmp);
		if (n <= 0)
			break;
		size_t k = (size_t)n < cap - got ? (size_t)n : cap - got;
		memcpy(resp + got, tmp, k);
		got += k;
	}
	close(sv[0]);
	return got;
}

void server_embedded_stop(struct server_embedded *e)
{
	if (!e)
		return;
	MHD_stop_daemon(e->d);
	free(e);
}

int server_run(struct config *cfg, struct store *st)
{
	struct srv s;
	srv_init(&s, cfg, st);

	char host[128];
	snprintf(host, sizeof host, "%s", cfg->listen);
	char *colon = strrchr(host, ':');
	if (!colon) {
		log_error("listen '%s': expected host:port", cfg->listen);
		return -1;
	}
	*colon = '\0';
	int port = atoi(colon + 1);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sin.sin_addr) != 1) {
		log_error("listen '%s': not an IPv4 address", cfg->listen);
		return -1;
	}

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ERROR_LOG | MHD_USE_ITC |
			 MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
	char *cert = NULL, *key = NULL;
	if (cfg->tls_cert[0] && cfg->tls_key[0]) {
		cert = read_file(cfg->tls_cert);
		key = read_file(cfg->tls_key);
		if (!cert || !key) {
			log_error("tls: cannot read %s or %s", cfg->tls_cert, cfg->tls_key);
			free(cert), free(key);
			return -1;
		}
		flags |= MHD_USE_TLS;
		s.tls = 1;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct MHD_OptionItem tlsopts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, key },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (wpool_start(&s, cfg->write_threads) != 0) {
		log_error("cannot start the write threads");
		free(cert), free(key);
		return -1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
		MHD_OPTION_ARRAY, s.tls ? tlsopts : tlsopts + 2, MHD_OPTION_END);
	if (!d) {
		log_error("cannot listen on %s: %s", cfg->listen, strerror(errno));
		wpool_stop(&s);
		free(cert), free(key);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("xiaoan %s serving on %s:%u (%s, %d threads, %d write threads)", XIAOAN_VERSION, host,
		 di ? di->port : (unsigned)port, s.tls ? "https" : "http", cfg->threads, s.wp ? s.wp->n : 0);
	log_start_async(); /* request lines in batches (core/log.c) */

	int sig = 0;
	sigwait(&set, &sig);
	log_info("signal %d: stopping; finishing requests in flight", sig);
	MHD_quiesce_daemon(d);
	/* wait for requests being answered, not for idle keep-alive
	 * connections, which MHD_stop_daemon closes */
	for (int i = 0; i < 100 && atomic_load(&s.inflight) > 0; i++)
		usleep(100000);
	wpool_stop(&s); /* after the writes queued have been answered */
	MHD_stop_daemon(d);
	free(cert), free(key);
	log_info("stopped");
	log_stop();
	return 0;
}
