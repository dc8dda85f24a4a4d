/*
 * audit.c - appending to and verifying the hash-chained audit trail, and
 * GET /api/audit for administrators.
 */
#include "auth/audit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/access.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/log.h"
#include "core/router.h"
#include "store/store.h"

static void feed(crypto_hash_sha256_state *h, const char *s)
{
	/* length-prefixed so that field boundaries are part of the hash */
	char len[24];
	size_t n = s ? strlen(s) : 0;
	int k = snprintf(len, sizeof len, "%zu:", s ? n : (size_t)-1);
	crypto_hash_sha256_update(h, (const unsigned char *)len, (unsigned long long)k);
	if (n)
		crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

void audit_hash(const char *prev_hash, int64_t seq, const char *at, int64_t user_id, const char *username,
		const char *client_ip, const char *action, const char *entity, const char *entity_id,
		const char *before, const char *after, const char *request_id, char out[65])
{
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	char num[32];
	feed(&h, prev_hash);
	snprintf(num, sizeof num, "%lld", (long long)seq);
	feed(&h, num);
	feed(&h, at);
	snprintf(num, sizeof num, "%lld", (long long)user_id);
	feed(&h, num);
	feed(&h, username);
	feed(&h, client_ip);
	feed(&h, action);
	feed(&h, entity);
	feed(&h, entity_id);
	feed(&h, before);
	feed(&h, after);
	feed(&h, request_id);
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof d);
}

void audit_actor_of(struct req *r, struct audit_actor *a)
{
	a->user_id = r->user ? r->user->user_id : 0;
	a->username = r->user ? r->user->username : "-";
	a->client_ip = r->client_ip ? r->client_ip : "";
	a->request_id = r->request_id ? r->request_id : "";
}

char *audit_json(json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

int audit_append(struct db *db, const struct audit_actor *a, const char *action, const char *entity,
		 const char *entity_id, json_t *before, json_t *after)
{
	char *bj = audit_json(before), *aj = audit_json(after);
	int rc = audit_append_text(db, a, action, entity, entity_id, bj, aj);
	free(bj);
	free(aj);
	return rc;
}

int audit_append_text(struct db *db, const struct audit_actor *a, const char *action, const char *entity,
		      const char *entity_id, const char *bj, const char *aj)
{
	struct stmt *st = NULL;
	int rc;
	int64_t seq = 0;
	char prev[65] = "", at[32], hash[65];

	/* the head row serialises appenders: taking the next number is an
	 * UPDATE, so the row is locked from here to the caller's commit on any
	 * database (on PostgreSQL a plain SELECT would let two appenders read
	 * the same head); RETURNING gives the new number and the previous hash */
	if ((rc = db_prepare(db, &st, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")))
		goto out;
	if ((rc = stmt_step(st)) != STORE_ROW) {
		rc = rc < 0 ? rc : STORE_ERR; /* a lock wait that timed out stays STORE_BUSY */
		goto out;
	}
	seq = stmt_int64(st, 0);
	snprintf(prev, sizeof prev, "%s", stmt_text(st, 1));
	stmt_finalize(st);
	st = NULL;

	clock_iso(at);
	audit_hash(prev, seq, at, a->user_id, a->username, a->client_ip, action, entity, entity_id, bj, aj,
		   a->request_id, hash);
	if ((rc = db_prepare(db, &st,
			     "INSERT INTO audit (seq, at, user_id, username, client_ip, action, entity, entity_id,"
			     " before_json, after_json, request_id, prev_hash, hash)"
			     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")))
		goto out;
	stmt_bind_int64(st, 1, seq);
	stmt_bind_text(st, 2, at);
	if (a->user_id)
		stmt_bind_int64(st, 3, a->user_id);
	else
		stmt_bind_null(st, 3);
	stmt_bind_text(st, 4, a->username);
	stmt_bind_text(st, 5, a->client_ip);
	stmt_bind_text(st, 6, action);
	stmt_bind_text(st, 7, entity);
	stmt_bind_text(st, 8, entity_id);
	stmt_bind_text(st, 9, bj);
	stmt_bind_text(st, 10, aj);
	stmt_bind_text(st, 11, a->request_id);
	stmt_bind_text(st, 12, prev);
	stmt_bind_text(st, 13, hash);
	if ((rc = stmt_step(st)) != STORE_DONE)
		goto out;
	stmt_finalize(st);
	st = NULL;
	if ((rc = db_prepare(db, &st, "UPDATE audit_head SET hash = $1 WHERE id = 1")))
		goto out;
	stmt_bind_text(st, 1, hash);
	rc = stmt_step(st) == STORE_DONE ? STORE_OK : STORE_ERR;
out:
	if (rc == STORE_DONE || rc == STORE_ROW)
		rc = STORE_ERR;
	stmt_finalize(st);
	return rc;
}

int audit_write(struct req *r, const char *action, const char *entity, const char *entity_id, json_t *before,
		json_t *after)
{
	struct audit_actor a;
	audit_actor_of(r, &a);
	return audit_append(req_db(r), &a, action, entity, entity_id, before, after);
}

int audit_read(struct req *r, const char *entity, const char *entity_id, const char *what)
{
	struct db *db = req_db(r);
	int rc = db_begin(db);
	if (rc)
		return rc;
	json_t *j = json_pack("{s:s}", "fields", what ? what : "");
	rc = audit_write(r, "read", entity, entity_id, NULL, j);
	json_decref(j);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

static int verify_checkpoints(struct db *db, FILE *out, int64_t *n);

int audit_verify(struct db *db, FILE *out)
{
	struct stmt *st;
	int rc = db_prepare(db, &st,
			    "SELECT seq, at, user_id, username, client_ip, action, entity, entity_id, before_json,"
			    " after_json, request_id, prev_hash, hash FROM audit ORDER BY seq");
	if (rc)
		return -1;
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	int64_t expect = 1, n = 0;
	int broken = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		int64_t seq = stmt_int64(st, 0);
		const char *stored_prev = stmt_text(st, 11), *stored = stmt_text(st, 12);
		char h[65];
		n++;
		if (seq != expect) {
			fprintf(out, "audit: entries %lld..%lld are missing (deleted)\n", (long long)expect,
				(long long)seq - 1);
			broken = 1;
		}
		if (!stored_prev || strcmp(stored_prev, prev) != 0) {
			fprintf(out, "audit: entry %lld does not follow the entry before it (inserted, or its predecessor was removed)\n",
				(long long)seq);
			broken = 1;
		}
		audit_hash(stored_prev ? stored_prev : "", seq, stmt_text(st, 1), stmt_int64(st, 2), stmt_text(st, 3),
			   stmt_text(st, 4), stmt_text(st, 5), stmt_text(st, 6), stmt_text(st, 7), stmt_text(st, 8),
			   stmt_text(st, 9), stmt_text(st, 10), h);
		if (!stored || strcmp(h, stored) != 0) {
			fprintf(out, "audit: entry %lld was altered (its content does not match its hash)\n", (long long)seq);
			broken = 1;
		}
		snprintf(prev, sizeof prev, "%s", stored ? stored : "");
		expect = seq + 1;
	}
	stmt_finalize(st);
	if (rc != STORE_DONE)
		return -1;
	/* the head catches entries removed from the end */
	if (db_prepare(db, &st, "SELECT seq, hash FROM audit_head WHERE id = 1") == STORE_OK) {
		if (stmt_step(st) == STORE_ROW) {
			int64_t hseq = stmt_int64(st, 0);
			const char *hh = stmt_text(st, 1);
			if (hseq != expect - 1 || !hh || strcmp(hh, prev) != 0) {
				fprintf(out, "audit: the chain ends at entry %lld but the recorded head is entry %lld (entries removed from the end, or the head altered)\n",
					(long long)expect - 1, (long long)hseq);
				broken = 1;
			}
		}
		stmt_finalize(st);
	}
	int64_t nck = 0;
	int ck = verify_checkpoints(db, out, &nck);
	if (ck < 0)
		return -1;
	broken |= ck;
	if (!broken)
		fprintf(out, "audit: %lld entries, chain intact; %lld checkpoint(s) hold\n", (long long)n,
			(long long)nck);
	return broken;
}

/* ---- checkpoints ------------------------------------------------------------ */

/* Every checkpoint's entry must exist with the hash it had. Returns 0, 1
 * when one fails (each reported on out), -1 on a store error. */
static int verify_checkpoints(struct db *db, FILE *out, int64_t *n)
{
	struct stmt *st;
	if (db_prepare(db, &st,
		       "SELECT c.seq, c.hash, c.at, a.hash FROM audit_checkpoints c LEFT JOIN audit a ON a.seq = c.seq"
		       " ORDER BY c.seq"))
		return -1;
	int rc, broken = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		int64_t seq = stmt_int64(st, 0);
		const char *want = stmt_text(st, 1), *at = stmt_text(st, 2), *have = stmt_text(st, 3);
		(*n)++;
		if (!have) {
			fprintf(out, "audit: checkpoint %lld (taken %s) fails: entry %lld is missing (entries deleted)\n",
				(long long)seq, at, (long long)seq);
			broken = 1;
		} else if (!want || strcmp(want, have) != 0) {
			fprintf(out, "audit: checkpoint %lld (taken %s) fails: entry %lld's hash differs from the one recorded (the chain was rewritten)\n",
				(long long)seq, at, (long long)seq);
			broken = 1;
		}
	}
	stmt_finalize(st);
	return rc == STORE_DONE ? broken : -1;
}

int audit_checkpoint(struct db *db, struct audit_checkpoint *out)
{
	struct stmt *st = NULL;
	memset(out, 0, sizeof *out);
	/* in a write transaction: the head cannot move between reading it and
	 * recording it */
	int rc = db_begin(db);
	if (rc)
		return rc;
	if ((rc = db_prepare(db, &st, "SELECT seq, hash FROM audit_head WHERE id = 1")))
		goto out;
	if ((rc = stmt_step(st)) != STORE_ROW)
		goto out;
	out->seq = stmt_int64(st, 0);
	snprintf(out->hash, sizeof out->hash, "%s", stmt_text(st, 1) ? stmt_text(st, 1) : "");
	stmt_finalize(st);
	st = NULL;
	if (out->seq == 0) {
		rc = db_rollback(db);
		return rc;
	}
	clock_iso(out->at);
	if ((rc = db_prepare(db, &st,
			     "INSERT INTO audit_checkpoints (seq, hash, at) VALUES ($1, $2, $3)"
			     " ON CONFLICT (seq) DO NOTHING")))
		goto out;
	stmt_bind_int64(st, 1, out->seq);
	stmt_bind_text(st, 2, out->hash);
	stmt_bind_text(st, 3, out->at);
	if ((rc = stmt_step(st)) != STORE_DONE)
		goto out;
	out->made = db_changes(db) == 1;
	stmt_finalize(st);
	st = NULL;
	if (!out->made) {
		if ((rc = db_prepare(db, &st, "SELECT at FROM audit_checkpoints WHERE seq = $1")))
			goto out;
		stmt_bind_int64(st, 1, out->seq);
		if (stmt_step(st) == STORE_ROW)
			snprintf(out->at, sizeof out->at, "%s", stmt_text(st, 0));
		stmt_finalize(st);
		st = NULL;
	}
	if ((rc = db_commit(db)))
		goto out;
	if (out->made)
		log_info("audit checkpoint: entry %lld hash %s", (long long)out->seq, out->hash);
	return STORE_OK;
out:
	stmt_finalize(st);
	if (rc == STORE_ROW || rc == STORE_DONE)
		rc = STORE_ERR;
	if (db_in_tx(db))
		db_rollback(db);
	return rc;
}

json_t *audit_history(struct db *db, const char *entity, const char *entity_id, int limit)
{
	struct stmt *st;
	if (db_prepare(db, &st,
		       "SELECT seq, at, username, client_ip, action, before_json, after_json FROM audit"
		       " WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT $3"))
		return NULL;
	stmt_bind_text(st, 1, entity);
	stmt_bind_text(st, 2, entity_id);
	stmt_bind_int64(st, 3, limit);
	json_t *items = json_array();
	while (stmt_step(st) == STORE_ROW) {
		json_t *before = stmt_text(st, 5) ? json_loads(stmt_text(st, 5), 0, NULL) : NULL;
		json_t *after = stmt_text(st, 6) ? json_loads(stmt_text(st, 6), 0, NULL) : NULL;
		json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o}", "seq", (json_int_t)stmt_int64(st, 0),
						       "at", stmt_text(st, 1), "username", stmt_text(st, 2), "client_ip",
						       stmt_text(st, 3), "action", stmt_text(st, 4), "before",
						       before ? before : json_null(), "after", after ? after : json_null()));
	}
	stmt_finalize(st);
	return items;
}

/* ---- GET /api/audit -------------------------------------------------------- */

/* Filters shared by the count and the page. Entries are those made by
 * users inside the caller's data scope (an administrator of a county sees
 * what the county's officials did), plus, for scope "all", the system's. */
static int audit_filters(struct req *r, struct sqlb *b)
{
	static const struct {
		const char *param, *sql;
	} f[] = {
		{ "user", " AND a.username = " },    { "entity", " AND a.entity = " },
		{ "entity_id", " AND a.entity_id = " }, { "action", " AND a.action = " },
		{ "from", " AND a.at >= " },         { "to", " AND a.at <= " },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *v = req_query(r, f[i].param);
		if (!v || !*v)
			continue;
		if (strlen(v) > 64) {
			reply_error(r, 400, "validation.too_long", "查询条件过长", f[i].param);
			return -1;
		}
		sqlb_add(b, f[i].sql);
		sqlb_text(b, v);
	}
	if (strcmp(r->user->scope_kind, "all") != 0) {
		sqlb_add(b, " AND a.user_id IN (SELECT u.id FROM users u JOIN units n ON n.id = u.unit_id WHERE 1=1");
		struct scope_cols c = { .region = "n.region_code", .unit = "n.id" };
		scope_sql(r->user, b, &c);
		sqlb_add(b, ")");
	}
	return 0;
}

static int query_int(struct req *r, const char *name, long dflt, long lo, long hi, long *out)
{
	const char *v = req_query(r, name);
	*out = dflt;
	if (!v)
		return 0;
	char *e;
	long n = strtol(v, &e, 10);
	if (!*v || *e || n < lo || n > hi) {
		reply_error(r, 400, "validation.range", arena_printf(r->arena, "%s 须为 %ld 到 %ld 之间的整数", name, lo, hi),
			    name);
		return -1;
	}
	*out = n;
	return 0;
}

static int api_audit_list(struct req *r)
{
	long page, size;
	if (query_int(r, "page", 1, 1, 1000000, &page) || query_int(r, "page_size", 50, 1, 500, &size))
		return 0;
	struct db *db = req_db(r);
	struct sqlb b;
	sqlb_init(&b);
	sqlb_add(&b, "SELECT count(*) FROM audit a WHERE 1=1");
	if (audit_filters(r, &b)) {
		sqlb_free(&b);
		return 0;
	}
	struct stmt *st;
	int64_t total = 0;
	int rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	if (stmt_step(st) == STORE_ROW)
		total = stmt_int64(st, 0);
	stmt_finalize(st);

	sqlb_init(&b);
	sqlb_add(&b, "SELECT a.seq, a.at, a.user_id, a.username, a.client_ip, a.action, a.entity, a.entity_id,"
		     " a.before_json, a.after_json, a.request_id, a.hash FROM audit a WHERE 1=1");
	audit_filters(r, &b);
	sqlb_add(&b, " ORDER BY a.seq DESC LIMIT ");
	sqlb_int(&b, size);
	sqlb_add(&b, " OFFSET ");
	sqlb_int(&b, (page - 1) * size);
	rc = sqlb_prepare(&b, db, &st);
	sqlb_free(&b);
	if (rc)
		return reply_store_error(r, rc, NULL, NULL, NULL);
	json_t *items = json_array();
	while ((rc = stmt_step(st)) == STORE_ROW) {
		json_t *before = stmt_text(st, 8) ? json_loads(stmt_text(st, 8), 0, NULL) : NULL;
		json_t *after = stmt_text(st, 9) ? json_loads(stmt_text(st, 9), 0, NULL) : NULL;
		json_array_append_new(
			items, json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s}", "seq",
					 (json_int_t)stmt_int64(st, 0), "at", stmt_text(st, 1), "user_id",
					 (json_int_t)stmt_int64(st, 2), "username", stmt_text(st, 3), "client_ip",
					 stmt_text(st, 4), "action", stmt_text(st, 5), "entity", stmt_text(st, 6),
					 "entity_id", stmt_text(st, 7), "before", before ? before : json_null(), "after",
					 after ? after : json_null(), "request_id", stmt_text(st, 10), "hash",
					 stmt_text(st, 11)));
	}
	stmt_finalize(st);
	/* the trail holds personal data (accounts' phones): reading it is
	 * itself recorded */
	if ((rc = audit_read(r, "audit", "search", "audit entries"))) {
		json_decref(items);
		return reply_store_error(r, rc, NULL, NULL, NULL);
	}
	return reply_page(r, items, total, page, size);
}

const struct route audit_routes[] = {
	{ .method = "GET", .pattern = "/api/audit", .handler = api_audit_list, .perm = "audit.read" },
	{ 0 },
};
