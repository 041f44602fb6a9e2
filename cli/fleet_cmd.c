// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl's fleet parts: fleet requests through the local jitd ("fN" ids, request --hosts,
 * list --fleet), and `jitctl fleet` (init, add-host, add-admin, policy push, hosts), which
 * talks to the fleet database directly as the operator's own database role.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "jitctl.h"
#include "policy.h"
#include "pqdl.h"
#include "util.h"

#define FLEET_STALE_S	 90 /* three missed heartbeats (jitd's FLEET_RESYNC_S is 30) */
#define STR_(x)		 #x
#define STR(x)		 STR_(x)
#define FLEET_STALE_TEXT STR(FLEET_STALE_S)

const char help_fleet[] =
	"Usage: jitctl fleet init [--db CONNINFO] [--migrations DIR]\n"
	"       jitctl fleet add-host ROLE [--password-file FILE] [--db CONNINFO]\n"
	"       jitctl fleet add-admin ROLE [--password-file FILE] [--db CONNINFO]\n"
	"       jitctl fleet policy push FILE [--db CONNINFO]\n"
	"       jitctl fleet hosts [--db CONNINFO] [--json]\n"
	"\n"
	"The fleet database (PostgreSQL 15) holds requests, approvals, grants and the fleet\n"
	"policy; every host's jitd (--fleet CONNINFO) follows it. These commands connect to it\n"
	"directly as your own database role (CONNINFO: --db, else $JITD_FLEET_DB, else libpq's\n"
	"PG* variables and ~/.pgpass).\n"
	"\n"
	"init: create or upgrade the schema 'jitd' and the roles jitd_host and jitd_admin from\n"
	"  the versioned migrations in DIR (default " JITD_FLEET_MIGRATIONS "), each once, in\n"
	"  order, in its own transaction (a database owner or superuser). Idempotent.\n"
	"add-host: create login ROLE for one host (its jitd connects as ROLE) in jitd_host:\n"
	"  row-level security lets it read what targets it and write only what it vouches for.\n"
	"add-admin: create login ROLE in jitd_admin: may push policy and see every row.\n"
	"policy push: (fleet admins) check FILE as 'jitctl policy check' does and store it; its\n"
	"  serial must be above the fleet's. Every host puts it in force as a whole.\n"
	"hosts: each host's role, name, labels, policy serial in force, last contact, and\n"
	"  whether it is stale (no contact for " FLEET_STALE_TEXT " s: three resyncs missed).\n"
	"\n"
	"Fleet requests go through the local jitd: 'jitctl request RES --for 1h --hosts\n"
	"role=db', then 'jitctl approve fN', 'revoke fN', 'extend fN', 'show fN' on any host,\n"
	"and 'jitctl list --fleet'.\n"
	"\n"
	"Options:\n"
	"  --db CONNINFO       libpq connection string or URI\n"
	"  --migrations DIR    where the NNNN_*.sql migrations are\n"
	"  --password-file F   set the role's password from the first line of F\n" COMMON_HELP "\n"
	"Exit status: 0 done, 1 refused or failed (the database's reason is printed), 2 usage\n"
	"error, 3 cannot reach the database.\n";

bool fleet_id_arg(const char *s, unsigned long long *id)
{
	return (s[0] == 'f' || s[0] == 'F') && !parse_uint(s + 1, 1, INT64_MAX, id);
}

/* "role=db,zone=eu" into {"role":"db","zone":"eu"}; NULL when malformed. */
json_t *fleet_selector_arg(const char *s)
{
	json_t *o = json_object();
	char *copy = strdup(s), *save = NULL, *tok;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && o;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || !eq[1]) {
			json_decref(o);
			o = NULL;
			break;
		}
		*eq = 0;
		json_object_set_new(o, tok, json_string(eq + 1));
	}
	free(copy);
	if (o && !json_object_size(o) && *s) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static const char *fstr(const json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (v && !json_is_null(v))
		snprintf(buf, len, "%s", "?");
	else
		snprintf(buf, len, "-");
	return sanitize(buf);
}

/* One fleet request as a line: "fN STATE RESOURCES user U hosts SEL [expires T]". */
static void fleet_print_row(const json_t *f)
{
	char st[32], user[80], exp[64], by[80], on[80];
	char *res = json_dumps(json_object_get(f, "resources"), JSON_COMPACT);
	char *sel = json_dumps(json_object_get(f, "hosts"), JSON_COMPACT);

	printf("f%-6" JSON_INTEGER_FORMAT " %-8s %-20s %-10s hosts %-16s by %s on %s",
	       json_integer_value(json_object_get(f, "fleet_id")), fstr(f, "state", st, sizeof(st)),
	       res ? sanitize(res) : "?", fstr(f, "user", user, sizeof(user)),
	       sel ? sanitize(sel) : "?", fstr(f, "requested_by", by, sizeof(by)),
	       fstr(f, "requested_on", on, sizeof(on)));
	if (!strcmp(st, "active"))
		printf(", expires %s", fstr(f, "expires", exp, sizeof(exp)));
	putchar('\n');
	free(res);
	free(sel);
}

void fleet_status_print(const json_t *f)
{
	char a[512], b[256], *labels;

	if (!json_is_true(json_object_get(f, "enabled"))) {
		printf("%-11s%s\n", "fleet:", "no (single host)");
		return;
	}
	labels = json_dumps(json_object_get(f, "labels"), JSON_COMPACT);
	if (json_is_true(json_object_get(f, "connected")))
		printf("%-11sconnected to %s, labels %s, revision %" JSON_INTEGER_FORMAT
		       ", synced %s\n",
		       "fleet:", fstr(f, "server", a, sizeof(a)), labels ? sanitize(labels) : "?",
		       json_integer_value(json_object_get(f, "revision")),
		       fstr(f, "synced", b, sizeof(b)));
	else
		printf("%-11sNOT connected (%s); enforcing the last state, reconnecting\n",
		       "fleet:", fstr(f, "error", a, sizeof(a)));
	free(labels);
}

int fleet_call(struct ctl *c, const char *verb, json_t *req, char *state, size_t len)
{
	json_t *reply = NULL, *f;
	int ret;

	if (!req) {
		fprintf(stderr, "jitctl: %s: out of memory\n", verb);
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, verb, req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	f = json_object_get(reply, "fleet");
	if (!json_is_object(f) && !json_is_array(f)) {
		ret = bad_reply(c, "no \"fleet\" object");
	} else if (c->json) {
		ret = print_json(f);
	} else if (json_is_array(f)) {
		size_t i;
		json_t *v;

		if (!json_array_size(f))
			puts("no fleet requests");
		json_array_foreach(f, i, v)
			fleet_print_row(v);
	} else {
		fleet_print_row(f);
	}
	if (state && json_is_object(f))
		fstr(f, "state", state, len);
	json_decref(reply);
	return ret;
}

/* ---- jitctl fleet: straight to the database ---- */

struct fleet_args {
	const char *db, *migrations, *password_file;
	int first;
};

static void quiet(void *arg, const char *message)
{
}

static PGconn *db_connect(const char *conninfo)
{
	static const char *const kw[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *env = getenv("JITD_FLEET_DB");
	const char *val[] = {"10", "jitctl", conninfo ?: (env ?: ""), NULL};
	char err[256];
	PGconn *db;

	if (pq_load(err, sizeof(err))) {
		fprintf(stderr, "jitctl: fleet: %s\n", err);
		return NULL;
	}
	db = pq.PQconnectdbParams(kw, val, 1);
	pq.PQsetNoticeProcessor(db, quiet, NULL);
	if (pq.PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "jitctl: fleet: cannot connect to the fleet database: %s",
			pq.PQerrorMessage(db));
		pq.PQfinish(db);
		return NULL;
	}
	return db;
}

/* Run sql; EXIT_OK, or EXIT_REFUSED with the database's reason printed. *out: the result
 * (when wanted and successful). */
static int db_run(PGconn *db, const char *what, const char *sql, int n, const char *const *p,
		  PGresult **out)
{
	/* without parameters: PQexec, which runs a script of several statements */
	PGresult *res =
		n ? pq.PQexecParams(db, sql, n, NULL, p, NULL, NULL, 0) : pq.PQexec(db, sql);
	ExecStatusType st = pq.PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		fprintf(stderr, "jitctl: fleet: %s: %s%s", what, m ?: pq.PQerrorMessage(db),
			m ? "\n" : "");
		pq.PQclear(res);
		return EXIT_REFUSED;
	}
	if (out)
		*out = res;
	else
		pq.PQclear(res);
	return EXIT_OK;
}

static int migration_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Apply migration file name (NNNN_what.sql) of dir when above version. */
static int migrate_one(PGconn *db, const char *dir, const char *name)
{
	char path[4096], ver[16], *sql = NULL;
	const char *p[1] = {ver};
	PGresult *res = NULL;
	size_t len;
	int v = atoi(name), ret;
	bool todo;

	snprintf(ver, sizeof(ver), "%d", v);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (util_read_file(path, 1 << 22, &sql, &len)) {
		fprintf(stderr, "jitctl: fleet init: cannot read %s\n", path);
		return EXIT_REFUSED;
	}
	/* one at a time (a lock), and only when not applied yet (checked under it) */
	ret = db_run(db, "init", "BEGIN", 0, NULL, NULL);
	if (!ret)
		ret = db_run(db, "init", "SELECT pg_advisory_xact_lock(7346001)", 0, NULL, NULL);
	if (!ret)
		ret = db_run(db, "init", "SELECT to_regclass('jitd.schema_version') IS NOT NULL", 0,
			     NULL, &res);
	todo = !ret && !strcmp(pq.PQgetvalue(res, 0, 0), "f"); /* no schema yet */
	if (!ret && !todo) {
		pq.PQclear(res);
		res = NULL;
		ret = db_run(db, "init",
			     "SELECT NOT EXISTS (SELECT 1 FROM jitd.schema_version WHERE version = "
			     "$1::int)",
			     1, p, &res);
		todo = !ret && !strcmp(pq.PQgetvalue(res, 0, 0), "t");
	}
	if (todo) {
		ret = db_run(db, name, sql, 0, NULL, NULL);
		if (!ret)
			ret = db_run(db, "init", "INSERT INTO jitd.schema_version VALUES ($1::int)",
				     1, p, NULL);
		if (!ret)
			printf("applied %s\n", name);
	}
	pq.PQclear(res);
	free(sql);
	db_run(db, "init", ret ? "ROLLBACK" : "COMMIT", 0, NULL, NULL);
	return ret;
}

static int fleet_init(PGconn *db, const struct fleet_args *fa)
{
	const char *dir = fa->migrations ?: JITD_FLEET_MIGRATIONS;
	DIR *d = opendir(dir);
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	int ret = EXIT_OK;

	if (!d) {
		fprintf(stderr, "jitctl: fleet init: %s: %s (give --migrations DIR)\n", dir,
			strerror(errno));
		return EXIT_REFUSED;
	}
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && strstr(e->d_name, ".sql"))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), migration_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!ret && names[i])
			ret = migrate_one(db, dir, names[i]);
		free(names[i]);
	}
	if (!ret)
		printf("fleet schema up to date (%zu migrations)\n", n);
	return ret;
}

/* Create (or complete) login role name in group. */
static int fleet_add_role(PGconn *db, const char *group, const char *name, const char *pwfile)
{
	char *id = pq.PQescapeIdentifier(db, name, strlen(name)), *lit = NULL, *pw = NULL,
	     sql[1024];
	char *name_lit = pq.PQescapeLiteral(db, name, strlen(name));
	size_t len;
	int ret;

	if (!id || !name_lit) {
		pq.PQfreemem(id);
		pq.PQfreemem(name_lit);
		return EXIT_REFUSED;
	}
	if (pwfile) {
		if (util_read_file(pwfile, 4096, &pw, &len)) {
			fprintf(stderr, "jitctl: fleet: cannot read %s\n", pwfile);
			pq.PQfreemem(id);
			pq.PQfreemem(name_lit);
			return EXIT_REFUSED;
		}
		pw[strcspn(pw, "\r\n")] = 0;
		lit = pq.PQescapeLiteral(db, pw, strlen(pw));
	}
	snprintf(sql, sizeof(sql),
		 "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) THEN "
		 "CREATE ROLE %s LOGIN; END IF; END $$",
		 name_lit, id);
	pq.PQfreemem(name_lit);
	ret = db_run(db, "add role", sql, 0, NULL, NULL);
	snprintf(sql, sizeof(sql), "GRANT %s TO %s", group, id);
	if (!ret)
		ret = db_run(db, "add role", sql, 0, NULL, NULL);
	if (!ret && lit) {
		snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD %s", id, lit);
		ret = db_run(db, "add role", sql, 0, NULL, NULL);
	}
	if (!ret)
		printf("role %s is in %s\n", name, group);
	pq.PQfreemem(id);
	pq.PQfreemem(lit);
	free(pw);
	return ret;
}

static int fleet_push(PGconn *db, const char *file)
{
	char err[1024], serial[32], *text = NULL;
	struct policy *p = NULL;
	size_t len;
	int ret;

	if (policy_load(file, &p, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_REFUSED;
	}
	snprintf(serial, sizeof(serial), "%lld", (long long)p->serial);
	policy_free(p);
	if (util_read_file(file, POLICY_MAX_FILE_SIZE, &text, &len)) {
		fprintf(stderr,
			"jitctl: fleet policy push: cannot read %s (a directory: push "
			"one file)\n",
			file);
		return EXIT_REFUSED;
	}
	const char *prm[2] = {serial, text};

	ret = db_run(db, "policy push", "INSERT INTO jitd.policies (serial, body) VALUES ($1, $2)",
		     2, prm, NULL);
	if (!ret)
		printf("fleet policy serial %s stored; hosts put it in force on notification\n",
		       serial);
	free(text);
	return ret;
}

static int fleet_hosts(struct ctl *c, PGconn *db)
{
	PGresult *res = NULL;
	char stale[16];
	const char *p[1] = {stale};
	int ret;

	snprintf(stale, sizeof(stale), "%d", FLEET_STALE_S);
	ret = db_run(db, "hosts",
		     "SELECT coalesce(json_agg(json_build_object('role', name, 'hostname', "
		     "hostname, 'labels', labels, 'version', version, 'serial', serial, "
		     "'last_seen', last_seen, 'last_sync', last_sync, 'stale', last_seen < now() - "
		     "make_interval(secs => $1::int)) ORDER BY name), '[]')::text FROM jitd.hosts",
		     1, p, &res);
	if (ret)
		return ret;
	json_t *arr = json_loads(pq.PQgetvalue(res, 0, 0), 0, NULL), *h;
	size_t i;

	pq.PQclear(res);
	if (c->json) {
		ret = print_json(arr);
	} else {
		printf("%-16s %-20s %-24s %-7s %-6s %s\n", "ROLE", "HOSTNAME", "LABELS", "SERIAL",
		       "STALE", "LAST SEEN");
		json_array_foreach(arr, i, h) {
			char r[80], hn[256], seen[64],
				*lab = json_dumps(json_object_get(h, "labels"), JSON_COMPACT);

			printf("%-16s %-20s %-24s %-7" JSON_INTEGER_FORMAT " %-6s %s\n",
			       fstr(h, "role", r, sizeof(r)), fstr(h, "hostname", hn, sizeof(hn)),
			       lab ? sanitize(lab) : "?",
			       json_integer_value(json_object_get(h, "serial")),
			       json_is_true(json_object_get(h, "stale")) ? "yes" : "no",
			       fstr(h, "last_seen", seen, sizeof(seen)));
			free(lab);
		}
	}
	json_decref(arr);
	return ret;
}

static int fleet_options(struct ctl *c, int argc, char **argv, struct fleet_args *fa)
{
	static const struct option opts[] = {COMMON_OPTIONS,
					     {"db", required_argument, NULL, 'D'},
					     {"migrations", required_argument, NULL, 'M'},
					     {"password-file", required_argument, NULL, 'P'},
					     {}};
	int opt, ret;

	memset(fa, 0, sizeof(*fa));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_fleet, stdout);
			return -1;
		case 'D':
			fa->db = optarg;
			break;
		case 'M':
			fa->migrations = optarg;
			break;
		case 'P':
			fa->password_file = optarg;
			break;
		case '?':
			try_help("fleet");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "fleet");
			if (ret)
				return ret;
		}
	}
	fa->first = optind;
	return EXIT_OK;
}

int cmd_fleet(struct ctl *c, int argc, char **argv)
{
	struct fleet_args fa;
	int ret = fleet_options(c, argc, argv, &fa), n;
	const char *sub;
	PGconn *db;

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	n = argc - fa.first;
	sub = n ? argv[fa.first] : NULL;
	if (!sub)
		return usage_error("fleet", "missing init, add-host, add-admin, policy or hosts");
	if ((!strcmp(sub, "init") || !strcmp(sub, "hosts")) && n != 1)
		return usage_error("fleet", "unexpected argument '%s'", argv[fa.first + 1]);
	if ((!strcmp(sub, "add-host") || !strcmp(sub, "add-admin")) && n != 2)
		return usage_error("fleet", "%s takes one ROLE", sub);
	if (!strcmp(sub, "policy") && (n != 3 || strcmp(argv[fa.first + 1], "push")))
		return usage_error("fleet", "expected 'fleet policy push FILE'");
	if (strcmp(sub, "init") && strcmp(sub, "hosts") && strcmp(sub, "add-host") &&
	    strcmp(sub, "add-admin") && strcmp(sub, "policy"))
		return usage_error("fleet", "unknown subcommand '%s'", sub);
	db = db_connect(fa.db);
	if (!db)
		return EXIT_UNREACHABLE;
	if (!strcmp(sub, "init"))
		ret = fleet_init(db, &fa);
	else if (!strcmp(sub, "hosts"))
		ret = fleet_hosts(c, db);
	else if (!strcmp(sub, "policy"))
		ret = fleet_push(db, argv[fa.first + 2]);
	else
		ret = fleet_add_role(db, strcmp(sub, "add-host") ? "jitd_admin" : "jitd_host",
				     argv[fa.first + 1], fa.password_file);
	pq.PQfinish(db);
	return ret;
}
