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

#include "audit_fmt.h"
#include "jitctl.h"
#include "util.h"

const char help_audit[] =
	"Usage: jitctl audit verify FILE... [--json]\n"
	"       jitctl audit --follow [--json] [--filter WHAT]\n"
	"       jitctl audit --since TIME [--follow] [--json] [--filter WHAT]\n"
	"\n"
	"verify checks the SHA-256 hash chain of audit files given oldest first (rotated\n"
	"files, then the current one): every record's hash, prev_hash and a gap-free\n"
	"sequence. It needs no jitd. It names the first broken record (edited, deleted,\n"
	"reordered, truncated) and exits 1; exit 0 when the chain is intact. With --json:\n"
	"{\"ok\", \"records\", \"sequence\", \"last_hash\"}, or {\"ok\": false, \"file\", "
	"\"line\",\n"
	"\"error\"}.\n"
	"\n"
	"--follow streams new records from jitd as they are written (root only);\n"
	"--since TIME (RFC 3339, e.g. 2026-11-23T09:00:00Z, or a duration ago, e.g. 15m) first\n"
	"sends the records of the current audit file since TIME. Without --json, one line\n"
	"per record: time, user, op, object, decision, grant and reason.\n"
	"\n"
	"Options:\n"
	"  --filter WHAT      deny, allow, decision, agent, or an event name (granted, ...)\n"
	"  --json             print the records as they are (JSON lines)\n"
	"  --socket PATH      jitd's control socket\n"
	"  -h, --help         show this help\n";

/* The outcome of verify as JSON: {"ok", "records", "sequence", "last_hash"} or, broken,
 * {"ok": false, "file", "line", "error"}. */
static void verify_json(bool ok, const struct audit_verify *v, const char *file,
			unsigned long lineno, const char *err)
{
	json_t *o = ok ? json_pack("{s:b,s:I,s:I,s:s?}", "ok", 1, "records", (json_int_t)v->n,
				   "sequence", (json_int_t)v->seq, "last_hash",
				   v->have ? v->hash : NULL)
		       : json_pack("{s:b,s:s,s:I,s:s}", "ok", 0, "file", file, "line",
				   (json_int_t)lineno, "error", err);

	if (o)
		print_json(o);
	json_decref(o);
}

/* Verify files in order; print the first break (as JSON with json). */
static int verify(int n, char **files, bool json)
{
	struct audit_verify v = {};
	char err[512], *line = NULL;
	size_t cap = 0;
	int ret = EXIT_OK;

	for (int i = 0; i < n && ret == EXIT_OK; i++) {
		FILE *f = fopen(files[i], "re");
		unsigned long lineno = 0;
		ssize_t len;

		if (!f) {
			fprintf(stderr, "jitctl: audit verify: %s: %s\n", files[i],
				strerror(errno));
			ret = EXIT_REFUSED;
			break;
		}
		while ((len = getline(&line, &cap, f)) > 0) {
			lineno++;
			bool torn = line[len - 1] != '\n';

			if (torn || audit_verify_line(&v, line, len, err, sizeof(err))) {
				if (torn)
					snprintf(err, sizeof(err),
						 "truncated record (no newline at the end of the "
						 "file)");
				if (json)
					verify_json(false, &v, files[i], lineno, err);
				else
					printf("BROKEN %s:%lu: %s\n", files[i], lineno, err);
				ret = EXIT_REFUSED;
				break;
			}
		}
		fclose(f);
	}
	free(line);
	if (ret == EXIT_OK && json)
		verify_json(true, &v, NULL, 0, NULL);
	else if (ret == EXIT_OK)
		printf("OK %llu records, sequence %llu, last hash %s\n", (unsigned long long)v.n,
		       (unsigned long long)v.seq, v.have ? v.hash : "-");
	return ret;
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
	printf("%-24s %-10s %-15s %-30s %-6s %-6s %s\n",
	       util_format_time(s.time_ms * 1000000, t, sizeof(t)), s.user, s.op ?: "-",
	       *s.object ? s.object : "-", s.decision ?: "-", grant, s.reason);
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

	if (argc >= 2 && !strcmp(argv[1], "verify")) {
		int nf = 0;

		/* --json among the files (or before the verb) */
		for (int i = 2; i < argc; i++)
			if (!strcmp(argv[i], "--json"))
				c->json = true;
			else
				argv[2 + nf++] = argv[i];
		if (!nf) {
			fprintf(stderr, "jitctl: audit verify: give one or more files\n");
			return EXIT_USAGE;
		}
		return verify(nf, argv + 2, c->json);
	}
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
