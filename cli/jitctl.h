/* SPDX-License-Identifier: GPL-2.0-only */
/* What jitctl's verbs in other files (workflow.c, audit_cmd.c) share with jitctl.c. */
#ifndef JITCTL_H
#define JITCTL_H

#include <stdbool.h>
#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "util.h"

/* Exit codes, docs/protocol.md. */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,	/* jitd refused or failed the request (or a local failure) */
	EXIT_USAGE = 2,		/* bad arguments, bad duration */
	EXIT_UNREACHABLE = 3,	/* socket missing, connection refused, timeout, bad reply */
	EXIT_NOT_ENFORCING = 4, /* status: jitd answers but is not enforcing */
	EXIT_PENDING = 5,	/* request: pending approval (without --wait) */
};

struct ctl {
	const char *socket; /* control socket path */
	int timeout_s;	    /* for the whole exchange: connect, send, reply */
	bool json;	    /* print JSON instead of text */
};

#define DEFAULT_TIMEOUT_S 10
#define MAX_TIMEOUT_S	  86400
#define SUBJECT_MAX	  4400 /* a cgroup path (PATH_MAX) plus a user name */

/* Long-only options get values above any short option character. */
enum {
	OPT_JSON = 0x100,
	OPT_SOCKET,
	OPT_TIMEOUT,
	OPT_VERSION,
	OPT_USER,
	OPT_UID,
	OPT_CGROUP,
	OPT_FOR,
	OPT_REASON,
	OPT_ALL,
	OPT_MINE,
	OPT_WAIT,
	OPT_UNIT,
	OPT_START,
	OPT_HOSTS,
	OPT_FLEET,
	OPT_UNTIL_UNIT_STOPS,
	OPT_DRY_RUN,
	OPT_BREAK_GLASS,
	OPT_UNREVIEWED,
	OPT_APPROVE,
	OPT_FLAG,
	OPT_REVOKE,
	OPT_SINCE,
	OPT_UNUSED,
	OPT_MAX_IDLE,
	OPT_FROM_FIRST_USE,
	OPT_LATEST_START,
};

/* Accepted globally and by every verb. */
// clang-format off
#define COMMON_OPTIONS							\
	{ "json", no_argument, NULL, OPT_JSON },			\
	{ "socket", required_argument, NULL, OPT_SOCKET },		\
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },		\
	{ "help", no_argument, NULL, 'h' }
// clang-format on

#define DURATION_FORMS "90s, 15m, 1h30m, 2d or \"1h 30m\"; a bare number is seconds"

#define COMMON_HELP                                                                                \
	"  --json             print JSON for scripts instead of text\n"                            \
	"  --socket PATH      jitd's control socket (default: $JITD_SOCKET, else\n"                \
	"                     " JITD_DEFAULT_SOCKET ")\n"                                          \
	"  --timeout SECONDS  give up when jitd has not answered within SECONDS (default 10)\n"    \
	"  -h, --help         show this help\n"

void try_help(const char *verb);
/* Print "jitctl: [VERB: ]what is wrong" and the help hint; returns EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse a decimal number with nothing around it, in [min, max]. Returns 0 or -EINVAL. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out);
/* Handle an option every verb accepts. Returns EXIT_OK or EXIT_USAGE. */
int common_option(struct ctl *c, int opt, const char *arg, const char *verb);
/* Replace control characters by '?'. Returns s. */
char *sanitize(char *s);
/* Send req for verb, read the reply (EXIT_OK with *out set, else an exit code, printed). */
int ctl_call(const struct ctl *c, const char *verb, json_t *req, json_t **out);
/* Print a JSON value for scripts. Returns EXIT_OK or EXIT_REFUSED. */
int print_json(const json_t *j);
/* Print that jitd's reply is malformed; returns EXIT_UNREACHABLE. */
int bad_reply(const struct ctl *c, const char *why);
/* Human form of a grant subject into buf. Returns buf. */
char *format_subject(const json_t *subject, char *buf, size_t len);
/* An RFC 3339 time with how far it is from now beside it: "2026-12-03T10:00:00.000Z
 * (in 47m)"; other text as it is. Returns buf. */
char *format_when(const char *iso, char *buf, size_t len);
/* The grant object in reply member "grant", or NULL after reporting a bad reply. */
json_t *reply_grant(const struct ctl *c, json_t *reply);
/* The id of grant object g. */
json_int_t grant_id(const json_t *g);
/* String member key of grant g, or def when absent. */
const char *grant_str(const json_t *g, const char *key, const char *def);
/* Set string member key of req; returns -EINVAL when value is not valid UTF-8. */
int req_set_str(json_t *req, const char *key, const char *value);

/* "+DURATION" from now, or an RFC 3339 time, into ns since the epoch. 0 or -EINVAL. */
int parse_start(const char *s, int64_t *out_ns);

/* workflow.c: request, approve, deny, extend, show, exec, policy. */
int cmd_request(struct ctl *c, int argc, char **argv);
int cmd_approve(struct ctl *c, int argc, char **argv);
int cmd_deny(struct ctl *c, int argc, char **argv);
int cmd_extend(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_exec(struct ctl *c, int argc, char **argv);
int cmd_policy(struct ctl *c, int argc, char **argv);
extern const char help_request[], help_approve[], help_deny[], help_extend[], help_show[],
	help_exec[], help_policy[];

/* workflow.c: send req (consumed; NULL: it could not be built) and return the grant
 * object of the reply, owned by *reply; or NULL with the exit code in *ret (the error
 * printed). */
json_t *call_for_grant(struct ctl *c, const char *verb, json_t *req, json_t **reply, int *ret);
/* explain_cmd.c: request --dry-run, approvers, policy explain. */
extern const char help_approvers[];
/* Send request req (consumed) as a dry-run and print what it would do: EXIT_OK when it
 * would be granted or pending, EXIT_REFUSED when refused. */
int request_dry_run(struct ctl *c, json_t *req);
int cmd_approvers(struct ctl *c, int argc, char **argv);
/* `jitctl policy explain USER RESOURCE...`: argv[first] is USER. An exit code. */
int policy_explain(struct ctl *c, int argc, char **argv, int first);
/* report_cmd.c: `jitctl report`. */
extern const char help_report[];
int cmd_report(struct ctl *c, int argc, char **argv);

/* fleet_cmd.c: fleet ids ("f12"), --hosts selectors, `jitctl fleet`. */
#ifndef JITD_FLEET_MIGRATIONS
#define JITD_FLEET_MIGRATIONS "/usr/share/jitd/fleet"
#endif
extern const char help_fleet[];
bool fleet_id_arg(const char *s, unsigned long long *id);
json_t *fleet_selector_arg(const char *s);
/* Send req (consumed) and print the "fleet" reply (one request or a list); the state of
 * one request into state when given. An exit code. */
int fleet_call(struct ctl *c, const char *verb, json_t *req, char *state, size_t len);
int cmd_fleet(struct ctl *c, int argc, char **argv);
/* The "fleet" part of `status` as text lines. */
void fleet_status_print(const json_t *f);

/* breakglass_cmd.c: "jitctl review" (of break-glass grants). */
extern const char help_review[];
int cmd_review(struct ctl *c, int argc, char **argv);

/* audit_cmd.c: "jitctl audit". */
extern const char help_audit[];
int cmd_audit(struct ctl *c, int argc, char **argv);

#endif
