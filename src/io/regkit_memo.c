/*
 * regkit_memo.c - the memo of serialised records (regkit.h).
 *
 * 1024 slots chosen by id, each with its own lock; a slot holds one
 * record's row bytes and the JSON text made from them. A hit copies the
 * text out under the slot's lock; a miss costs the caller what it would
 * have spent anyway.
 */
#include "io/regkit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define MEMO_SLOTS 1024

struct slot {
	pthread_mutex_t mu;
	int64_t id;     /* 0: empty */
	char *key;
	size_t keylen;
	char *text;
	size_t len;
};

struct rk_memo {
	struct slot s[MEMO_SLOTS];
};

static struct slot *slot_of(struct rk_memo *m, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
	return &m->s[h >> 54]; /* top 10 bits: 1024 slots */
}

struct rk_memo *rk_memo_new(void)
{
	struct rk_memo *m = calloc(1, sizeof *m);
	if (!m)
		abort();
	for (int i = 0; i < MEMO_SLOTS; i++)
		pthread_mutex_init(&m->s[i].mu, NULL);
	return m;
}

void rk_memo_free(struct rk_memo *m)
{
	if (!m)
		return;
	for (int i = 0; i < MEMO_SLOTS; i++) {
		free(m->s[i].key);
		free(m->s[i].text);
		pthread_mutex_destroy(&m->s[i].mu);
	}
	free(m);
}

char *rk_memo_get(struct rk_memo *m, int64_t id, const char *key, size_t keylen, size_t *len)
{
	struct slot *s = slot_of(m, id);
	char *out = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->id == id && s->keylen == keylen && memcmp(s->key, key, keylen) == 0) {
		if (!(out = malloc(s->len + 1)))
			abort();
		memcpy(out, s->text, s->len);
		out[s->len] = '\0';
		*len = s->len;
	}
	pthread_mutex_unlock(&s->mu);
	return out;
}

void rk_memo_put(struct rk_memo *m, int64_t id, const char *key, size_t keylen, const char *text, size_t len)
{
	char *k = malloc(keylen ? keylen : 1), *t = malloc(len + 1);
	if (!k || !t)
		abort();
	memcpy(k, key, keylen);
	memcpy(t, text, len);
	t[len] = '\0';
	struct slot *s = slot_of(m, id);
	pthread_mutex_lock(&s->mu);
	char *ok = s->key, *ot = s->text;
	s->id = id;
	s->key = k;
	s->keylen = keylen;
	s->text = t;
	s->len = len;
	pthread_mutex_unlock(&s->mu);
	free(ok);
	free(ot);
}

int rk_step_one(struct db *db, struct sqlb *b, struct stmt **st)
{
	int rc = sqlb_prepare(b, db, st);
	sqlb_free(b);
	if (rc)
		return rc;
	if ((rc = stmt_step(*st)) == STORE_ROW)
		return 0;
	stmt_finalize(*st);
	*st = NULL;
	return rc == STORE_DONE ? STORE_NOTFOUND : rc;
}

int rk_fetch_text(struct db *db, struct sqlb *b, int64_t id, int ncols, json_t *(*to_json)(struct stmt *st),
		  struct rk_memo *memo, size_t flags, char **text, size_t *len)
{
	*text = NULL;
	struct stmt *st;
	int rc = rk_step_one(db, b, &st);
	if (rc)
		return rc;
	size_t klen;
	char *key = stmt_row_key(st, 0, ncols, &klen);
	if (!(*text = rk_memo_get(memo, id, key, klen, len))) {
		json_t *rec = to_json(st);
		*text = rec ? json_dumps(rec, flags) : NULL;
		json_decref(rec);
		if (*text) {
			*len = strlen(*text);
			rk_memo_put(memo, id, key, klen, *text, *len);
		}
	}
	free(key);
	stmt_finalize(st);
	return *text ? 0 : STORE_ERR;
}
