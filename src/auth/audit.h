/*
 * audit.h - the tamper-evident audit trail.
 *
 * Every write (who, when, client address, record, before and after) and
 * every read of personal data is appended to the audit table. Each entry's
 * hash is SHA-256 over the previous entry's hash and the entry's content,
 * so altering, inserting or deleting an entry breaks the chain, which
 * `xiaoan audit verify` finds. The head (last seq and hash) lives in
 * audit_head, updated in the same transaction, which also serialises
 * appenders.
 */
#ifndef XIAOAN_AUDIT_H
#define XIAOAN_AUDIT_H

#include "core/router.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct db;
struct req;

struct audit_actor {
	int64_t user_id;        /* 0 = the system / CLI */
	const char *username;   /* "system" for the CLI */
	const char *client_ip;
	const char *request_id;
};

/* The actor of a request (its user, address and request id). */
void audit_actor_of(struct req *r, struct audit_actor *a);

/* Appends one entry. Must run inside an open write transaction (db_begin)
 * so that the entry commits or rolls back with the change it records.
 * before/after may be NULL; they are not stolen. Returns 0 or a store error. */
int audit_append(struct db *db, const struct audit_actor *a, const char *action, const char *entity,
		 const char *entity_id, json_t *before, json_t *after);

/* audit_append with before and after already printed by audit_json (so a
 * writer can print them before it takes the write lock). */
int audit_append_text(struct db *db, const struct audit_actor *a, const char *action, const char *entity,
		      const char *entity_id, const char *before, const char *after);
/* v as the audit trail stores it (malloc'd; NULL for NULL). */
char *audit_json(json_t *v);

/* Convenience: audit_append with the request's actor on req_db(r). */
int audit_write(struct req *r, const char *action, const char *entity, const char *entity_id, json_t *before,
		json_t *after);

/* Records a read of personal data in its own transaction. */
int audit_read(struct req *r, const char *entity, const char *entity_id, const char *what);

/* Walks the whole chain, then checks every checkpoint: the entry at its
 * seq must still exist with its hash. Reports every problem found on out
 * (one line each, naming the seq or the checkpoint) and returns 0 when the
 * chain holds, 1 when it is broken, -1 on a store error. */
int audit_verify(struct db *db, FILE *out);

/* A checkpoint copies the chain's head (last seq and its hash) into
 * audit_checkpoints, append-only like the trail. Deleting entries from the
 * end and rewriting audit_head to match leaves a chain that holds
 * together; a checkpoint that covers a deleted entry still names it. The
 * background job audit_checkpoint takes one daily; `xiaoan audit
 * checkpoint` takes one now. */
struct audit_checkpoint {
	int64_t seq;            /* 0: the trail is empty, nothing to record */
	char hash[65];
	char at[32];            /* when it was taken (the earlier one if it existed) */
	int made;               /* 1: new; 0: the head had one already */
};

/* Takes a checkpoint of the head, in its own transaction, and logs it (the
 * log is a second copy outside the database). Idempotent: a head that has
 * a checkpoint keeps it. Returns 0 or a store error. */
int audit_checkpoint(struct db *db, struct audit_checkpoint *out);

/* The entry hash: SHA-256 hex over prev_hash and the fields, each field
 * length-prefixed so no two different entries hash the same text. */
void audit_hash(const char *prev_hash, int64_t seq, const char *at, int64_t user_id, const char *username,
		const char *client_ip, const char *action, const char *entity, const char *entity_id,
		const char *before, const char *after, const char *request_id, char out[65]);


/* The history of one record, newest first, as a JSON array of
 * {seq, at, username, client_ip, action, before, after} (new reference),
 * for a module's "操作记录" endpoint after it has checked the caller may see
 * the record. NULL on a store error. */
json_t *audit_history(struct db *db, const char *entity, const char *entity_id, int limit);

/* GET /api/audit */
extern const struct route audit_routes[];

#endif
