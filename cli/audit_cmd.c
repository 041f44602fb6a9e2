// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl audit: verify audit files offline (the hash chain), or read the live stream
 * from jitd (--follow, --since) as JSON lines or as columns for people.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "audit_fmt.h"
#include "audit_verify.h"
#include "jitctl.h"
#include "util.h"

const char help_audit[] =
	"Usage: jitctl audit verify [--key KEY]... [--since-checkpoint CP] [--strict] [--json]\n"
	"                           FILE...\n"
	"       jitctl audit seal-init [--interval DURATION] [--force] [--json]\n"
	"       jitctl audit checkpoint [--json]\n"
	"       jitctl audit --follow [--json] [--filter WHAT]\n"
	"       jitctl audit --since TIME [--follow] [--json] [--filter WHAT]\n"
	"\n"
	"verify checks audit files given oldest first (rotated files, then the current one),\n"
	"with no jitd: every record's SHA-256 hash, its link to the record before (sequence,\n"
	"prev_hash) and, with --key, every seal. It reads past what is broken and reports,\n"
	"per file, the first and last sequence, where the chain starts, every gap and torn\n"
	"line, the last sealed sequence and the unsealed tail (records after the last seal:\n"
	"checked by hash only). The first line is OK, WARNING (nothing proven wrong, but\n"
	"something unexplained, e.g. epochs without a seal after a crash) or BROKEN FILE:LINE:\n"
	"why. Exit 1 when broken (or with --strict, on a warning), else 0.\n"
	"  --key KEY               the verification key seal-init printed (or @FILE holding\n"
	"                          it); repeat it for files sealed under several keys\n"
	"  --since-checkpoint CP   a checkpoint kept off the host (or @FILE): the files must\n"
	"                          still hold its record, unchanged (a cut tail is found)\n"
	"  --strict                warnings fail too\n"
	"\n"
	"seal-init makes jitd's forward-secure sealing key (root): the key evolves one way\n"
	"every interval (default 15m) and each interval's records are sealed, so whoever\n"
	"takes the host later cannot change what was sealed before without verify saying so.\n"
	"It prints the verification key once: keep it off this host. --force replaces a key.\n"
	"\n"
	"checkpoint prints the last seal (sequence, hash, tag) as one line to keep off the\n"
	"host (jitd also sends it to journald after each seal, MESSAGE_ID\n"
	"5e3c1a7f0b9d4e62a8f1c3d5b7e90a24).\n"
	"\n"
	"--follow streams new records from jitd as they are written (root only);\n"
	"--since TIME (RFC 3339, e.g. 2026-11-23T09:00:00Z, or a duration ago, e.g. 15m) first\n"
	"sends the records of the current audit file since TIME. Without --json, one line\n"
	"per record: time, user, op, object, decision, grant and reason.\n"
	"\n"
	"Options:\n"
	"  --filter WHAT      deny, allow, decision, agent, or an event name (granted, ...)\n"
	"  --json             print JSON (the records as they are, for --follow/--since)\n"
	"  --socket PATH      jitd's control socket\n"
	"  --timeout SECONDS  seal-init, checkpoint: give up when jitd has not answered\n"
	"                     within SECONDS (default 10)\n"
	"  -h, --help         show this help\n";

/* KEY, or the first line of FILE for @FILE, into buf. */
static int arg_text(const char *arg, char *buf, size_t len)
{
	char *text = NULL;
	int r;

	if (arg[0] != '@') {
		snprintf(buf, len, "%s", arg);
		return 0;
	}
	r = util_read_file(arg + 1, 4096, &text, NULL);
	if (r)
		return r;
	snprintf(buf, len, "%.*s", (int)strcspn(text, "\r\n"), text);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return 0;
}

static void print_file_line(const struct av_file *f, bool keyed)
{
	if (!f->opened)
		return;
	printf("  %s: ", f->name);
	if (!f->records) {
		printf("no records\n");
		return;
	}
	printf("sequences %llu to %llu (%llu records)%s", (unsigned long long)f->first,
	       (unsigned long long)f->last, (unsigned long long)f->records,
	       f->first == 1 ? ", the chain starts here" : "");
	if (keyed && f->last_sealed)
		printf(", sealed to %llu, unsealed tail %llu", (unsigned long long)f->last_sealed,
		       (unsigned long long)(f->last - f->last_sealed));
	else if (keyed)
		printf(", no seal covers it");
	if (f->torn)
		printf(", %lu torn line%s", f->torn, f->torn > 1 ? "s" : "");
	putchar('\n');
}

static void print_seals(const struct av_report *r, const struct av_opts *o)
{
	char t[40];

	if (!o->n_keys) {
		printf("  seals: %llu, not checked (no --key): the chain alone proves nothing "
		       "against whoever can rewrite the whole file\n",
		       (unsigned long long)r->seals);
		return;
	}
	if (!r->seals_checked) {
		printf("  seals: none valid of %llu (key %s)\n", (unsigned long long)r->seals,
		       o->keys[0].key_id);
		return;
	}
	printf("  seals: %llu valid of %llu (key %s%s), epochs %llu to %llu; last sealed "
	       "sequence %llu (epoch from %s); unsealed tail %llu (hash-verified only)\n",
	       (unsigned long long)r->seals_checked, (unsigned long long)r->seals,
	       o->keys[0].key_id, o->n_keys > 1 ? ", ..." : "", (unsigned long long)r->first_epoch,
	       (unsigned long long)r->last_epoch, (unsigned long long)r->sealed_upto,
	       util_format_time(r->last_seal_time_ns, t, sizeof(t)),
	       (unsigned long long)(r->last - r->sealed_upto));
}

/* The report for people: the verdict first, then files, seals, checkpoint, findings. */
static void print_report(const struct av_report *r, const struct av_opts *o)
{
	static const char *const kinds[] = {"BROKEN", "WARNING", "NOTE"};
	const struct av_finding *first = NULL;

	for (size_t i = 0; i < r->n_findings && !first; i++)
		if (r->findings[i].kind == AV_BROKEN)
			first = &r->findings[i];
	if (first && first->line)
		printf("BROKEN %s:%lu: %s\n", first->file, first->line, first->text);
	else if (first)
		printf("BROKEN %s: %s\n", first->file ?: "files", first->text);
	else
		printf("%s %llu records, sequence %llu, last hash %s%s\n",
		       r->warnings ? "WARNING" : "OK", (unsigned long long)r->records,
		       (unsigned long long)r->last, r->records ? r->last_hash : "-",
		       r->warnings ? " (see the warnings)" : "");
	for (size_t i = 0; i < r->n_files; i++)
		print_file_line(&r->files[i], o->n_keys > 0);
	if (r->seals || o->n_keys)
		print_seals(r, o);
	if (o->checkpoint)
		printf("  checkpoint: sequence %llu %s\n", (unsigned long long)o->checkpoint->seq,
		       !r->checkpoint_found ? "NOT FOUND"
		       : r->broken	    ? "found (see what is broken)"
					    : "found, unchanged");
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct av_finding *f = &r->findings[i];

		if (f->line)
			printf("  %s %s:%lu: %s\n", kinds[f->kind], f->file, f->line, f->text);
		else
			printf("  %s %s: %s\n", kinds[f->kind], f->file ?: "files", f->text);
	}
}

/* Parse verify's options and files (argv[0] is "verify"). */
static int verify_args(struct ctl *c, int argc, char **argv, struct seal_vkey *keys, size_t *n_keys,
		       struct audit_checkpoint *cp, bool *have_cp, bool *strict)
{
	enum { O_KEY = 0x300, O_CP, O_STRICT, O_JSON };
	static const struct option opts[] = {
		{"key", required_argument, NULL, O_KEY},
		{"since-checkpoint", required_argument, NULL, O_CP},
		{"strict", no_argument, NULL, O_STRICT},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	char buf[SEAL_CHECKPOINT_MAX + 8];
	int opt, r;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case O_KEY:
			if (*n_keys == AV_MAX_KEYS)
				return usage_error("audit verify", "at most %d keys", AV_MAX_KEYS);
			r = arg_text(optarg, buf, sizeof(buf));
			if (r || seal_vkey_parse(buf, &keys[*n_keys]))
				return usage_error("audit verify",
						   "--key: %s (a key as seal-init printed it, "
						   "jitd1-..., or @FILE holding one)",
						   r ? strerror(-r) : "not a verification key");
			OPENSSL_cleanse(buf, sizeof(buf));
			++*n_keys;
			break;
		case O_CP:
			r = arg_text(optarg, buf, sizeof(buf));
			if (r || seal_checkpoint_parse(buf, cp))
				return usage_error("audit verify",
						   "--since-checkpoint: %s (a line as "
						   "'jitctl audit checkpoint' printed it, "
						   "jitd-checkpoint1-..., or @FILE)",
						   r ? strerror(-r) : "not a checkpoint");
			*have_cp = true;
			break;
		case O_STRICT:
			*strict = true;
			break;
		case O_JSON:
			c->json = true;
			break;
		case 'h':
			fputs(help_audit, stdout);
			return -1;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("audit verify", "give one or more files");
	return EXIT_OK;
}

/* jitctl audit verify: the report, exit 1 when broken (or --strict and warnings). */
static int verify(struct ctl *c, int argc, char **argv)
{
	struct seal_vkey keys[AV_MAX_KEYS];
	struct audit_checkpoint cp;
	struct av_opts o = {.keys = keys, .now_ns = util_now_ns(CLOCK_REALTIME)};
	struct av_report r;
	bool have_cp = false, strict = false;
	int ret = verify_args(c, argc, argv, keys, &o.n_keys, &cp, &have_cp, &strict);

	if (ret)
		goto out;
	o.checkpoint = have_cp ? &cp : NULL;
	if (audit_verify_files(argv + optind, argc - optind, &o, &r)) {
		fprintf(stderr, "jitctl: audit verify: out of memory\n");
		ret = EXIT_REFUSED;
		goto out;
	}
	if (c->json) {
		json_t *j = av_report_json(&r, &o);

		print_json(j);
		json_decref(j);
	} else {
		print_report(&r, &o);
	}
	ret = r.broken || (strict && r.warnings) ? EXIT_REFUSED : EXIT_OK;
	av_report_free(&r);
out:
	OPENSSL_cleanse(keys, sizeof(keys));
	return ret < 0 ? EXIT_OK : ret;
}

static int connect_jitd(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void print_human(const char *line, size_t len)
{
	struct audit_summary s;
	json_t *rec = json_loadb(line, len, 0, NULL);
	char t[40], grant[24] = "-";

	if (!rec || audit_record_summary(rec, &s)) {
		json_decref(rec);
		return;
	}
	if (s.grant_id)
		snprintf(grant, sizeof(grant), "%llu", (unsigned long long)s.grant_id);
	/* agent events name their actor by uid: by name here, where the users are */
	if (*s.user && strspn(s.user, "0123456789") == strlen(s.user)) {
		struct passwd pw, *res = NULL;
		char buf[1024];

		if (!getpwuid_r((uid_t)strtoul(s.user, NULL, 10), &pw, buf, sizeof(buf), &res) &&
		    res)
			snprintf(s.user, sizeof(s.user), "%s", res->pw_name);
	}
	printf("%-24s %-10s %-15s %-30s %-6s %-6s %s",
	       util_format_time(s.time_ms * 1000000, t, sizeof(t)), s.user, s.op ?: "-",
	       *s.object ? s.object : "-", s.decision ?: "-", grant, s.reason);
	if (s.count) /* an aggregate of allows */
		printf(" (%llu times)", (unsigned long long)s.count);
	putchar('\n');
	json_decref(rec);
}

/* Stream records from jitd. */
static int stream(struct ctl *c, bool follow, const char *since, const char *filter)
{
	json_t *req = json_pack("{s:s}", "op", "audit");
	char *out, *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool first = true;
	FILE *in;
	int fd, ret = EXIT_OK;

	if (follow)
		json_object_set_new(req, "follow", json_true());
	if (since)
		json_object_set_new(req, "since", json_string(since));
	if (filter)
		json_object_set_new(req, "filter", json_string(filter));
	out = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	fd = connect_jitd(c->socket);
	if (fd < 0) {
		fprintf(stderr, "jitctl: audit: cannot connect to jitd at %s: %s\n", c->socket,
			strerror(-fd));
		free(out);
		return EXIT_UNREACHABLE;
	}
	if (dprintf(fd, "%s\n", out) < 0) {
		free(out);
		close(fd);
		return EXIT_UNREACHABLE;
	}
	free(out);
	in = fdopen(fd, "r");
	if (!c->json)
		printf("%-24s %-10s %-15s %-30s %-6s %-6s %s\n", "TIME", "USER", "OP", "OBJECT",
		       "DECIS", "GRANT", "REASON");
	while ((len = getline(&line, &cap, in)) > 0) {
		if (first) {
			json_t *r = json_loadb(line, len, 0, NULL);

			first = false;
			if (!json_is_true(json_object_get(r, "ok"))) {
				const char *e = json_string_value(json_object_get(r, "error"));

				fprintf(stderr, "jitctl: audit: %s\n",
					e ? e : "bad reply from jitd");
				ret = r ? EXIT_REFUSED : EXIT_UNREACHABLE;
				json_decref(r);
				break;
			}
			json_decref(r);
			continue;
		}
		if (c->json)
			fwrite(line, 1, len, stdout);
		else
			print_human(line, len);
		fflush(stdout);
	}
	if (first && ret == EXIT_OK) {
		fprintf(stderr, "jitctl: audit: jitd closed the connection\n");
		ret = EXIT_UNREACHABLE;
	}
	free(line);
	fclose(in);
	return ret;
}

/* Parse seal-init's / checkpoint's options; *interval_s and *force only for seal-init.
 * Returns EXIT_OK, -1 after --help, or an exit code. */
static int jitd_args(struct ctl *c, int argc, char **argv, int64_t *interval_s, bool *force)
{
	enum { O_INTERVAL = 0x300, O_FORCE };
	static const struct option with[] = {
		COMMON_OPTIONS,
		{"interval", required_argument, NULL, O_INTERVAL},
		{"force", no_argument, NULL, O_FORCE},
		{},
	};
	static const struct option without[] = {COMMON_OPTIONS, {}};
	const char *verb = interval_s ? "audit seal-init" : "audit checkpoint";
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", interval_s ? with : without, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help_audit, stdout);
			return -1;
		} else if (opt == O_INTERVAL) {
			if (util_parse_duration(optarg, interval_s) || *interval_s > 7 * 24 * 3600)
				return usage_error(
					verb, "--interval: %s (" DURATION_FORMS ", at most 7d)",
					optarg);
		} else if (opt == O_FORCE) {
			*force = true;
		} else if (common_option(c, opt, optarg, verb)) {
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(verb, "unexpected argument '%s'", argv[optind]);
	return EXIT_OK;
}

/* jitctl audit seal-init: jitd makes the key; the verification key is printed once. */
static int seal_init(struct ctl *c, int argc, char **argv)
{
	int64_t interval = SEAL_DEFAULT_INTERVAL;
	bool force = false;
	json_t *reply, *req;
	const char *vkey, *id;
	char d[32];
	int r = jitd_args(c, argc, argv, &interval, &force);

	if (r)
		return r < 0 ? EXIT_OK : r;
	req = json_pack("{s:s,s:I,s:b}", "op", "audit_seal_init", "interval_s",
			(json_int_t)interval, "force", force);
	r = ctl_call(c, "audit seal-init", req, &reply);
	json_decref(req);
	if (r)
		return r;
	vkey = json_string_value(json_object_get(reply, "verification_key"));
	id = json_string_value(json_object_get(json_object_get(reply, "audit"), "key_id"));
	if (!vkey || !id) {
		json_decref(reply);
		return bad_reply(c, "no verification key");
	}
	if (c->json) {
		r = print_json(reply);
	} else {
		printf("Audit sealing is on: key id %s, a new epoch every %s.\n\n"
		       "The verification key, shown this once (keep it off this host, e.g. in a "
		       "password manager;\nwhoever holds it can check and also forge seals):\n\n"
		       "    %s\n\n"
		       "Check the audit files with it, e.g.:\n"
		       "    jitctl audit verify --key @FILE /var/log/jitd/audit.jsonl.1 "
		       "/var/log/jitd/audit.jsonl\n",
		       id, util_format_duration(interval, d, sizeof(d)), vkey);
	}
	json_decref(reply);
	return r;
}

/* jitctl audit checkpoint: the last seal, one line to keep off the host. */
static int checkpoint(struct ctl *c, int argc, char **argv)
{
	json_t *reply, *cp, *req = json_pack("{s:s}", "op", "audit_checkpoint");
	const char *text;
	int r = jitd_args(c, argc, argv, NULL, NULL);

	if (!r)
		r = ctl_call(c, "audit checkpoint", req, &reply);
	json_decref(req);
	if (r)
		return r;
	cp = json_object_get(reply, "checkpoint");
	text = json_string_value(json_object_get(cp, "text"));
	if (!text) {
		json_decref(reply);
		return bad_reply(c, "no checkpoint");
	}
	if (c->json)
		r = print_json(cp);
	else
		printf("%s\n", text);
	json_decref(reply);
	return r;
}

/* "jitctl audit ...". */
int cmd_audit(struct ctl *c, int argc, char **argv)
{
	enum { O_FOLLOW = 0x200, O_SINCE, O_FILTER, O_JSON, O_SOCKET };
	static const struct option opts[] = {
		{"follow", no_argument, NULL, O_FOLLOW},
		{"since", required_argument, NULL, O_SINCE},
		{"filter", required_argument, NULL, O_FILTER},
		{"json", no_argument, NULL, O_JSON},
		{"socket", required_argument, NULL, O_SOCKET},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *since = NULL, *filter = NULL;
	char since_buf[40];
	bool follow = false;
	int64_t ns, ago;
	int opt;

	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return verify(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "seal-init"))
		return seal_init(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "checkpoint"))
		return checkpoint(c, argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case O_FOLLOW:
			follow = true;
			break;
		case O_SINCE:
			since = optarg;
			if (util_parse_time(optarg, &ns) && !util_parse_duration(optarg, &ago))
				/* a duration: that long ago */
				since = util_format_time(util_now_ns(CLOCK_REALTIME) -
								 ago * NS_PER_S,
							 since_buf, sizeof(since_buf));
			else if (util_parse_time(optarg, &ns)) {
				fprintf(stderr,
					"jitctl: audit: bad --since '%s' (a time in RFC 3339, e.g. "
					"2026-11-23T09:00:00Z, or a duration ago, e.g. 15m)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case O_FILTER:
			filter = optarg;
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_SOCKET:
			c->socket = optarg;
			break;
		case 'h':
			fputs(help_audit, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jitctl: audit: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!follow && !since) {
		fprintf(stderr, "jitctl: audit: give --follow, --since TIME or verify FILE...\n");
		return EXIT_USAGE;
	}
	return stream(c, follow, since, filter);
}
