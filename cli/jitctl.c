// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl: command-line client of jitd's control socket.
 *
 * One request per run: connect to the Unix socket, send one JSON line, read one reply line
 * (docs/protocol.md), print it for people or, with --json, for scripts. Exit codes are those
 * of docs/protocol.md ("jitctl exit codes"). Helpers return negative errno; the verbs return
 * exit codes and print each error once, where it is handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"
#include "util.h"

#ifndef JITCTL_VERSION
#define JITCTL_VERSION "0.1.0"
#endif

#include "jitctl.h"

/* ---------------------------------------------------------------------------------------- */
/* Help texts                                                                                */

static const char help_main[] =
	"Usage: jitctl [--socket PATH] [--json] [--timeout SECONDS] VERB [ARGS...]\n"
	"       jitctl VERB --help\n"
	"       jitctl --help | --version\n"
	"\n"
	"Talk to jitd, the just-in-time access daemon, through its control socket.\n"
	"Protected resources (executables, files, network endpoints) can be used only while\n"
	"a time-bound grant allows it; the kernel enforces grants and their expiry.\n"
	"\n"
	"Verbs:\n"
	"  request RESOURCE... --for DURATION     ask for access (--reason, --wait, --dry-run)\n"
	"  approvers RESOURCE... [--user NAME]    the rule a request falls under, who approves\n"
	"  approve ID [--reason TEXT]             approve someone else's pending request\n"
	"  deny ID --reason TEXT                  deny a pending request\n"
	"  exec RESOURCE --for DURATION -- CMD    run CMD with access for its process tree only\n"
	"  grant RESOURCE SUBJECT --for DURATION  (root, admins) give a user, cgroup or unit "
	"access\n"
	"  extend ID --for DURATION               add time, never past the rule's maximum\n"
	"  revoke ID                              end a grant, or cancel a request, now\n"
	"  list [--all] [--mine] [--fleet]        show active grants and pending requests\n"
	"  review ID --approve|--flag             review a break-glass grant (not your own)\n"
	"  show ID                                one grant with its history\n"
	"  report [--since 30d|TIME] [--unused]   who held what, how long, how often used\n"
	"  policy check|apply|show                validate, push (admins) or show the policy\n"
	"  policy explain USER RESOURCE...        could USER reach RESOURCE(s), and how\n"
	"  status                                 show whether jitd is enforcing, and why not\n"
	"  audit --follow|--since|verify|seal-init|checkpoint  read, check or seal the audit "
	"stream\n"
	"  fleet init|add-host|add-admin|policy push|hosts  set up and run a fleet database\n"
	"  help [VERB]                            show this help, or a verb's help\n"
	"\n"
	"Options (also accepted after the verb, before or after its arguments):\n" COMMON_HELP
	"  --version          show jitctl's version\n"
	"\n"
	"Durations: " DURATION_FORMS ";\n"
	"from 1s to 366d.\n"
	"\n"
	"Exit status:\n"
	"  0  success (for status: jitd is enforcing; for request --wait: granted)\n"
	"  1  jitd refused or failed the request (the error is printed); request --wait:\n"
	"     denied or expired; request --dry-run: would be refused; policy check: the\n"
	"     policy is invalid\n"
	"  2  usage error (bad arguments, bad duration)\n"
	"  3  cannot reach jitd (socket missing, connection refused, timeout, bad reply)\n"
	"  4  status: jitd answers but is not enforcing\n"
	"  5  request: pending (approval needed; without --wait)\n"
	"  N  exec: the exit status of CMD (127: CMD not found or not runnable)\n"
	"\n"
	"Environment:\n"
	"  JITD_SOCKET        control socket used when --socket is not given\n"
	"\n"
	"Examples:\n"
	"  jitctl status\n"
	"  id=$(jitctl grant psql --user alice --for 1h --reason INC-42)\n"
	"  jitctl list --all\n"
	"  jitctl revoke \"$id\"\n";

static const char help_grant[] =
	"Usage: jitctl grant RESOURCE --user NAME   --for DURATION [--reason TEXT] [--json]\n"
	"       jitctl grant RESOURCE --uid N       --for DURATION [--reason TEXT] [--json]\n"
	"       jitctl grant RESOURCE --cgroup PATH --for DURATION [--reason TEXT] [--json]\n"
	"       jitctl grant RESOURCE --unit NAME.service [--until-unit-stops] --for DURATION\n"
	"                    [--reason TEXT] [--json]\n"
	"       jitctl grant RESOURCE (--user NAME | --uid N) --cgroup PATH --for DURATION ...\n"
	"\n"
	"Give a subject access to the protected RESOURCE (a name from jitd's policy) for\n"
	"DURATION, starting now. When the grant expires the kernel denies access again,\n"
	"even if jitd is not running. Only root and the policy's admins may grant; others\n"
	"use 'jitctl request'.\n"
	"\n"
	"Prints the new grant's id alone on a line, so that  id=$(jitctl grant ...)  works;\n"
	"with --json prints the grant object instead.\n"
	"\n"
	"Subject (one of --user and --uid, and/or --cgroup):\n"
	"  --user NAME        a user, by login name\n"
	"  --uid N            a user, by numeric uid (also for uids without a name)\n"
	"  --cgroup PATH      every process in cgroup v2 PATH and below it; PATH is relative to\n"
	"                     the cgroupfs root: /jtest, /system.slice/foo.service\n"
	"  --unit NAME.service  the cgroup of a running systemd service, asked from systemd\n"
	"                     (instead of --cgroup). Cgroup and unit grants follow the new\n"
	"                     cgroup when the service restarts.\n"
	"  --until-unit-stops with --unit: the grant ends when the unit stops (its cgroup\n"
	"                     is removed); a restart is a stop, and the new run is not\n"
	"                     granted (for CI/CD jobs run as transient units)\n"
	"  A user together with a cgroup means that user's processes within that cgroup only.\n"
	"\n"
	"Options:\n"
	"  --for DURATION     how long the grant lasts (required), from 1s to 366d:\n"
	"                     " DURATION_FORMS "\n"
	"  --start TIME       start later (a scheduled grant): RFC 3339 UTC like\n"
	"                     2026-12-01T02:00:00Z, or +DURATION from now\n"
	"  --reason TEXT      why: a ticket or incident, at most 1024 bytes; it is "
	"audited\n"
	"  --max-idle D       end the grant once no access used it for D (1m to 1d); the\n"
	"                     kernel refuses it from then on, even if jitd is not "
	"running\n"
	"  --from-first-use   the --for clock starts at the grant's first use (seen by\n"
	"                     the kernel); unused, it ends at its latest start. Not with\n"
	"                     --start or --max-idle; it cannot be extended.\n"
	"  --latest-start TIME  with --from-first-use: the latest first use, RFC 3339 UTC\n"
	"                     or +DURATION, ahead of now, at most 366d (default: "
	"+24h)\n" COMMON_HELP "\n"
	"Examples:\n"
	"  jitctl grant psql --user alice --for 1h --reason INC-42\n"
	"  id=$(jitctl grant prod-db --uid 1001 --for 15m)\n"
	"  jitctl grant secrets --unit backup.service --for 2h\n"
	"  jitctl grant deploy-key --unit ci-42.service --until-unit-stops --for 1h\n"
	"  jitctl grant psql --user alice --cgroup /jtest --for 1h30m\n"
	"  jitctl grant psql --user alice --from-first-use --latest-start +8h --for 1h\n"
	"\n"
	"Exit status: 0 granted, 1 refused by jitd, 2 usage error, 3 cannot reach jitd.\n";

static const char help_revoke[] =
	"Usage: jitctl revoke ID|fN [--kill] [--json]\n"
	"\n"
	"End grant ID now: the kernel denies the access from this moment. The grant stays\n"
	"visible in 'jitctl list --all' as revoked. A pending request is cancelled. Root, the\n"
	"admins, the requester and the grant's own user may revoke.\n"
	"\n"
	"What was opened or connected during the grant stays usable (an open file, a mapping,\n"
	"a connection). --kill also kills every process of the grant's cgroup (grants of\n"
	"'jitctl exec', --cgroup and --unit), so nothing of the grant outlives it; user grants\n"
	"are refused (jitd cannot tell which of the user's processes used them).\n"
	"\n"
	"Prints \"revoked grant ID (RESOURCE, SUBJECT)\"; with --json prints the grant object.\n"
	"\n"
	"Options:\n"
	"  --kill             kill the grant's process tree (cgroup grants only)\n" COMMON_HELP "\n"
	"Examples:\n"
	"  jitctl revoke 7\n"
	"  jitctl revoke --kill 12   # a 'jitctl exec' grant: end its processes too\n"
	"  jitctl revoke \"$(jitctl grant psql --user alice --for 1h)\"\n"
	"\n"
	"Exit status: 0 revoked, 1 refused by jitd (for example no such grant), 2 usage error,\n"
	"3 cannot reach jitd.\n";

static const char help_list[] =
	"Usage: jitctl list [--all] [--mine] [--unreviewed] [--fleet] [--json]\n"
	"\n"
	"Show the active and scheduled grants and the pending requests as a table with the\n"
	"columns ID, RESOURCE, SUBJECT, STATE,\n"
	"EXPIRES (UTC), REMAINING, USES, LAST USE and REASON, or \"no active grants\".\n"
	"USES counts the accesses the kernel allowed by the grant; LAST USE says how long\n"
	"ago the last was. With --json prints the array of grant objects. Every user may\n"
	"list.\n"
	"\n"
	"Options:\n"
	"  --all              also show grants that expired or were revoked, denied requests\n"
	"  --mine             only what you asked for or what is granted to you\n"
	"  --unreviewed       the break-glass grants awaiting review ('jitctl review ID'),\n"
	"                     whatever their state (active, expired or revoked)\n"
	"  --fleet            the fleet's requests this host may see (jitd --fleet): the\n"
	"                     pending ones and those that target it or came from it\n" COMMON_HELP
	"\n"
	"Examples:\n"
	"  jitctl list\n"
	"  jitctl list --all --json | jq '.[] | select(.state == \"revoked\")'\n"
	"\n"
	"Exit status: 0 listed, 1 refused by jitd, 2 usage error, 3 cannot reach jitd.\n";

static const char help_status[] =
	"Usage: jitctl status [--json]\n"
	"\n"
	"Show whether jitd is enforcing: its BPF programs with their hooks and whether they\n"
	"are attached, decision counters, the policy in force (source, serial, resources),\n"
	"active grants, the enforcement self-test, notification counters (sent, failed,\n"
	"dropped, retried, running, queued), jitd's pid and start time. jitd enforces\n"
	"only when every program is attached and the self-test passed. With --json prints\n"
	"jitd's status object. Every user may ask.\n"
	"\n"
	"Options:\n" COMMON_HELP "\n"
	"Examples:\n"
	"  jitctl status\n"
	"  jitctl status --json | jq '.programs[] | select(.attached | not)'\n"
	"  jitctl status >/dev/null || echo 'jitd is down or not enforcing'\n"
	"\n"
	"Exit status: 0 jitd is enforcing, 4 jitd answers but is not enforcing,\n"
	"2 usage error, 3 cannot reach jitd.\n";

/* ---------------------------------------------------------------------------------------- */
/* Messages and argument parsing                                                             */

void try_help(const char *verb)
{
	fprintf(stderr, "Try 'jitctl%s%s --help'.\n", verb ? " " : "", verb ? verb : "");
}

/* Print "jitctl: [VERB: ]what is wrong" and the help hint; returns EXIT_USAGE. */
int __attribute__((format(printf, 2, 3))) usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jitctl: ");
	if (verb)
		fprintf(stderr, "%s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	try_help(verb);
	return EXIT_USAGE;
}

/* Parse a decimal number with nothing around it, in [min, max]. Returns 0 or -EINVAL. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Handle an option every verb accepts. Returns EXIT_OK or EXIT_USAGE (after saying why). */
int common_option(struct ctl *c, int opt, const char *arg, const char *verb)
{
	unsigned long long v;

	switch (opt) {
	case OPT_JSON:
		c->json = true;
		break;
	case OPT_SOCKET:
		if (!*arg)
			return usage_error(verb, "--socket: empty path");
		if (strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return usage_error(verb, "--socket: path too long: '%s'", arg);
		c->socket = arg;
		break;
	case OPT_TIMEOUT:
		if (parse_uint(arg, 1, MAX_TIMEOUT_S, &v))
			return usage_error(
				verb, "--timeout: invalid value '%s': expected seconds, 1 to %d",
				arg, MAX_TIMEOUT_S);
		c->timeout_s = (int)v;
		break;
	}
	return EXIT_OK;
}

/* Replace control characters by '?' so that text from jitd cannot drive the terminal. */
char *sanitize(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* Display width of a UTF-8 string, counted in code points (good enough for a table). */
static int text_width(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Talking to jitd                                                                           */

/* Milliseconds left until deadline (CLOCK_MONOTONIC ns), rounded up; 0 once it passed. */
static int ms_left(int64_t deadline)
{
	int64_t left = deadline - util_now_ns(CLOCK_MONOTONIC);

	return left > 0 ? (int)((left + 999999) / 1000000) : 0;
}

/* Connect to the Unix socket at path, waiting at most until deadline. Returns a
 * non-blocking fd or negative errno. */
static int ctl_connect(const char *path, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ms = ms_left(deadline);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix connect() waits for room in the listen backlog for at most SO_SNDTIMEO. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		goto err;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			goto err;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		goto err;
	return fd;
err:
	err = errno == EAGAIN ? -ETIMEDOUT : -errno;
	close(fd);
	return err;
}

/* Wait until fd is ready for events or deadline passes. Returns 0 or negative errno. */
static int ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r;

	for (;;) {
		r = poll(&pfd, 1, ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Send all of buf before deadline. Returns 0 or negative errno. */
static int ctl_send(int fd, const char *buf, size_t len, int64_t deadline)
{
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = ctl_wait(fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read one reply line (at most JITD_CTL_MAX_REPLY bytes, newline included) into buf before
 * deadline. Returns its length without the newline, -ETIMEDOUT, -ECONNRESET when jitd
 * closed the connection first, -EMSGSIZE when the line is too long, or negative errno. */
static ssize_t ctl_recv_line(int fd, char *buf, int64_t deadline)
{
	size_t len = 0;
	char *nl;
	ssize_t n;
	int err;

	while (len < JITD_CTL_MAX_REPLY) {
		n = read(fd, buf + len, JITD_CTL_MAX_REPLY - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = ctl_wait(fd, POLLIN, deadline);
			if (err)
				return err;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		nl = memchr(buf + len, '\n', n);
		if (nl)
			return nl - buf;
		len += n;
	}
	return -EMSGSIZE;
}

/* Print why jitd cannot be reached; returns EXIT_UNREACHABLE. */
static int unreachable(const struct ctl *c, const char *what, int err)
{
	if (err == -ETIMEDOUT)
		fprintf(stderr, "jitctl: %s jitd at %s: timed out after %d s\n", what, c->socket,
			c->timeout_s);
	else if (err == -ECONNRESET || err == -EPIPE)
		fprintf(stderr, "jitctl: %s jitd at %s: jitd closed the connection\n", what,
			c->socket);
	else
		fprintf(stderr, "jitctl: %s jitd at %s: %s\n", what, c->socket, strerror(-err));
	fprintf(stderr, "jitctl: is jitd running? (systemctl status jitd)\n");
	return EXIT_UNREACHABLE;
}

/* Print that jitd's reply is malformed; returns EXIT_UNREACHABLE. */
int bad_reply(const struct ctl *c, const char *why)
{
	fprintf(stderr, "jitctl: bad reply from jitd at %s: %s\n", c->socket, why);
	return EXIT_UNREACHABLE;
}

static char refused_errno[32]; /* jitd's "errno" of a refusal, for the JSON error */

/*
 * Parse reply line buf (n bytes) of verb. Returns EXIT_OK with *out set to the reply (an
 * object with "ok": true, to json_decref), or an exit code after printing the error.
 */
static int ctl_reply(const struct ctl *c, const char *verb, const char *buf, size_t n, json_t **out)
{
	json_t *reply, *ok;
	json_error_t jerr;
	const char *msg;
	int ret;

	reply = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!reply) {
		fprintf(stderr, "jitctl: bad reply from jitd at %s: not JSON (%s)\n", c->socket,
			jerr.text);
		return EXIT_UNREACHABLE;
	}
	ok = json_object_get(reply, "ok");
	if (!json_is_object(reply) || !json_is_boolean(ok)) {
		ret = bad_reply(c, "not an object with a boolean \"ok\"");
	} else if (json_is_false(ok)) {
		msg = json_string_value(json_object_get(reply, "error"));
		snprintf(refused_errno, sizeof(refused_errno), "%s",
			 json_string_value(json_object_get(reply, "errno")) ?: "");
		fprintf(stderr, "jitctl: %s: %s\n", verb, msg ? msg : "jitd refused the request");
		ret = EXIT_REFUSED;
	} else {
		*out = reply;
		return EXIT_OK;
	}
	json_decref(reply);
	return ret;
}

/*
 * Send request req (borrowed) for verb and read the reply. Returns EXIT_OK with *out set to
 * the reply (an object with "ok": true, to json_decref), or an exit code after printing the
 * error: EXIT_REFUSED with jitd's error, EXIT_UNREACHABLE, or EXIT_USAGE (request too long).
 */
int ctl_call(const struct ctl *c, const char *verb, json_t *req, json_t **out)
{
	int64_t deadline = util_now_ns(CLOCK_MONOTONIC) + c->timeout_s * NS_PER_S;
	char *line, *buf = NULL;
	int fd = -1, ret;
	ssize_t n;
	size_t len;

	*out = NULL;
	line = json_dumps(req, JSON_COMPACT);
	if (!line) {
		fprintf(stderr, "jitctl: %s: cannot encode the request\n", verb);
		return EXIT_REFUSED;
	}
	len = strlen(line);
	/* jitd takes up to JITD_CTL_MAX_LINE from anyone, more from root and admins */
	if (len + 1 > JITD_CTL_MAX_ADMIN_LINE) {
		ret = usage_error(verb, "request too long (%zu bytes, at most %u)", len + 1,
				  JITD_CTL_MAX_ADMIN_LINE);
		goto out;
	}
	line[len] = '\n'; /* replaces the NUL: line is sent by length from here on */

	buf = malloc(JITD_CTL_MAX_REPLY);
	if (!buf) {
		fprintf(stderr, "jitctl: %s: out of memory\n", verb);
		ret = EXIT_REFUSED;
		goto out;
	}
	fd = ctl_connect(c->socket, deadline);
	if (fd < 0) {
		ret = unreachable(c, "cannot connect to", fd);
		goto out;
	}
	ret = ctl_send(fd, line, len + 1, deadline);
	if (ret < 0) {
		ret = unreachable(c, "cannot send the request to", ret);
		goto out;
	}
	n = ctl_recv_line(fd, buf, deadline);
	if (n == -EMSGSIZE) {
		fprintf(stderr, "jitctl: bad reply from jitd at %s: longer than %u bytes\n",
			c->socket, JITD_CTL_MAX_REPLY);
		ret = EXIT_UNREACHABLE;
		goto out;
	}
	if (n < 0) {
		ret = unreachable(c, "no reply from", (int)n);
		goto out;
	}
	ret = ctl_reply(c, verb, buf, n, out);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(line);
	return ret;
}

static bool json_printed; /* some JSON went to stdout (json_errors_end) */

/* Print a JSON value for scripts. Returns EXIT_OK or EXIT_REFUSED. */
int print_json(const json_t *j)
{
	json_printed = true;
	if (json_dumpf(j, stdout, JSON_INDENT(2)) < 0 || putchar('\n') == EOF) {
		fprintf(stderr, "jitctl: cannot write the output\n");
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Grant objects                                                                             */

/* Human form of a grant subject into buf: "alice", "uid 1234", "cgroup /jtest",
 * "alice in /jtest", "uid 1234 in /jtest". Returns buf. */
/* How far RFC 3339 time iso is from now ("in 5m") into rel; false when iso is no time. */
static bool relative_of(const char *iso, char *rel, size_t len)
{
	int64_t t;

	if (util_parse_time(iso, &t))
		return false;
	util_format_relative(t, util_now_ns(CLOCK_REALTIME), rel, len);
	return true;
}

char *format_when(const char *iso, char *buf, size_t len)
{
	char rel[64];

	if (relative_of(iso, rel, sizeof(rel)))
		snprintf(buf, len, "%s (%s)", iso, rel);
	else
		snprintf(buf, len, "%s", iso);
	return buf;
}

char *format_subject(const json_t *subject, char *buf, size_t len)
{
	const char *user = json_string_value(json_object_get(subject, "user"));
	const char *cgroup = json_string_value(json_object_get(subject, "cgroup"));
	json_t *uid = json_object_get(subject, "uid");
	char who[64] = "";

	if (user)
		snprintf(who, sizeof(who), "%s", user);
	else if (json_is_integer(uid))
		snprintf(who, sizeof(who), "uid %" JSON_INTEGER_FORMAT, json_integer_value(uid));

	if (*who && cgroup)
		snprintf(buf, len, "%s in %s", who, cgroup);
	else if (*who)
		snprintf(buf, len, "%s", who);
	else if (cgroup)
		snprintf(buf, len, "cgroup %s", cgroup);
	else
		snprintf(buf, len, "?");
	return sanitize(buf);
}

/* The grant object in reply member "grant", or NULL after reporting a bad reply. */
json_t *reply_grant(const struct ctl *c, json_t *reply)
{
	json_t *g = json_object_get(reply, "grant");

	if (!json_is_object(g) || !json_is_integer(json_object_get(g, "id"))) {
		bad_reply(c, "no \"grant\" object with an integer \"id\"");
		return NULL;
	}
	return g;
}

json_int_t grant_id(const json_t *g)
{
	return json_integer_value(json_object_get(g, "id"));
}

/* String member key of grant g, or def when absent. */
const char *grant_str(const json_t *g, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(g, key));

	return s && *s ? s : def;
}

/* ---------------------------------------------------------------------------------------- */
/* Verbs                                                                                     */

/* Set string member key of req; returns -EINVAL when value is not valid UTF-8. */
int req_set_str(json_t *req, const char *key, const char *value)
{
	return json_object_set_new(req, key, json_string(value)) ? -EINVAL : 0;
}

/* "+DURATION" from now, or an RFC 3339 time. Returns 0 or -EINVAL. */
int parse_start(const char *s, int64_t *out_ns)
{
	int64_t d;

	if (*s == '+') {
		if (util_parse_duration(s + 1, &d))
			return -EINVAL;
		*out_ns = util_now_ns(CLOCK_REALTIME) + d * NS_PER_S;
		return 0;
	}
	return util_parse_time(s, out_ns) ? -EINVAL : 0;
}

/* What jitctl grant was given: its options, RESOURCE, and the values parsed from them. */
struct grant_args {
	const char *user, *uid_arg, *cgroup, *dur_arg;
	const char *reason, *resource, *unit, *start, *max_idle, *latest_start;
	bool until_unit_stops, from_first_use;
	char start_buf[40];  /* start, formatted */
	char latest_buf[40]; /* latest_start, formatted */
	unsigned long long uid;
	int64_t duration, max_idle_s;
};

/* Read grant's options into a: EXIT_OK, -1 after printing the help, or an exit code. */
static int grant_options(struct ctl *c, int argc, char **argv, struct grant_args *a)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"user", required_argument, NULL, OPT_USER},
		{"uid", required_argument, NULL, OPT_UID},
		{"cgroup", required_argument, NULL, OPT_CGROUP},
		{"for", required_argument, NULL, OPT_FOR},
		{"reason", required_argument, NULL, OPT_REASON},
		{"unit", required_argument, NULL, OPT_UNIT},
		{"start", required_argument, NULL, OPT_START},
		{"until-unit-stops", no_argument, NULL, OPT_UNTIL_UNIT_STOPS},
		{"max-idle", required_argument, NULL, OPT_MAX_IDLE},
		{"from-first-use", no_argument, NULL, OPT_FROM_FIRST_USE},
		{"latest-start", required_argument, NULL, OPT_LATEST_START},
		{},
	};
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_grant, stdout);
			return -1;
		case OPT_USER:
			a->user = optarg;
			break;
		case OPT_UID:
			a->uid_arg = optarg;
			break;
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_FOR:
			a->dur_arg = optarg;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		case OPT_UNIT:
			a->unit = optarg;
			break;
		case OPT_START:
			a->start = optarg;
			break;
		case OPT_UNTIL_UNIT_STOPS:
			a->until_unit_stops = true;
			break;
		case OPT_MAX_IDLE:
			a->max_idle = optarg;
			break;
		case OPT_FROM_FIRST_USE:
			a->from_first_use = true;
			break;
		case OPT_LATEST_START:
			a->latest_start = optarg;
			break;
		case '?':
			try_help("grant");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "grant");
			if (ret)
				return ret;
		}
	}
	return EXIT_OK;
}

/* Check RESOURCE and the options in a, parsing --start, --uid and --for into it: EXIT_OK or
 * EXIT_USAGE after saying why. */
static int grant_check(int argc, char **argv, struct grant_args *a)
{
	char maxbuf[32];
	int ret;

	if (optind >= argc)
		return usage_error("grant", "missing RESOURCE");
	if (argc - optind > 1)
		return usage_error("grant", "unexpected argument '%s'", argv[optind + 1]);
	a->resource = argv[optind];
	if (!*a->resource)
		return usage_error("grant", "empty RESOURCE");
	if (a->user && a->uid_arg)
		return usage_error("grant", "--user and --uid cannot be combined");
	if (a->cgroup && a->unit)
		return usage_error("grant", "--cgroup and --unit cannot be combined");
	if (!a->user && !a->uid_arg && !a->cgroup && !a->unit)
		return usage_error("grant", "missing subject: --user NAME, --uid N, --cgroup PATH "
					    "or --unit NAME.service");
	if (a->until_unit_stops && !a->unit)
		return usage_error("grant", "--until-unit-stops needs --unit NAME.service");
	if (a->start) {
		int64_t t;

		if (parse_start(a->start, &t))
			return usage_error("grant",
					   "--start: invalid time '%s': expected RFC 3339 UTC like "
					   "2026-12-01T02:00:00Z, or +DURATION from now",
					   a->start);
		a->start = util_format_time(t, a->start_buf, sizeof(a->start_buf));
	}
	if (a->user && !*a->user)
		return usage_error("grant", "--user: empty name");
	if (a->uid_arg && parse_uint(a->uid_arg, 0, UINT32_MAX - 1, &a->uid))
		return usage_error("grant", "--uid: invalid uid '%s': expected 0 to %u", a->uid_arg,
				   UINT32_MAX - 1);
	if (a->cgroup && a->cgroup[0] != '/')
		return usage_error("grant",
				   "--cgroup: '%s' must start with '/' (relative to the cgroupfs "
				   "root, like /jtest)",
				   a->cgroup);
	if (!a->dur_arg)
		return usage_error("grant", "missing --for DURATION");
	ret = util_parse_duration(a->dur_arg, &a->duration);
	if (ret == -ERANGE)
		return usage_error(
			"grant", "--for: duration '%s' out of range: 1s to %s", a->dur_arg,
			util_format_duration(JITD_MAX_DURATION_S, maxbuf, sizeof(maxbuf)));
	if (ret)
		return usage_error("grant",
				   "--for: invalid duration '%s': expected seconds or a form like "
				   "90s, 15m, 1h30m, 2d",
				   a->dur_arg);
	if (a->reason && strlen(a->reason) > GRANT_MAX_REASON)
		return usage_error("grant", "--reason: too long (%zu bytes, at most %d)",
				   strlen(a->reason), GRANT_MAX_REASON);
	if (a->max_idle && (util_parse_duration(a->max_idle, &a->max_idle_s) ||
			    a->max_idle_s < POLICY_MIN_IDLE_S || a->max_idle_s > POLICY_MAX_IDLE_S))
		return usage_error("grant", "--max-idle: '%s' is not a duration from 1m to 1d",
				   a->max_idle);
	return EXIT_OK;
}

/* --from-first-use and --latest-start (parsed, ahead of now, at most 366 days): EXIT_OK or
 * EXIT_USAGE after saying why. */
static int grant_check_first_use(struct grant_args *a)
{
	int64_t now = util_now_ns(CLOCK_REALTIME), t;

	if (a->latest_start && !a->from_first_use)
		return usage_error("grant", "--latest-start needs --from-first-use");
	if (!a->from_first_use)
		return EXIT_OK;
	if (a->start || a->max_idle)
		return usage_error("grant", "--from-first-use cannot be combined with --start or "
					    "--max-idle");
	if (!a->latest_start)
		return EXIT_OK; /* jitd's default: 24 hours from now */
	if (parse_start(a->latest_start, &t))
		return usage_error("grant",
				   "--latest-start: invalid time '%s': expected RFC 3339 UTC like "
				   "2026-12-01T02:00:00Z, or +DURATION from now",
				   a->latest_start);
	if (t <= now || t - now > JITD_MAX_DURATION_S * NS_PER_S)
		return usage_error("grant",
				   "--latest-start: '%s' must be ahead of now, at most "
				   "366d",
				   a->latest_start);
	a->latest_start = util_format_time(t, a->latest_buf, sizeof(a->latest_buf));
	return EXIT_OK;
}

/* Fill req (NULL when json_object() failed) with the grant request of a: EXIT_OK, or an
 * exit code after saying why. */
static int grant_request(json_t *req, const struct grant_args *a)
{
	if (!req || req_set_str(req, "op", "grant"))
		goto nomem;
	if (req_set_str(req, "resource", a->resource))
		return usage_error("grant", "RESOURCE is not valid UTF-8");
	if (a->user && req_set_str(req, "user", a->user))
		return usage_error("grant", "--user: not valid UTF-8");
	if (a->uid_arg && json_object_set_new(req, "uid", json_integer((json_int_t)a->uid)))
		goto nomem;
	if (a->cgroup && req_set_str(req, "cgroup", a->cgroup))
		return usage_error("grant", "--cgroup: not valid UTF-8");
	if (a->unit && req_set_str(req, "unit", a->unit))
		return usage_error("grant", "--unit: not valid UTF-8");
	if (a->until_unit_stops && json_object_set_new(req, "until_unit_stops", json_true()))
		goto nomem;
	if (a->start && req_set_str(req, "start", a->start))
		goto nomem;
	if (json_object_set_new(req, "duration_s", json_integer(a->duration)))
		goto nomem;
	if (a->reason && req_set_str(req, "reason", a->reason))
		return usage_error("grant", "--reason: not valid UTF-8");
	if (a->max_idle && json_object_set_new(req, "max_idle_s", json_integer(a->max_idle_s)))
		goto nomem;
	if (a->from_first_use && json_object_set_new(req, "from_first_use", json_true()))
		goto nomem;
	if (a->latest_start && req_set_str(req, "latest_start", a->latest_start))
		goto nomem;
	return EXIT_OK;
nomem:
	fprintf(stderr, "jitctl: grant: out of memory\n");
	return EXIT_REFUSED;
}

/* Print the new grant in jitd's reply: its id, or with --json the grant object. */
static int grant_print(const struct ctl *c, json_t *reply)
{
	json_t *g = reply_grant(c, reply);

	if (!g)
		return EXIT_UNREACHABLE;
	if (c->json)
		return print_json(g);
	printf("%" JSON_INTEGER_FORMAT "\n", grant_id(g));
	return EXIT_OK;
}

static int cmd_grant(struct ctl *c, int argc, char **argv)
{
	struct grant_args a = {};
	json_t *req, *reply = NULL;
	int ret;

	ret = grant_options(c, argc, argv, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = grant_check(argc, argv, &a) ?: grant_check_first_use(&a);
	if (ret)
		return ret;
	req = json_object();
	ret = grant_request(req, &a);
	if (!ret)
		ret = ctl_call(c, "grant", req, &reply);
	if (!ret)
		ret = grant_print(c, reply);
	json_decref(reply);
	json_decref(req);
	return ret;
}

static int cmd_revoke(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTIONS, {"kill", no_argument, NULL, 'K'}, {}};
	json_t *req, *reply = NULL, *g;
	char subject[SUBJECT_MAX], *resource;
	unsigned long long id;
	bool kill = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_revoke, stdout);
			return EXIT_OK;
		case 'K':
			kill = true;
			break;
		case '?':
			try_help("revoke");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "revoke");
			if (ret)
				return ret;
		}
	}
	if (optind >= argc)
		return usage_error("revoke", "missing grant ID");
	if (argc - optind > 1)
		return usage_error("revoke", "unexpected argument '%s'", argv[optind + 1]);
	if (fleet_id_arg(argv[optind], &id))
		return fleet_call(
			c, "revoke",
			json_pack("{s:s,s:I}", "op", "revoke", "fleet_id", (json_int_t)id), NULL,
			0);
	if (parse_uint(argv[optind], 1, INT64_MAX, &id))
		return usage_error("revoke",
				   "invalid grant ID '%s': expected a positive integer, or fN for "
				   "a fleet request",
				   argv[optind]);

	req = json_pack("{s:s, s:I, s:b}", "op", "revoke", "id", (json_int_t)id, "kill", kill);
	if (!req) {
		fprintf(stderr, "jitctl: revoke: out of memory\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "revoke", req, &reply);
	json_decref(req);
	if (ret)
		return ret;

	g = reply_grant(c, reply);
	if (!g) {
		ret = EXIT_UNREACHABLE;
	} else if (c->json) {
		ret = print_json(g);
	} else {
		resource = strdup(grant_str(g, "resource", "?"));
		if (!resource) {
			fprintf(stderr, "jitctl: revoke: out of memory\n");
			ret = EXIT_REFUSED;
		} else {
			printf("revoked grant %" JSON_INTEGER_FORMAT " (%s, %s)\n", grant_id(g),
			       sanitize(resource),
			       format_subject(json_object_get(g, "subject"), subject,
					      sizeof(subject)));
			free(resource);
			if (json_is_integer(json_object_get(reply, "killed")))
				printf("killed %" JSON_INTEGER_FORMAT " processes of its cgroup\n",
				       json_integer_value(json_object_get(reply, "killed")));
			if (json_is_string(json_object_get(reply, "kill_error"))) {
				fprintf(stderr,
					"jitctl: revoke: the grant is revoked but its "
					"processes could not be killed: %s\n",
					json_string_value(json_object_get(reply, "kill_error")));
				ret = EXIT_REFUSED;
			}
		}
	}
	json_decref(reply);
	return ret;
}

enum {
	COL_ID,
	COL_RESOURCE,
	COL_SUBJECT,
	COL_STATE,
	COL_EXPIRES,
	COL_REMAINING,
	COL_USES,
	COL_LAST_USE,
	COL_REASON,
	NCOLS
};

/* "a,b,c" of a grant's resources (malloc'd). */
static char *join_resources(const json_t *g)
{
	json_t *arr = json_object_get(g, "resources"), *v;
	char buf[1200] = "";
	size_t i;

	if (!json_array_size(arr))
		return strdup(grant_str(g, "resource", "?"));
	json_array_foreach(arr, i, v) {
		if (i)
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, json_string_value(v) ?: "?", sizeof(buf) - strlen(buf) - 1);
	}
	return strdup(buf);
}

/* The USES and LAST USE cells ("-" before the grant reached the kernel). */
static void list_usage(const json_t *u, char **cells)
{
	char buf[64];

	if (!json_is_object(u)) {
		cells[COL_USES] = strdup("-");
		cells[COL_LAST_USE] = strdup("-");
		return;
	}
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(u, "uses")));
	cells[COL_USES] = strdup(buf);
	if (!relative_of(grant_str(u, "last_use", ""), buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "%s", json_object_get(u, "last_use") ? "?" : "never");
	cells[COL_LAST_USE] = strdup(buf);
}

/* Fill the table cells (malloc'd, sanitized) of one grant. Returns 0 or -ENOMEM. */
static int list_row(const json_t *g, char **cells)
{
	const char *state = grant_str(g, "state", "?");
	json_t *remaining = json_object_get(g, "remaining_s");
	char buf[SUBJECT_MAX], when[64];

	if (asprintf(&cells[COL_ID], "%" JSON_INTEGER_FORMAT, grant_id(g)) < 0) {
		cells[COL_ID] = NULL;
		return -ENOMEM;
	}
	cells[COL_RESOURCE] = join_resources(g);
	cells[COL_SUBJECT] =
		strdup(format_subject(json_object_get(g, "subject"), buf, sizeof(buf)));
	/* when a scheduled grant starts, beside its state: "scheduled, starts in 5m" */
	if (!strcmp(state, "scheduled") &&
	    relative_of(grant_str(g, "starts", ""), when, sizeof(when)))
		snprintf(buf, sizeof(buf), "scheduled, starts %s", when);
	else
		snprintf(buf, sizeof(buf), "%s", state);
	/* a break-glass grant says so, with its review: "active, break-glass unreviewed" */
	if (json_is_true(json_object_get(g, "break_glass")))
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ", break-glass %s",
			 grant_str(json_object_get(g, "review"), "state", "?"));
	cells[COL_STATE] = strdup(buf);
	cells[COL_EXPIRES] = strdup(format_when(
		grant_str(g, "expires", grant_str(g, "pending_until", "-")), buf, sizeof(buf)));
	if (!strcmp(state, "active") && json_is_integer(remaining))
		util_format_duration(json_integer_value(remaining), buf, sizeof(buf));
	else
		strcpy(buf, "-");
	cells[COL_REMAINING] = strdup(buf);
	list_usage(json_object_get(g, "usage"), cells);
	cells[COL_REASON] = strdup(grant_str(g, "reason", "-"));
	for (int i = 0; i < NCOLS; i++) {
		if (!cells[i])
			return -ENOMEM;
		sanitize(cells[i]);
	}
	return 0;
}

/* Print grants as a table, columns separated by two spaces. Returns EXIT_OK or
 * EXIT_REFUSED (out of memory). */
static int list_print_table(const json_t *grants)
{
	static const char *const headers[NCOLS] = {"ID",    "RESOURCE", "SUBJECT",
						   "STATE", "EXPIRES",	"REMAINING",
						   "USES",  "LAST USE", "REASON"};
	size_t rows = json_array_size(grants), ncells = rows * NCOLS;
	int width[NCOLS], ret = EXIT_OK;
	char **cells;
	size_t r, i;

	cells = calloc(ncells ? ncells : 1, sizeof(*cells));
	if (!cells)
		goto nomem;
	for (i = 0; i < NCOLS; i++)
		width[i] = text_width(headers[i]);
	for (r = 0; r < rows; r++) {
		if (list_row(json_array_get(grants, r), cells + r * NCOLS))
			goto nomem;
		for (i = 0; i < NCOLS; i++)
			if (text_width(cells[r * NCOLS + i]) > width[i])
				width[i] = text_width(cells[r * NCOLS + i]);
	}

	for (i = 0; i + 1 < NCOLS; i++)
		printf("%-*s  ", width[i], headers[i]);
	printf("%s\n", headers[i]);
	for (r = 0; r < rows; r++) {
		for (i = 0; i + 1 < NCOLS; i++) {
			const char *cell = cells[r * NCOLS + i];

			/* %-*s pads bytes, not characters: pad by hand for UTF-8 text. */
			printf("%s%*s  ", cell, width[i] - text_width(cell), "");
		}
		printf("%s\n", cells[r * NCOLS + i]);
	}
	goto out;
nomem:
	fprintf(stderr, "jitctl: list: out of memory\n");
	ret = EXIT_REFUSED;
out:
	for (i = 0; cells && i < ncells; i++)
		free(cells[i]);
	free(cells);
	return ret;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"all", no_argument, NULL, OPT_ALL},
		{"mine", no_argument, NULL, OPT_MINE},
		{"fleet", no_argument, NULL, OPT_FLEET},
		{"unreviewed", no_argument, NULL, OPT_UNREVIEWED},
		{},
	};
	json_t *req, *reply = NULL, *grants, *g;
	bool all = false, mine = false, fleet = false, unreviewed = false;
	int opt, ret;
	size_t i;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_list, stdout);
			return EXIT_OK;
		case OPT_ALL:
			all = true;
			break;
		case OPT_MINE:
			mine = true;
			break;
		case OPT_FLEET:
			fleet = true;
			break;
		case OPT_UNREVIEWED:
			unreviewed = true;
			break;
		case '?':
			try_help("list");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "list");
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error("list", "unexpected argument '%s'", argv[optind]);

	req = json_pack("{s:s, s:b, s:b, s:b}", "op", "list", "all", all, "mine", mine,
			"unreviewed", unreviewed);
	if (fleet && req)
		return json_object_set_new(req, "fleet", json_true()),
		       fleet_call(c, "list", req, NULL, 0);
	if (!req) {
		fprintf(stderr, "jitctl: list: out of memory\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "list", req, &reply);
	json_decref(req);
	if (ret)
		return ret;

	grants = json_object_get(reply, "grants");
	if (!json_is_array(grants)) {
		ret = bad_reply(c, "no \"grants\" array");
		goto out;
	}
	json_array_foreach(grants, i, g) {
		if (!json_is_object(g) || !json_is_integer(json_object_get(g, "id"))) {
			ret = bad_reply(c, "a grant is not an object with an integer \"id\"");
			goto out;
		}
	}
	if (c->json)
		ret = print_json(grants);
	else if (!json_array_size(grants))
		puts(unreviewed ? "no unreviewed break-glass grants"
		     : all	? "no grants"
				: "no active grants or pending requests");
	else
		ret = list_print_table(grants);
out:
	json_decref(reply);
	return ret;
}

/* Print one "label: value" line of the status view, values aligned. */
static void __attribute__((format(printf, 2, 3)))
status_line(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-11s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* String member key of object o, sanitized into buf, or def. Returns buf or def. */
static const char *status_str(const json_t *o, const char *key, const char *def, char *buf,
			      size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || !*s)
		return def;
	snprintf(buf, len, "%s", s);
	return sanitize(buf);
}

/* Integer member key of object o as text into buf, or "?". Returns buf. */
static const char *status_int(const json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, len, "?");
	return buf;
}

/* What the kernel enforces and how (status "kernel"): lockdown, subject, walk, hooks. */
static void kernel_print(const json_t *k)
{
	char a[512], b[512], c[512];
	const char *key;
	json_t *v;

	if (!json_is_object(k))
		return;
	(void)v;
	status_line("lockdown:", "%s (%s)", status_str(k, "lockdown", "unknown", a, sizeof(a)),
		    status_str(k, "lockdown_note", "", b, sizeof(b)));
	status_line("programs:", "%s", status_str(k, "programs_from", "unknown", a, sizeof(a)));
	status_line("subject:", "%s", status_str(k, "subject", "unknown", a, sizeof(a)));
	status_line("dir walk:", "%s (bound %s levels)",
		    status_str(k, "directory_walk", "unknown", a, sizeof(a)),
		    status_int(k, "directory_walk_bound", b, sizeof(b)));
	if (json_is_object(json_object_get(k, "self_protection"))) {
		const json_t *sp = json_object_get(k, "self_protection");

		status_line("self:", "%s kernel objects, %s files (%s)",
			    status_int(sp, "kernel_objects", a, sizeof(a)),
			    status_int(sp, "files", b, sizeof(b)),
			    status_str(sp, "note", "", c, sizeof(c)));
	}
	json_object_foreach(json_object_get(k, "hooks"), key, v) {
		snprintf(a, sizeof(a), "%s", key);
		status_line("hook:", "%s: %s", sanitize(a),
			    status_str(json_object_get(k, "hooks"), key, "?", b, sizeof(b)));
	}
}

/* The audit seal line of status: on (key, interval, epoch), or off and why. */
static void audit_status_print(const json_t *au)
{
	char a[64], b[32], d[32];
	json_t *iv = json_object_get(au, "interval_s");

	if (!json_is_object(au))
		return;
	if (!json_is_true(json_object_get(au, "sealing"))) {
		status_line("sealing:", "OFF%s%s",
			    json_object_get(au, "error") ? ": " : " (jitctl audit seal-init)",
			    status_str(au, "error", "", a, sizeof(a)));
		return;
	}
	status_line("sealing:", "on, key %s, every %s, epoch %s",
		    status_str(au, "key_id", "?", a, sizeof(a)),
		    util_format_duration(json_integer_value(iv), d, sizeof(d)),
		    status_int(au, "epoch", b, sizeof(b)));
}

/* The notification runner's counters (jitd notify.c), when jitd has one. */
static void notify_status_print(const json_t *n)
{
	char v[8][32];
	static const char *const keys[] = {"sent",    "failed", "dropped",  "retried",
					   "running", "queued", "max_jobs", "max_queue"};

	if (!json_is_object(n))
		return;
	for (int i = 0; i < 8; i++)
		status_int(n, keys[i], v[i], sizeof(v[i]));
	status_line("notify:",
		    "%s sent, %s failed, %s dropped, %s retried; %s running, %s queued "
		    "(at most %s at once, %s queued)",
		    v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

static void status_print(const json_t *st)
{
	json_t *enforcing = json_object_get(st, "enforcing");
	json_t *programs = json_object_get(st, "programs");
	json_t *counters = json_object_get(st, "counters");
	json_t *policy = json_object_get(st, "policy");
	json_t *prog, *v;
	char a[512], b[512], n1[32], n2[32];
	int wname = 0, whook = 0;
	const char *key;
	size_t i, off;

	status_line("enforcing:", "%s",
		    json_is_true(enforcing)    ? "yes"
		    : json_is_false(enforcing) ? "no"
					       : "unknown");

	if (!json_array_size(programs)) {
		status_line("programs:", "none");
	} else {
		status_line("programs:", "%zu", json_array_size(programs));
		json_array_foreach(programs, i, prog) {
			if (text_width(status_str(prog, "name", "?", a, sizeof(a))) > wname)
				wname = text_width(a);
			if (text_width(status_str(prog, "hook", "?", a, sizeof(a))) > whook)
				whook = text_width(a);
		}
		json_array_foreach(programs, i, prog) {
			const char *name = status_str(prog, "name", "?", a, sizeof(a));
			const char *hook = status_str(prog, "hook", "?", b, sizeof(b));

			printf("  %s%*s  %s%*s  ", name, wname - text_width(name), "", hook,
			       whook - text_width(hook), "");
			if (!json_is_true(json_object_get(prog, "attached")))
				printf("NOT attached\n");
			else if (json_is_integer(json_object_get(prog, "prog_id")))
				printf("attached (prog id %s)\n",
				       status_int(prog, "prog_id", n1, sizeof(n1)));
			else
				printf("attached\n");
		}
	}

	off = 0;
	a[0] = '\0';
	json_object_foreach(counters, key, v) {
		if (!json_is_integer(v) || off >= sizeof(a))
			continue;
		off += snprintf(a + off, sizeof(a) - off, "%s%s %" JSON_INTEGER_FORMAT,
				off ? ", " : "", key, json_integer_value(v));
	}
	status_line("counters:", "%s", a[0] ? sanitize(a) : "none");

	if (json_is_object(policy))
		status_line("policy:", "%s (serial %s, %s resources)",
			    status_str(policy, "source", "?", a, sizeof(a)),
			    status_int(policy, "serial", n1, sizeof(n1)),
			    status_int(policy, "resources", n2, sizeof(n2)));
	else
		status_line("policy:", "none");
	status_line("grants:", "%s active",
		    status_int(json_object_get(st, "grants"), "active", n1, sizeof(n1)));
	if (json_is_object(json_object_get(st, "alerts")))
		status_line(
			"alerts:", "%s raised, %s held back",
			status_int(json_object_get(st, "alerts"), "raised", n1, sizeof(n1)),
			status_int(json_object_get(st, "alerts"), "suppressed", n2, sizeof(n2)));
	status_line("self-test:", "%s", status_str(st, "selftest", "unknown", a, sizeof(a)));
	status_line("lsm:", "%s", status_str(st, "lsm", "unknown", a, sizeof(a)));
	kernel_print(json_object_get(st, "kernel"));
	fleet_status_print(json_object_get(st, "fleet"));
	audit_status_print(json_object_get(st, "audit"));
	notify_status_print(json_object_get(st, "notify"));
	status_line("pid:", "%s", status_int(st, "pid", n1, sizeof(n1)));
	status_line("started:", "%s", status_str(st, "started", "unknown", a, sizeof(a)));
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTIONS, {}};
	json_t *req, *reply = NULL;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_status, stdout);
			return EXIT_OK;
		case '?':
			try_help("status");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "status");
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	req = json_pack("{s:s}", "op", "status");
	if (!req) {
		fprintf(stderr, "jitctl: status: out of memory\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "status", req, &reply);
	json_decref(req);
	if (ret)
		return ret;

	if (c->json) {
		json_object_del(reply, "ok"); /* print jitd's status, not the envelope */
		ret = print_json(reply);
	} else {
		status_print(reply);
	}
	if (!ret && !json_is_true(json_object_get(reply, "enforcing")))
		ret = EXIT_NOT_ENFORCING;
	json_decref(reply);
	return ret;
}

/* ---------------------------------------------------------------------------------------- */

struct verb {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{"grant", cmd_grant, help_grant},	{"revoke", cmd_revoke, help_revoke},
	{"list", cmd_list, help_list},		{"status", cmd_status, help_status},
	{"request", cmd_request, help_request}, {"approve", cmd_approve, help_approve},
	{"deny", cmd_deny, help_deny},		{"extend", cmd_extend, help_extend},
	{"show", cmd_show, help_show},		{"exec", cmd_exec, help_exec},
	{"policy", cmd_policy, help_policy},	{"audit", cmd_audit, help_audit},
	{"fleet", cmd_fleet, help_fleet},	{"approvers", cmd_approvers, help_approvers},
	{"review", cmd_review, help_review},	{"report", cmd_report, help_report},
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* "jitctl help [VERB]". */
static int cmd_help(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		fputs(help_main, stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error("help", "unexpected argument '%s'", argv[2]);
	v = find_verb(argv[1]);
	if (!v)
		return usage_error(NULL, "unknown verb '%s'", argv[1]);
	fputs(v->help, stdout);
	return EXIT_OK;
}

/*
 * --json anywhere before "--" (a verb's option too): what goes to stderr is kept as well,
 * and a failure that printed no JSON prints {"error": ..., "exit": N} on stdout.
 */
static FILE *real_stderr;
static char *err_text;
static size_t err_len;

static void json_errors_begin(bool json, int argc, char **argv)
{
	FILE *m;

	for (int i = 1; i < argc && !json && strcmp(argv[i], "--"); i++)
		json = !strcmp(argv[i], "--json");
	if (json && (m = open_memstream(&err_text, &err_len))) {
		real_stderr = stderr;
		stderr = m;
	}
}

/* The lines of text without "jitctl: " and "Try 'jitctl ... --help'.", joined by "; "
 * (malloc'd). */
static char *error_message(const char *text)
{
	char *out = malloc(strlen(text) * 2 + 1), *q = out;

	if (!out)
		return NULL;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		const char *line = p;

		p += n + (p[n] == '\n');
		if (!strncmp(line, "jitctl: ", 8) && n >= 8) {
			line += 8;
			n -= 8;
		}
		if (!n || !strncmp(line, "Try 'jitctl", 11))
			continue;
		if (q != out)
			q = stpcpy(q, "; ");
		memcpy(q, line, n);
		q += n;
	}
	*q = 0;
	return out;
}

static int json_errors_end(int ret)
{
	char *msg;
	json_t *o;

	if (!real_stderr)
		return ret;
	fclose(stderr);
	stderr = real_stderr;
	real_stderr = NULL;
	if (err_len)
		fputs(err_text, stderr); /* people read it there still */
	if ((ret == EXIT_REFUSED || ret == EXIT_USAGE || ret == EXIT_UNREACHABLE) &&
	    !json_printed) {
		msg = error_message(err_text ?: "");
		o = json_pack("{s:s,s:i}", "error", msg && *msg ? msg : "failed", "exit", ret);
		if (o && refused_errno[0])
			json_object_set_new(o, "errno", json_string(refused_errno));
		if (o)
			print_json(o);
		json_decref(o);
		free(msg);
	}
	free(err_text);
	return ret;
}

static int run_verb(struct ctl *c, const struct verb *v, int argc, char **argv)
{
	int ret;

	/* exec becomes CMD: what it says on stderr must be there before */
	if (strcmp(v->name, "exec"))
		json_errors_begin(c->json, argc, argv);
	ret = v->run(c, argc, argv);
	return json_errors_end(ret);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"version", no_argument, NULL, OPT_VERSION},
		{},
	};
	const char *env = getenv("JITD_SOCKET");
	struct ctl c = {
		.socket = env && *env ? env : JITD_DEFAULT_SOCKET,
		.timeout_s = DEFAULT_TIMEOUT_S,
	};
	const struct verb *v;
	char prog[64];
	int opt, ret;

	argv[0] = "jitctl"; /* for getopt's messages */
	/* "+": stop at the verb; what follows belongs to the verb's own parser. */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_main, stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("jitctl %s\n", JITCTL_VERSION);
			return EXIT_OK;
		case '?':
			try_help(NULL);
			return EXIT_USAGE;
		default:
			ret = common_option(&c, opt, optarg, NULL);
			if (ret)
				return ret;
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "missing verb");
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return cmd_help(argc, argv);
	v = find_verb(argv[0]);
	if (!v)
		return usage_error(NULL, "unknown verb '%s'", argv[0]);

	/* getopt prefixes its messages with argv[0]: make them read "jitctl: VERB: ...". */
	snprintf(prog, sizeof(prog), "jitctl: %s", v->name);
	argv[0] = prog;
	optind = 0; /* glibc: start a fresh scan (and permute again) */
	ret = run_verb(&c, v, argc, argv);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "jitctl: cannot write the output: %s\n", strerror(errno));
		if (!ret)
			ret = EXIT_REFUSED;
	}
	return ret;
}
