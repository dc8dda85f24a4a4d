/*
 * copy.c - `xiaoan copy --from URL --to URL`: every table of one Xiaoan
 * database into another, empty one, SQLite or PostgreSQL on either side.
 * A county moving up to a province server is sqlite:... -> postgres://...;
 * the reverse makes a test copy of a province's database on one machine.
 *
 * What keeps the copy faithful:
 * - the target is migrated by this binary and must then be at the source's
 *   schema version, and empty;
 * - the tables are an explicit list in foreign-key order (parents first;
 *   in a table that points at itself, parents before children), checked
 *   against both databases' catalogs, so a table a migration added but the
 *   list lacks stops the copy instead of being left behind (and
 *   tests/unit/test_copy.c fails on the migrated schema first);
 * - the source is read in one snapshot (SQLite: one read transaction, so a
 *   serving server keeps writing meanwhile; PostgreSQL: REPEATABLE READ),
 *   in batches; the target is written in one transaction;
 * - values keep their types: integers as int64, reals as doubles (bit for
 *   bit), text as text, NULL as NULL; a value that does not fit its
 *   column's type stops the copy. The audit trail is copied row for row,
 *   so its hash chain verifies on the target;
 * - afterwards the counts are compared table by table, PostgreSQL's
 *   identity sequences are moved past the copied ids, and the target's
 *   audit chain is verified.
 *
 * The catalog queries (sqlite_master, pragma_table_info,
 * information_schema) are the one place outside the store and migrate.c
 * that speaks each dialect: this command is about the two databases.
 */
#include "ops/ops.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/audit.h"
#include "store/store.h"

/*--- the tables, in foreign-key order -----------------------------------------*/

struct copy_table {
	const char *name;
	const char *key;    /* a unique column to read in batches by (keyset), or NULL: read in one go */
	const char *order;  /* with key NULL: the order that puts parents before children */
	const char *seeded; /* the migration inserts rows: counts the rows that differ from the seed
			     * (the copy replaces the seed with the source's rows) */
};

static const struct copy_table tables[] = {
	{ "regions", NULL, "length(path), code", NULL },  /* path: /340000/340800/; a parent's is shorter */
	{ "units", NULL, "length(path), id", NULL },
	{ "roles", "code", NULL, NULL },
	{ "users", "id", NULL, NULL },
	{ "user_roles", NULL, "user_id, role_code", NULL },
	{ "sessions", "id", NULL, NULL },
	{ "login_failures", "client_ip", NULL, NULL },
	{ "audit", "seq", NULL, NULL },
	{ "audit_head", NULL, "id", "SELECT count(*) FROM audit_head WHERE seq <> 0" },
	{ "schools", "id", NULL, NULL },
	{ "settings", "key", NULL, NULL },
	/* migration 2: the scheduler and the audit checkpoints */
	{ "jobs", "name", NULL, NULL },
	{ "job_runs", "id", NULL, NULL },
	{ "audit_checkpoints", "seq", NULL, NULL },
	/* migration 3: the surroundings */
	{ "venue_categories", "code", NULL, "SELECT count(*) FROM venue_categories WHERE sort > 19" },
	{ "venues", "id", NULL, NULL },
	{ "zone_rules", "id", NULL, NULL },
	{ "zone_rule_versions", NULL, "rule_id, version", NULL },
	{ "zone_findings", "id", NULL, NULL },
	{ "zone_finding_events", "id", NULL, NULL },
	{ "zone_changes", "seq", NULL, NULL },
};
#define NTABLES ((int)(sizeof tables / sizeof tables[0]))

/* kept by each database for itself: the target has its own, from store_migrate */
static const char migrations_table[] = "schema_migrations";

#define BATCH 1000     /* rows read per query from a keyed table */
#define MAXPARAMS 64   /* the store's limit of parameters per statement */
#define MAXCOLS MAXPARAMS
#define PROGRESS_ROWS 20000

/*--- the catalogs ------------------------------------------------------------------*/

enum col_type { COL_INT, COL_REAL, COL_TEXT, COL_BLOB };

struct cols {
	int n;
	char name[MAXCOLS][64];
	enum col_type type[MAXCOLS];
};

static int is_pg(struct db *db)
{
	return store_kind(db_store(db)) == STORE_POSTGRES;
}

/* Names go into SQL text (identifiers cannot be bound): plain lower-case
 * identifiers only, and quoted where used. */
static int ident_ok(const char *s)
{
	if (!s || !*s || strlen(s) >= 64 || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* The value class of a declared column type: SQLite's affinity rules, or
 * PostgreSQL's information_schema data_type. -1 for a type copy does not
 * know. */
static int col_class(int pg, const char *decl)
{
	if (pg) {
		static const struct {
			const char *t;
			enum col_type c;
		} m[] = { { "bigint", COL_INT },	       { "integer", COL_INT },	  { "smallint", COL_INT },
			  { "double precision", COL_REAL }, { "real", COL_REAL },	  { "text", COL_TEXT },
			  { "character varying", COL_TEXT }, { "character", COL_TEXT }, { "bytea", COL_BLOB } };
		for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
			if (!strcmp(decl, m[i].t))
				return m[i].c;
		return -1;
	}
	char u[64];
	size_t n = 0;
	for (; decl[n] && n < sizeof u - 1; n++)
		u[n] = (char)(decl[n] >= 'a' && decl[n] <= 'z' ? decl[n] - 32 : decl[n]);
	u[n] = '\0';
	if (strstr(u, "INT"))
		return COL_INT;
	if (strstr(u, "CHAR") || strstr(u, "CLOB") || strstr(u, "TEXT"))
		return COL_TEXT;
	if (!*u || strstr(u, "BLOB"))
		return COL_BLOB;
	if (strstr(u, "REAL") || strstr(u, "FLOA") || strstr(u, "DOUB"))
		return COL_REAL;
	return -1;
}

/* The columns of table in db, in their order. */
static int table_cols(struct db *db, const char *table, struct cols *c, char *err, size_t errlen)
{
	int pg = is_pg(db);
	struct stmt *st;
	memset(c, 0, sizeof *c);
	if (db_prepare(db, &st,
		       pg ? "SELECT column_name, data_type FROM information_schema.columns"
			    " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
			  : "SELECT name, type FROM pragma_table_info($1) ORDER BY cid")) {
		snprintf(err, errlen, "columns of %s: %s", table, db_errmsg(db));
		return -1;
	}
	stmt_bind_text(st, 1, table);
	int rc;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		const char *name = stmt_text(st, 0), *decl = stmt_text(st, 1);
		int k = col_class(pg, decl ? decl : "");
		if (c->n == MAXCOLS || !ident_ok(name) || k < 0) {
			snprintf(err, errlen, "%s.%s: %s", table, name ? name : "?",
				 c->n == MAXCOLS ? "too many columns" : k < 0 ? "a column type copy does not know" : "an unusual column name");
			stmt_finalize(st);
			return -1;
		}
		snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
		c->type[c->n++] = (enum col_type)k;
	}
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "columns of %s: %s", table, db_errmsg(db));
		return -1;
	}
	if (!c->n) {
		snprintf(err, errlen, "no table %s", table);
		return -1;
	}
	return 0;
}

/* The source's and the target's columns of one table must be the same
 * names with the same value classes (their order may differ). */
static int cols_match(const char *table, const struct cols *a, const struct cols *b, char *err, size_t errlen)
{
	for (int i = 0; i < a->n; i++) {
		int j = 0;
		while (j < b->n && strcmp(a->name[i], b->name[j]))
			j++;
		if (j == b->n || a->type[i] != b->type[j]) {
			snprintf(err, errlen, "%s.%s: %s on the target", table, a->name[i],
				 j == b->n ? "missing" : "of another type");
			return -1;
		}
	}
	if (a->n != b->n) {
		snprintf(err, errlen, "%s: the target has %d columns, the source %d", table, b->n, a->n);
		return -1;
	}
	return 0;
}

static int known_table(const char *name)
{
	if (!strcmp(name, migrations_table))
		return 1;
	for (int i = 0; i < NTABLES; i++)
		if (!strcmp(tables[i].name, name))
			return 1;
	return 0;
}

int copy_check_tables(struct db *db, char *err, size_t errlen)
{
	struct stmt *st;
	if (db_prepare(db, &st,
		       is_pg(db) ? "SELECT table_name FROM information_schema.tables"
				   " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
				 : "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'"
				   " ORDER BY name")) {
		snprintf(err, errlen, "tables: %s", db_errmsg(db));
		return -1;
	}
	int seen[NTABLES] = { 0 }, rc, bad = 0;
	while ((rc = stmt_step(st)) == STORE_ROW) {
		const char *name = stmt_text(st, 0);
		if (!name || !known_table(name)) {
			if (!bad)
				snprintf(err, errlen,
					 "table %s is not in xiaoan copy's table list (src/ops/copy.c): this binary cannot copy it",
					 name ? name : "?");
			bad = 1;
			continue;
		}
		for (int i = 0; i < NTABLES; i++)
			if (!strcmp(tables[i].name, name))
				seen[i] = 1;
	}
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		snprintf(err, errlen, "tables: %s", db_errmsg(db));
		return -1;
	}
	if (bad)
		return -1;
	for (int i = 0; i < NTABLES; i++)
		if (!seen[i]) {
			snprintf(err, errlen, "table %s is missing", tables[i].name);
			return -1;
		}
	return 0;
}

/*--- copying one table --------------------------------------------------------------*/

struct cell {
	int null;
	int64_t i;
	double d;
	char *p; /* text (NUL-terminated) or blob, malloc'd */
	size_t n;
};

struct job {
	struct db *src, *dst;
	const struct copy_table *t;
	const struct cols *c;     /* the source's columns; the target has the same names */
	int per;                  /* rows per INSERT */
	struct cell *buf;         /* per rows of c->n cells */
	int nbuf;
	int64_t expect, copied;
	time_t last_progress;
	char *err;
	size_t errlen;
};

static void cells_clear(struct job *j)
{
	for (int k = 0; k < j->nbuf * j->c->n; k++) {
		free(j->buf[k].p);
		memset(&j->buf[k], 0, sizeof j->buf[k]);
	}
	j->nbuf = 0;
}

/* "INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)" for rows rows. */
static void insert_sql(struct sqlb *b, const char *table, const struct cols *c, int rows)
{
	char tmp[96];
	snprintf(tmp, sizeof tmp, "INSERT INTO \"%s\" (", table);
	sqlb_add(b, tmp);
	for (int i = 0; i < c->n; i++) {
		snprintf(tmp, sizeof tmp, "%s\"%s\"", i ? ", " : "", c->name[i]);
		sqlb_add(b, tmp);
	}
	sqlb_add(b, ") VALUES ");
	for (int r = 0, p = 1; r < rows; r++) {
		sqlb_add(b, r ? ", (" : "(");
		for (int i = 0; i < c->n; i++, p++) {
			snprintf(tmp, sizeof tmp, "%s$%d", i ? ", " : "", p);
			sqlb_add(b, tmp);
		}
		sqlb_add(b, ")");
	}
}

/* Writes the buffered rows with one INSERT. */
static int flush(struct job *j)
{
	if (!j->nbuf)
		return 0;
	struct sqlb b;
	sqlb_init(&b);
	insert_sql(&b, j->t->name, j->c, j->nbuf);
	struct stmt *st;
	int rc = db_prepare(j->dst, &st, b.sql);
	sqlb_free(&b);
	if (rc) {
		snprintf(j->err, j->errlen, "%s: %s", j->t->name, db_errmsg(j->dst));
		return -1;
	}
	for (int r = 0, p = 1; r < j->nbuf; r++)
		for (int i = 0; i < j->c->n; i++, p++) {
			const struct cell *x = &j->buf[r * j->c->n + i];
			if (x->null)
				stmt_bind_null(st, p);
			else if (j->c->type[i] == COL_INT)
				stmt_bind_int64(st, p, x->i);
			else if (j->c->type[i] == COL_REAL)
				stmt_bind_double(st, p, x->d);
			else if (j->c->type[i] == COL_TEXT)
				stmt_bind_text(st, p, x->p);
			else
				stmt_bind_blob(st, p, x->p, x->n);
		}
	rc = stmt_step(st);
	stmt_finalize(st);
	if (rc != STORE_DONE) {
		snprintf(j->err, j->errlen, "%s: %s", j->t->name, db_errmsg(j->dst));
		return -1;
	}
	j->copied += j->nbuf;
	cells_clear(j);
	return 0;
}

/* An integer in canonical decimal, as both databases print an integer. */
static int parse_int(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (*e || errno)
		return -1;
	*out = v;
	return 0;
}

/* Takes the source's current row into the buffer, each value as its
 * column's type; a value that does not fit stops the copy. */
static int take_row(struct job *j, struct stmt *st)
{
	struct cell *row = &j->buf[j->nbuf * j->c->n];
	for (int i = 0; i < j->c->n; i++) {
		struct cell *x = &row[i];
		if (stmt_is_null(st, i)) {
			x->null = 1;
			continue;
		}
		const char *v;
		switch (j->c->type[i]) {
		case COL_INT:
			if (parse_int(stmt_text(st, i), &x->i) == 0)
				continue;
			break;
		case COL_REAL:
			/* the double itself (SQLite's text of a real has 15 digits) */
			x->d = stmt_double(st, i);
			v = stmt_text(st, i);
			if (v && *v) {
				char *e;
				strtod(v, &e);
				if (!*e)
					continue;
			}
			break;
		case COL_TEXT:
			if (!(x->p = strdup(stmt_text(st, i))))
				abort();
			continue;
		case COL_BLOB: {
			size_t n = 0;
			const void *p = stmt_blob(st, i, &n);
			if (!(x->p = malloc(n ? n : 1)))
				abort();
			if (n)
				memcpy(x->p, p, n);
			x->n = n;
			continue;
		}
		}
		v = stmt_text(st, i);
		snprintf(j->err, j->errlen, "%s.%s: '%.40s' is not %s", j->t->name, j->c->name[i], v ? v : "",
			 j->c->type[i] == COL_INT ? "an integer" : "a number");
		j->nbuf++; /* so that cells_clear frees this row too */
		return -1;
	}
	j->nbuf++;
	return 0;
}

static void progress(struct job *j, int done)
{
	if (j->expect < PROGRESS_ROWS)
		return;
	time_t now = time(NULL);
	if (!done && now == j->last_progress)
		return;
	j->last_progress = now;
	fprintf(stderr, "copy: %s %lld of %lld rows%s\n", j->t->name, (long long)(j->copied + j->nbuf),
		(long long)j->expect, done ? ", done" : "");
}

/* "SELECT "a", "b" FROM "t" [WHERE "key" > $1] ORDER BY ... [LIMIT n]" */
static void select_sql(struct sqlb *b, const struct copy_table *t, const struct cols *c, int after)
{
	char tmp[160];
	sqlb_add(b, "SELECT ");
	for (int i = 0; i < c->n; i++) {
		snprintf(tmp, sizeof tmp, "%s\"%s\"", i ? ", " : "", c->name[i]);
		sqlb_add(b, tmp);
	}
	snprintf(tmp, sizeof tmp, " FROM \"%s\"", t->name);
	sqlb_add(b, tmp);
	if (t->key) {
		if (after)
			snprintf(tmp, sizeof tmp, " WHERE \"%s\" > $1 ORDER BY \"%s\" LIMIT %d", t->key, t->key, BATCH);
		else
			snprintf(tmp, sizeof tmp, " ORDER BY \"%s\" LIMIT %d", t->key, BATCH);
		sqlb_add(b, tmp);
	} else {
		sqlb_add(b, " ORDER BY ");
		sqlb_add(b, t->order);
	}
}

/* Copies table t from j->src (inside its snapshot) into j->dst (inside
 * its transaction), in batches. */
static int copy_rows(struct job *j)
{
	int key = -1;
	if (j->t->key) {
		for (int i = 0; i < j->c->n; i++)
			if (!strcmp(j->c->name[i], j->t->key))
				key = i;
		if (key < 0 || (j->c->type[key] != COL_INT && j->c->type[key] != COL_TEXT)) {
			snprintf(j->err, j->errlen, "%s: no usable key column %s", j->t->name, j->t->key);
			return -1;
		}
	}
	int64_t last_i = 0;
	char *last_s = NULL;
	int after = 0, rc = 0;
	for (;;) {
		struct sqlb b;
		sqlb_init(&b);
		select_sql(&b, j->t, j->c, after);
		struct stmt *st;
		if (db_prepare(j->src, &st, b.sql)) {
			snprintf(j->err, j->errlen, "%s: %s", j->t->name, db_errmsg(j->src));
			sqlb_free(&b);
			rc = -1;
			break;
		}
		sqlb_free(&b);
		if (after) {
			if (j->c->type[key] == COL_INT)
				stmt_bind_int64(st, 1, last_i);
			else
				stmt_bind_text(st, 1, last_s);
		}
		int n = 0, r;
		while ((r = stmt_step(st)) == STORE_ROW) {
			n++;
			if (take_row(j, st) || (j->nbuf == j->per && flush(j))) {
				rc = -1;
				break;
			}
			if (key >= 0) {
				if (j->c->type[key] == COL_INT) {
					last_i = stmt_int64(st, key);
				} else {
					free(last_s);
					if (!(last_s = strdup(stmt_text(st, key))))
						abort();
				}
			}
		}
		if (!rc && r != STORE_DONE) {
			snprintf(j->err, j->errlen, "%s: %s", j->t->name, db_errmsg(j->src));
			rc = -1;
		}
		stmt_finalize(st);
		if (rc)
			break;
		progress(j, 0);
		if (key < 0 || n < BATCH)
			break;
		after = 1;
	}
	free(last_s);
	if (!rc)
		rc = flush(j);
	if (!rc)
		progress(j, 1);
	cells_clear(j);
	return rc;
}

/*--- the command -----------------------------------------------------------------------*/

static const char copy_usage[] =
	"usage: xiaoan copy --from URL --to URL\n"
	"Copies every table of a Xiaoan database into another, empty one: URL is sqlite:PATH or\n"
	"postgres://user:password@host:port/db, in either direction. The target is migrated to this\n"
	"binary's schema first and must then be empty; the source may be a serving server's database\n"
	"(it is read in one snapshot). Prints the row counts of both sides per table and verifies the\n"
	"audit chain on the target; exits 1 on any difference.\n";

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	fprintf(stderr, "xiaoan: copy: ");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* url with its password, if any, replaced by "***" (for printing). */
static void safe_url(const char *url, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", url);
	const char *s = strstr(url, "://");
	if (!s)
		return;
	s += 3;
	const char *at = NULL;
	for (const char *p = s; *p && *p != '/'; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	if (colon)
		snprintf(out, outlen, "%.*s:***%s", (int)(colon - url), url, at);
}

static struct store *open_url(const char *url, int must_exist, char *err, size_t errlen)
{
	int pg = !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
	struct stat sb;
	if (!pg && must_exist) {
		/* SQLite would create a missing file: a typo must not copy nothing */
		const char *path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
		if (stat(path, &sb) != 0) {
			snprintf(err, errlen, "no database at %s", path);
			return NULL;
		}
	}
	return store_open(url, 2, err, errlen);
}

/* The rows of table, or what query counts; *ok = 0 on a store error. */
static int64_t count_rows(struct db *db, const char *table, const char *query, int *ok)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
	int64_t n = 0;
	if (db_query_int64(db, &n, query ? query : sql, 0) != STORE_OK)
		*ok = 0;
	return n;
}

/* An empty target: nothing to merge with, nothing to overwrite. Returns
 * 0 when every table is empty (a seeded one holds only its seed), -1 with
 * the reason in err otherwise. With before_migrate, a table that does not
 * exist yet counts as empty. */
static int target_nonempty(struct db *dst, int before_migrate, char *err, size_t errlen)
{
	for (int i = 0; i < NTABLES; i++) {
		int ok = 1;
		int64_t n = count_rows(dst, tables[i].name, tables[i].seeded, &ok);
		if (!ok && before_migrate)
			continue;
		if (!ok) {
			snprintf(err, errlen, "target: %s", db_errmsg(dst));
			return -1;
		}
		if (n) {
			snprintf(err, errlen, "the target is not empty (%s has %lld rows): copy only into a new, empty database",
				 tables[i].name, (long long)n);
			return -1;
		}
	}
	return 0;
}

/* Moves every identity sequence of the PostgreSQL target past the ids
 * just copied (explicit ids do not advance them). */
static int reset_sequences(struct db *dst, char *err, size_t errlen)
{
	for (int i = 0; i < NTABLES; i++) {
		struct stmt *st;
		if (db_prepare(dst, &st,
			       "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
			       " AND table_name = $1 AND is_identity = 'YES' ORDER BY ordinal_position")) {
			snprintf(err, errlen, "sequences: %s", db_errmsg(dst));
			return -1;
		}
		stmt_bind_text(st, 1, tables[i].name);
		char cols[4][64];
		int n = 0;
		while (stmt_step(st) == STORE_ROW && n < 4) {
			const char *c = stmt_text(st, 0);
			if (ident_ok(c))
				snprintf(cols[n++], sizeof cols[0], "%s", c);
		}
		stmt_finalize(st);
		for (int k = 0; k < n; k++) {
			char sql[256];
			int64_t next = 0;
			snprintf(sql, sizeof sql,
				 "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(\"%s\") FROM \"%s\"), 0) + 1,"
				 " false)",
				 cols[k], tables[i].name);
			if (db_query_int64(dst, &next, sql, 2, tables[i].name, cols[k]) != STORE_OK) {
				snprintf(err, errlen, "sequence of %s.%s: %s", tables[i].name, cols[k], db_errmsg(dst));
				return -1;
			}
			printf("sequence %s.%s: next value %lld\n", tables[i].name, cols[k], (long long)next);
		}
	}
	return 0;
}

int ops_copy_cli(int argc, char **argv)
{
	const char *from = NULL, *to = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(copy_usage, stdout);
			return 0;
		}
		if ((!strcmp(argv[i], "--from") || !strcmp(argv[i], "--to")) && i + 1 < argc) {
			if (argv[i][2] == 'f')
				from = argv[++i];
			else
				to = argv[++i];
			continue;
		}
		return fail("unexpected argument '%s' (xiaoan copy --help)", argv[i]);
	}
	if (!from || !to)
		return fail("both --from URL and --to URL are needed (xiaoan copy --help)");

	char err[512], sfrom[512], sto[512];
	safe_url(from, sfrom, sizeof sfrom);
	safe_url(to, sto, sizeof sto);
	struct store *s = NULL, *d = NULL;
	struct db *src = NULL, *dst = NULL;
	struct cols *cols = calloc(NTABLES, sizeof *cols);
	int64_t n_src[NTABLES] = { 0 }, n_copied[NTABLES] = { 0 }, n_dst[NTABLES] = { 0 };
	int rc = 1, src_tx = 0;
	int64_t src_pid = 0, pid = 0;
	if (!cols)
		abort();

	if (!(s = open_url(from, 1, err, sizeof err))) {
		fail("source: %s", err);
		goto out;
	}
	if (!(d = open_url(to, 0, err, sizeof err))) {
		fail("target: %s", err);
		goto out;
	}
	src = store_acquire(s);
	dst = store_acquire(d);

	/* the same schema on both sides */
	int64_t v = 0;
	char vs[48];
	if (db_query_int64(src, &v, "SELECT max(version) FROM schema_migrations", 0) != STORE_OK) {
		fail("source %s: not a Xiaoan database (no schema_migrations)", sfrom);
		goto out;
	}
	snprintf(vs, sizeof vs, "%lld, this binary's is %d", (long long)v, store_schema_version());
	if (v > store_schema_version()) {
		fail("the source's schema version is %s: copy with a newer xiaoan", vs);
		goto out;
	}
	if (v < store_schema_version()) {
		fail("the source's schema version is %s: run xiaoan migrate on the source first", vs);
		goto out;
	}
	/* a target that holds data is refused before migrating touches it, and
	 * again after, when every table of the schema is there */
	if (target_nonempty(dst, 1, err, sizeof err)) {
		fail("%s", err);
		goto out;
	}
	int applied = 0;
	if (store_migrate(d, &applied, err, sizeof err)) {
		fail("target: %s", err);
		goto out;
	}
	if (db_query_int64(dst, &v, "SELECT max(version) FROM schema_migrations", 0) != STORE_OK ||
	    v != store_schema_version()) {
		snprintf(vs, sizeof vs, "%lld", (long long)v);
		fail("the target's schema version is %s, this binary's is another: use the xiaoan that made it", vs);
		goto out;
	}
	if (copy_check_tables(src, err, sizeof err)) {
		fail("source: %s", err);
		goto out;
	}
	if (copy_check_tables(dst, err, sizeof err)) {
		fail("target: %s", err);
		goto out;
	}
	for (int i = 0; i < NTABLES; i++) {
		struct cols other;
		if (table_cols(src, tables[i].name, &cols[i], err, sizeof err) ||
		    table_cols(dst, tables[i].name, &other, err, sizeof err) ||
		    cols_match(tables[i].name, &cols[i], &other, err, sizeof err)) {
			fail("%s", err);
			goto out;
		}
	}
	if (target_nonempty(dst, 0, err, sizeof err)) {
		fail("%s", err);
		goto out;
	}

	/* one snapshot of the source */
	if (db_exec(src, is_pg(src) ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")) {
		fail("source: %s", db_errmsg(src));
		goto out;
	}
	src_tx = 1;
	if (is_pg(src) && db_query_int64(src, &src_pid, "SELECT pg_backend_pid()", 0) != STORE_OK) {
		fail("source: %s", db_errmsg(src));
		goto out;
	}
	for (int i = 0; i < NTABLES; i++) {
		int ok = 1;
		n_src[i] = count_rows(src, tables[i].name, NULL, &ok);
		if (!ok) {
			fail("source: %s", db_errmsg(src));
			goto out;
		}
	}
	fprintf(stderr, "copy: %s -> %s (schema version %d)\n", sfrom, sto, store_schema_version());

	if (db_begin(dst)) {
		fail("target: %s", db_errmsg(dst));
		goto out;
	}
	for (int i = 0; i < NTABLES; i++) {
		char sql[96];
		if (tables[i].seeded) {
			snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", tables[i].name);
			if (db_exec(dst, sql)) {
				fail("target: %s: %s", tables[i].name, db_errmsg(dst));
				goto out;
			}
		}
		int per = MAXPARAMS / cols[i].n;
		struct job j = { .src = src, .dst = dst, .t = &tables[i], .c = &cols[i], .per = per > 100 ? 100 : per,
				 .expect = n_src[i], .err = err, .errlen = sizeof err };
		if (!(j.buf = calloc((size_t)j.per * (size_t)cols[i].n, sizeof *j.buf)))
			abort();
		int r = copy_rows(&j);
		free(j.buf);
		n_copied[i] = j.copied;
		if (r) {
			fail("%s; nothing was written to the target", err);
			goto out;
		}
	}
	if (is_pg(dst) && reset_sequences(dst, err, sizeof err)) {
		fail("target: %s", err);
		goto out;
	}
	/* a PostgreSQL session that was lost and reconnected under the read
	 * would have left the snapshot: then the copy is not one moment's */
	if (is_pg(src) && (db_query_int64(src, &pid, "SELECT pg_backend_pid()", 0) != STORE_OK || pid != src_pid)) {
		fail("the connection to the source was lost during the copy; nothing was written to the target");
		goto out;
	}
	db_exec(src, "COMMIT");
	src_tx = 0;
	if (db_commit(dst)) {
		fail("target: commit: %s", db_errmsg(dst));
		goto out;
	}

	/* the proof: counts on both sides, and the chain on the target */
	int mismatch = 0;
	printf("%-18s %10s %10s %10s\n", "table", "source", "copied", "target");
	for (int i = 0; i < NTABLES; i++) {
		int ok = 1;
		n_dst[i] = count_rows(dst, tables[i].name, NULL, &ok);
		int same = ok && n_dst[i] == n_src[i] && n_copied[i] == n_src[i];
		mismatch |= !same;
		printf("%-18s %10lld %10lld %10lld%s\n", tables[i].name, (long long)n_src[i], (long long)n_copied[i],
		       (long long)n_dst[i], same ? "" : "   MISMATCH");
	}
	int broken = audit_verify(dst, stdout);
	if (mismatch) {
		fail("the counts differ (MISMATCH above)");
		goto out;
	}
	if (broken) {
		fail("%s", broken < 0 ? "cannot read the target's audit trail"
				      : "the audit chain does not verify on the target (copied as it is: run xiaoan audit"
					" verify on the source)");
		goto out;
	}
	printf("copy: %s -> %s: %d tables, counts equal, audit chain intact\n", sfrom, sto, NTABLES);
	printf("copy: accounts' TOTP secrets are sealed with the source's secret.key: give every server of the"
	       " target that key (data_dir/secret.key)\n");
	rc = 0;
out:
	if (src_tx)
		db_exec(src, "ROLLBACK");
	if (dst && db_in_tx(dst))
		db_rollback(dst);
	store_release(src);
	store_release(dst);
	store_close(s);
	store_close(d);
	free(cols);
	return rc;
}
