/*
 * main.c - the xiaoan command: serve, init, migrate, user, audit, demo.
 *
 * Every command takes the common options (--config, --data, --database,
 * --listen) and answers --help; on failure it prints one line saying why
 * on stderr and exits non-zero.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "auth/vault.h"
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "demo/demo.h"
#include "geo/geo_cli.h"
#include "jobs/jobs.h"
#include "jobs/sched.h"
#include "ops/ops.h"
#include "routes.h"
#include "store/store.h"
#include "zone/scan_cli.h"
#include "zone/zone.h"
#include "zone/zone_int.h"

static const char usage[] =
	"xiaoan - 校园及周边治安综合治理平台 (school-safety governance platform)\n"
	"\n"
	"usage: xiaoan COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  serve                 serve the API and the console\n"
	"  init [--username U]   create the schema and the first administrator;\n"
	"                        prints the administrator's one-time password on the last line\n"
	"  migrate               apply pending schema migrations\n"
	"  user add|passwd|disable|enable|list ...   manage accounts (xiaoan user --help)\n"
	"  audit verify          check the audit trail's hash chain (exit 1 when broken)\n"
	"  audit checkpoint      record the audit chain's head now (also a daily job)\n"
	"  demo                  create the synthetic demo county (first run of make run)\n"
	"  backup PATH           online backup of the SQLite database (and secret.key as PATH.key)\n"
	"  copy --from URL --to URL   copy every table into an empty database (SQLite or PostgreSQL)\n"
	"  geo distance|convert  geodesic distances and WGS84/GCJ-02/BD-09 conversion on CSV (xiaoan geo --help)\n"
	"  zone scan --schools F --venues F   judge schools' surroundings from CSV files, no database (--help)\n"
	"  version               print the version\n"
	"\n"
	"common options (also XIAOAN_* variables and xiaoan.conf):\n"
	"  --config FILE         configuration file (default ./xiaoan.conf if present)\n"
	"  --data DIR            data directory (default ./var)\n"
	"  --database URL        sqlite:PATH (default sqlite:DIR/xiaoan.db)\n"
	"  --listen HOST:PORT    listen address (default 127.0.0.1:8080)\n"
	"  --threads N           network threads\n"
	"  --write-threads N     threads that run writes (0: on the network threads)\n";

static int die(const char *fmt, const char *a)
{
	fprintf(stderr, "xiaoan: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

/* Parses the common options out of argv (removing them) into cfg. */
static int common_options(int *argc, char **argv, struct config *cfg)
{
	char err[512];
	const char *conf = NULL;
	config_defaults(cfg);
	/* the config file first, so flags override it */
	for (int i = 1; i < *argc - 1; i++)
		if (strcmp(argv[i], "--config") == 0)
			conf = argv[i + 1];
	if (config_load_file(cfg, conf ? conf : "xiaoan.conf", conf != NULL, err, sizeof err) ||
	    config_load_env(cfg, err, sizeof err))
		return die("%s", err);
	static const struct {
		const char *flag, *key;
	} map[] = { { "--data", "data_dir" },     { "--database", "database" }, { "--listen", "listen" },
		    { "--threads", "threads" },   { "--write-threads", "write_threads" },
		    { "--web-root", "web_root" }, { "--config", NULL } };
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		int used = 0;
		for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
			if (strcmp(argv[i], map[k].flag) != 0)
				continue;
			if (i + 1 >= *argc)
				return die("%s needs a value", argv[i]);
			if (map[k].key && config_set(cfg, map[k].key, argv[i + 1], err, sizeof err))
				return die("%s", err);
			i++;
			used = 1;
			break;
		}
		if (!used)
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	config_finish(cfg);
	if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST)
		return die("cannot create data directory %s", cfg->data_dir);
	if (vault_init(cfg->data_dir, err, sizeof err))
		return die("%s", err);
	return 0;
}

static struct store *open_store(struct config *cfg, int migrate)
{
	char err[512];
	struct store *st = store_open(cfg->database, cfg->threads + cfg->write_threads + 4, err, sizeof err);
	if (!st) {
		die("%s", err);
		return NULL;
	}
	if (migrate) {
		int applied = 0;
		if (store_migrate(st, &applied, err, sizeof err)) {
			die("%s", err);
			store_close(st);
			return NULL;
		}
		if (applied)
			log_info("applied %d migration(s); schema version %d", applied, store_schema_version());
	}
	return st;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

static int cmd_serve(int argc, char **argv, struct config *cfg)
{
	if (wants_help(argc, argv)) {
		printf("usage: xiaoan serve [--listen HOST:PORT] [--data DIR] [--database URL] [--threads N]\n"
		       "                    [--write-threads N]\n"
		       "Serves the API under /api and the console at /. Stops cleanly on SIGTERM/SIGINT.\n");
		return 0;
	}
	if (argc > 1)
		return die("serve: unexpected argument '%s'", argv[1]);
	struct store *st = open_store(cfg, 1);
	if (!st)
		return 1;
	routes_register();
	session_install();
	zone_configure(cfg->zone_radius, cfg->zone_margin);
	if (zone_start(st)) {
		store_close(st);
		return die("%s", "serve: the zone index could not be loaded");
	}
	struct sched *jobs = sched_start(cfg, st, jobs_table(cfg));
	int rc = server_run(cfg, st);
	sched_stop(jobs);
	zone_stop();
	store_close(st);
	return rc ? 1 : 0;
}

static int cmd_migrate(int argc, char **argv, struct config *cfg)
{
	if (wants_help(argc, argv)) {
		printf("usage: xiaoan migrate [--database URL]\nApplies pending schema migrations.\n");
		return 0;
	}
	struct store *st = open_store(cfg, 0);
	if (!st)
		return 1;
	char err[512];
	int applied = 0;
	int rc = store_migrate(st, &applied, err, sizeof err);
	store_close(st);
	if (rc)
		return die("%s", err);
	printf("schema version %d (%d migration(s) applied)\n", store_schema_version(), applied);
	return 0;
}

static int cmd_init(int argc, char **argv, struct config *cfg)
{
	if (wants_help(argc, argv)) {
		printf("usage: xiaoan init [--username admin]\n"
		       "Creates the schema, the built-in roles and the first administrator (scope: all).\n"
		       "Prints the administrator's one-time password alone on the last line.\n");
		return 0;
	}
	const char *username = "admin";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--username") && i + 1 < argc)
			username = argv[++i];
		else
			return die("init: unexpected argument '%s'", argv[i]);
	}
	struct store *st = open_store(cfg, 1);
	if (!st)
		return 1;
	char pw[17];
	char err[256];
	int rc = admin_init(st, username, pw, err, sizeof err);
	store_close(st);
	if (rc)
		return die("init: %s", err);
	printf("schema version %d; administrator '%s' created; change the password at first login.\n",
	       store_schema_version(), username);
	printf("%s\n", pw);
	return 0;
}

static int cmd_audit(int argc, char **argv, struct config *cfg)
{
	int checkpoint = argc >= 2 && strcmp(argv[1], "checkpoint") == 0;
	if (argc < 2 || wants_help(argc, argv) || (strcmp(argv[1], "verify") != 0 && !checkpoint)) {
		printf("usage: xiaoan audit verify|checkpoint\n"
		       "verify: checks every audit entry's hash, the chain and every checkpoint; names each altered,\n"
		       "inserted or deleted entry and each failed checkpoint; exits 1 when the chain is broken, 0 when it holds.\n"
		       "checkpoint: records the chain's head now (the job audit_checkpoint does so daily at 02:00).\n");
		return argc < 2 || wants_help(argc, argv) ? (wants_help(argc, argv) ? 0 : 2) : 2;
	}
	struct store *st = open_store(cfg, checkpoint);
	if (!st)
		return 2;
	struct db *db = store_acquire(st);
	struct audit_checkpoint ck;
	int rc = checkpoint ? (audit_checkpoint(db, &ck) ? -1 : 0) : audit_verify(db, stdout);
	if (checkpoint && rc == 0)
		printf("audit: checkpoint at entry %lld, hash %s (%s%s)\n", (long long)ck.seq, ck.seq ? ck.hash : "-",
		       !ck.seq ? "the trail is empty" : ck.made ? "new" : "taken already at ", ck.made ? "" : ck.at);
	store_release(db);
	store_close(st);
	if (rc < 0)
		return die("audit %s: cannot read the audit tables", argv[1]);
	return rc;
}

static int cmd_demo(int argc, char **argv, struct config *cfg)
{
	if (wants_help(argc, argv)) {
		printf("usage: xiaoan demo\nCreates the synthetic demo county (regions, units, schools, one user per role)\n"
		       "in an initialised database and prints each user's one-time password once.\n");
		return 0;
	}
	struct store *st = open_store(cfg, 1);
	if (!st)
		return 1;
	char err[256];
	int rc = demo_seed(st, stdout, err, sizeof err);
	store_close(st);
	if (rc)
		return die("demo: %s", err);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("xiaoan %s (schema %d)\n", XIAOAN_VERSION, store_schema_version());
		return 0;
	}
	if (!strcmp(cmd, "zone")) /* works on files alone: no data directory, no store */
		return zone_cli(argc - 1, argv + 1);
	if (!strcmp(cmd, "geo")) /* no database, no configuration */
		return geo_cli(argc - 1, argv + 1);
	if (password_init() != 0 || totp_init() != 0)
		return die("%s", "cannot initialise libsodium/liboath");
	struct config cfg;
	argc--, argv++;
	if (common_options(&argc, argv, &cfg))
		return 1;
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv, &cfg);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(argc, argv, &cfg);
	if (!strcmp(cmd, "init"))
		return cmd_init(argc, argv, &cfg);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc, argv, &cfg);
	if (!strcmp(cmd, "demo"))
		return cmd_demo(argc, argv, &cfg);
	if (!strcmp(cmd, "backup"))
		return ops_backup_cli(&cfg, argc, argv);
	if (!strcmp(cmd, "copy"))
		return ops_copy_cli(argc, argv);
	if (!strcmp(cmd, "user")) {
		struct store *st = NULL;
		if (!wants_help(argc, argv) && !(st = open_store(&cfg, 1)))
			return 1;
		int rc = admin_cli_user(st, argc, argv);
		store_close(st);
		return rc;
	}
	return die("unknown command '%s' (xiaoan --help)", cmd);
}
