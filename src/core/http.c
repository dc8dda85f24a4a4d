/*
 * http.c - request accessors and the one way to answer, errors included.
 */
#include "core/http.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/router.h"
#include "store/store.h"

const char *req_param(struct req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (router_param_is(r->pname[i], name))
			return r->pval[i];
	return NULL;
}

const char *req_query(struct req *r, const char *name)
{
	if (!r->conn)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct req *r, const char *name)
{
	if (!r->conn)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(struct req *r, const char *name)
{
	if (!r->conn)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

struct db *req_db(struct req *r)
{
	if (!r->db)
		r->db = store_acquire(r->store);
	return r->db;
}

json_t *req_json(struct req *r)
{
	if (!r->body || r->body_len == 0) {
		reply_error(r, 400, "request.empty_body", "请求体不能为空", NULL);
		return NULL;
	}
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		char *msg = arena_printf(r->arena, "请求体不是合法的 JSON（第 %d 行第 %d 列）", e.line, e.column);
		reply_error(r, 400, "request.malformed_json", msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "request.not_object", "请求体必须是 JSON 对象", NULL);
		return NULL;
	}
	/* the object lives as long as the request; the server frees it */
	r->json_owned = j;
	return j;
}

static int set_body(struct req *r, int status, const char *type, char *body, size_t len)
{
	if (r->status) {
		/* a second answer is a bug in the handler; keep the first */
		log_error("request %s: second reply ignored (status %d)", r->request_id, status);
		free(body);
		return -1;
	}
	r->status = status;
	r->resp_type = type;
	r->resp_body = body;
	r->resp_len = len;
	return 0;
}

int reply_take(struct req *r, int status, const char *type, char *body, size_t len)
{
	return set_body(r, status, type, body, len);
}

int reply_raw(struct req *r, int status, const char *type, const void *body, size_t len)
{
	char *p = malloc(len + 1);
	if (!p)
		abort();
	if (len)
		memcpy(p, body, len);
	p[len] = '\0';
	return set_body(r, status, type, p, len);
}

int reply_json(struct req *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, REPLY_JSON_FLAGS) : NULL;
	json_decref(j);
	if (!s) {
		/* a value that could not be built (e.g. text that is not UTF-8):
		 * a bug to log, not a reason to take the server down */
		log_error("request %s: response could not be encoded as JSON", r->request_id);
		static const char fallback[] =
			"{\"error\":{\"code\":\"internal\",\"message\":\"服务器内部错误，请稍后重试\",\"field\":null}}";
		s = strdup(fallback);
		if (!s)
			abort();
		status = 500;
	}
	return set_body(r, status, REPLY_JSON_TYPE, s, strlen(s));
}

int reply_page(struct req *r, json_t *items, int64_t total, int64_t page, int64_t size)
{
	return reply_json(r, 200, json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total", (json_int_t)total, "page",
					    (json_int_t)page, "page_size", (json_int_t)size));
}

int reply_error(struct req *r, int status, const char *code, const char *message, const char *field)
{
	json_t *e = json_pack("{s:s,s:s,s:s?}", "code", code, "message", message, "field", field);
	if (!field)
		json_object_set_new(e, "field", json_null());
	return reply_json(r, status, json_pack("{s:o}", "error", e));
}

int reply_no_content(struct req *r)
{
	return set_body(r, 204, NULL, NULL, 0);
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (r->nheaders < (int)(sizeof r->hname / sizeof r->hname[0])) {
		r->hname[r->nheaders] = arena_strdup(r->arena, name);
		r->hval[r->nheaders] = arena_strdup(r->arena, value);
		r->nheaders++;
	}
}

int reply_not_found(struct req *r)
{
	return reply_error(r, 404, "not_found", "记录不存在或不在您的管辖范围内", NULL);
}

int reply_forbidden(struct req *r)
{
	return reply_error(r, 403, "forbidden", "没有执行此操作的权限", NULL);
}

int reply_internal(struct req *r, const char *what)
{
	log_error("request %s: %s", r->request_id, what ? what : "internal error");
	return reply_error(r, 500, "internal", "服务器内部错误，请稍后重试", NULL);
}

int reply_store_error(struct req *r, int rc, const char *conflict_code, const char *conflict_msg,
		      const char *field)
{
	if (rc == STORE_CONSTRAINT)
		return reply_error(r, 409, conflict_code ? conflict_code : "conflict",
				   conflict_msg ? conflict_msg : "数据冲突：记录已存在或被引用", field);
	if (rc == STORE_BUSY)
		return reply_error(r, 503, "busy", "系统繁忙，请稍后重试", NULL);
	if (rc == STORE_NOTFOUND)
		return reply_not_found(r);
	return reply_internal(r, r->db ? db_errmsg(r->db) : "store error");
}

int principal_has(const struct principal *p, const char *perm)
{
	if (!p || !p->perms || !perm)
		return 0;
	size_t n = strlen(perm);
	for (const char *s = p->perms; (s = strstr(s, perm)) != NULL; s += n)
		if ((s == p->perms || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
			return 1;
	return 0;
}
