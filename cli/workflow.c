// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl verbs of the access workflow: request, approve, deny, extend, show, exec and
 * policy (check, apply, show). Same conventions as jitctl.c: one request per exchange,
 * errors printed once where handled, exit codes from jitctl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"
#include "policy.h"
#include "util.h"

#define WAIT_POLL_S 1

const char help_request[] =
	"Usage: jitctl request RESOURCE... --for DURATION [--reason TEXT] [--wait] [--json]\n"
	"       jitctl request RESOURCE... --for DURATION [--reason TEXT] --dry-run [--json]\n"
	"       jitctl request RESOURCE... --for DURATION --break-glass --reason TEXT [--json]\n"
	"       jitctl request RESOURCE... --for DURATION --hosts NAME=VALUE[,...] [--reason "
	"TEXT]\n"
	"\n"
	"Ask for access to RESOURCE(s) for yourself (you are who the socket says you are).\n"
	"The policy's rules say who may request what, for how long at most, whether a reason\n"
	"is required and what it must look like, and how many approvals are needed. With no\n"
	"approvals needed the grant starts at once; otherwise the request is pending until\n"
	"approvers ('jitctl approve ID') agree; the grant's clock starts at the last approval.\n"
	"A pending request expires after 1 hour (jitd --pending-ttl).\n"
	"\n"
	"Prints the id alone on a line (with --json the grant object).\n"
	"\n"
	"Options:\n"
	"  --for DURATION     how long the access should last (" DURATION_FORMS ")\n"
	"  --reason TEXT      why (a ticket or incident); some rules require it\n"
	"  --wait             wait until the request is approved, denied or expires\n"
	"  --dry-run          only say what the request would do: granted, pending or\n"
	"                     refused (and why), under which rule, and who can approve it;\n"
	"                     nothing is requested or recorded\n"
	"  --break-glass      emergency access: granted at once without approval, for at most\n"
	"                     the rule's break_glass_max, with a reason always required;\n"
	"                     audited with severity High and unreviewed until an approver\n"
	"                     runs 'jitctl review ID'. Needs only jitd's socket (no network)\n"
	"  --hosts SELECTOR   fleet mode: one request for every host whose labels match\n"
	"                     (role=db,zone=eu); printed as fN; approve it with\n"
	"                     'jitctl approve fN' on any host\n" COMMON_HELP "\n"
	"Exit status: 0 granted, 5 pending (without --wait), 1 refused, denied or expired,\n"
	"2 usage error, 3 cannot reach jitd. With --dry-run: 0 would be granted or pending,\n"
	"1 would be refused.\n";

const char help_approve[] =
	"Usage: jitctl approve ID [--reason TEXT] [--json]\n"
	"\n"
	"Approve pending request ID (fN: fleet request N, from any host). Only the approvers named "
	"by the request's rule may, never\n"
	"the requester; N approvals means N different people. Prints the request's state.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      a note kept in the request's history\n" COMMON_HELP "\n"
	"Exit status: 0 approved, 1 refused, 2 usage error, 3 cannot reach jitd.\n";

const char help_deny[] =
	"Usage: jitctl deny ID --reason TEXT [--json]\n"
	"\n"
	"Deny pending request ID (approvers of its rule only). The reason is required.\n"
	"\n"
	"Options:\n"
	"  --reason TEXT      why (required)\n" COMMON_HELP "\n"
	"Exit status: 0 denied, 1 refused, 2 usage error, 3 cannot reach jitd.\n";

const char help_extend[] =
	"Usage: jitctl extend ID --for DURATION [--json]\n"
	"\n"
	"Add DURATION to active grant ID, never past its rule's maximum duration counted from\n"
	"its start (an extension beyond it stops at the maximum). Root and admins may extend\n"
	"any grant; approvers a request they may approve; the requester a grant whose rule\n"
	"needs no approval. Prints the new expiry.\n"
	"\n"
	"Options:\n"
	"  --for DURATION     how much longer (" DURATION_FORMS ")\n" COMMON_HELP "\n"
	"Exit status: 0 extended, 1 refused (for example already at the maximum), 2 usage\n"
	"error, 3 cannot reach jitd.\n";

const char help_show[] =
	"Usage: jitctl show ID [--json]\n"
	"\n"
	"Show grant or request ID with its whole history: who asked, who approved or denied,\n"
	"extended or revoked it, when and why.\n"
	"\n"
	"Options:\n" COMMON_HELP "\n"
	"Exit status: 0 shown, 1 no such grant, 2 usage error, 3 cannot reach jitd.\n";

const char help_exec[] =
	"Usage: jitctl exec RESOURCE... --for DURATION [--reason TEXT] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD with access to RESOURCE(s) for its process tree only: jitd puts this process\n"
	"into a new cgroup (a transient systemd scope when systemd runs, else a cgroup under\n"
	"/sys/fs/cgroup/jitd.exec), grants your user within that cgroup, and jitctl then\n"
	"becomes CMD. Your other processes stay denied. The grant ends when the last process\n"
	"of the tree exits or DURATION runs out, whichever comes first. Needs a rule that\n"
	"grants without approval (or root or an admin). Standard output is CMD's alone: the\n"
	"grant's status line goes to standard error (jitctl exec db -- pg_dump > dump.sql).\n"
	"\n"
	"Options:\n"
	"  --for DURATION     the longest the access lasts (" DURATION_FORMS ")\n"
	"  --reason TEXT      why\n" COMMON_HELP "\n"
	"Exit status: CMD's exit status; 1 refused, 2 usage error, 3 cannot reach jitd,\n"
	"127 CMD cannot be run.\n";

const char help_policy[] =
	"Usage: jitctl policy check FILE|DIR\n"
	"       jitctl policy apply FILE [--json]\n"
	"       jitctl policy show [--json]\n"
	"       jitctl policy explain USER RESOURCE... [--json]\n"
	"\n"
	"check: validate a policy file (or directory of *.json) here, without jitd; prints\n"
	"  FILE:LINE:COLUMN: what is wrong, and exits 1 when it is invalid.\n"
	"apply: (root, admins) push a policy file to jitd: validated, its serial must be\n"
	"  higher than the active one, then put in force as a whole or not at all. jitd keeps\n"
	"  it as STATE_DIR/policy.applied.json, which wins over --policy at restart while its\n"
	"  serial is higher. At most 4 MiB, as for policy files.\n"
	"show: print the policy in force (serial, source, resources, admins, rules, grants).\n"
	"explain: could USER reach RESOURCE(s), and how: exempt, admin, the grants USER\n"
	"  holds, each rule naming them (chosen, or why not: not a requester, does not cover\n"
	"  one, another preferred) and a one-line answer. Anyone may explain themselves;\n"
	"  another user: root and admins only.\n"
	"\n"
	"Options:\n" COMMON_HELP "\n"
	"Exit status: 0 success, 1 invalid or refused, 2 usage error, 3 cannot reach jitd.\n";

/* Parse "ID" and the verb's options (--for, --reason, --wait, common). */
struct args {
	const char *dur, *reason, *hosts;
	bool wait, dry_run, break_glass;
	int first; /* optind after parsing */
};

static int parse_args(struct ctl *c, int argc, char **argv, const char *verb, const char *help,
		      bool stop_at_dashdash, struct args *a)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"for", required_argument, NULL, OPT_FOR},
		{"reason", required_argument, NULL, OPT_REASON},
		{"wait", no_argument, NULL, OPT_WAIT},
		{"hosts", required_argument, NULL, OPT_HOSTS},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"break-glass", no_argument, NULL, OPT_BREAK_GLASS},
		{},
	};
	int opt, ret;

	memset(a, 0, sizeof(*a));
	while ((opt = getopt_long(argc, argv, stop_at_dashdash ? "+h" : "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return -1;
		case OPT_FOR:
			a->dur = optarg;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		case OPT_WAIT:
			a->wait = true;
			break;
		case OPT_HOSTS:
			a->hosts = optarg;
			break;
		case OPT_DRY_RUN:
			if (strcmp(verb, "request"))
				return usage_error(verb,
						   "--dry-run is an option of 'request' only");
			a->dry_run = true;
			break;
		case OPT_BREAK_GLASS:
			if (strcmp(verb, "request"))
				return usage_error(verb, "--break-glass is for 'jitctl request'");
			a->break_glass = true;
			break;
		case '?':
			try_help(verb);
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, verb);
			if (ret)
				return ret;
		}
	}
	a->first = optind;
	if (a->reason && strlen(a->reason) > GRANT_MAX_REASON)
		return usage_error(verb, "--reason: too long (%zu bytes, at most %d)",
				   strlen(a->reason), GRANT_MAX_REASON);
	return EXIT_OK;
}

static int parse_dur(const char *verb, const char *arg, int64_t *out)
{
	int r;

	if (!arg)
		return usage_error(verb, "missing --for DURATION");
	r = util_parse_duration(arg, out);
	if (r == -ERANGE)
		return usage_error(verb, "--for: duration '%s' out of range: 1s to 366d", arg);
	if (r)
		return usage_error(verb, "--for: invalid duration '%s': expected %s", arg,
				   DURATION_FORMS);
	return EXIT_OK;
}

/* ID: a local grant's number, or "fN" for fleet request N (*fleet set). */
static int parse_id(const char *verb, int argc, char **argv, int first, unsigned long long *id,
		    bool *fleet)
{
	if (first >= argc)
		return usage_error(verb, "missing ID");
	if (argc - first > 1)
		return usage_error(verb, "unexpected argument '%s'", argv[first + 1]);
	*fleet = fleet_id_arg(argv[first], id);
	if (!*fleet && parse_uint(argv[first], 1, INT64_MAX, id))
		return usage_error(verb,
				   "invalid ID '%s': expected a positive integer, or fN for a "
				   "fleet request",
				   argv[first]);
	return EXIT_OK;
}

/* {"op": op, "id" or "fleet_id": id}. */
static json_t *id_req(const char *op, unsigned long long id, bool fleet)
{
	return json_pack("{s:s,s:I}", "op", op, fleet ? "fleet_id" : "id", (json_int_t)id);
}

json_t *call_for_grant(struct ctl *c, const char *verb, json_t *req, json_t **reply, int *ret)
{
	json_t *g;

	*reply = NULL;
	if (!req) {
		fprintf(stderr, "jitctl: %s: out of memory or bad UTF-8\n", verb);
		*ret = EXIT_REFUSED;
		return NULL;
	}
	*ret = ctl_call(c, verb, req, reply);
	json_decref(req);
	if (*ret)
		return NULL;
	g = reply_grant(c, *reply);
	if (!g) {
		json_decref(*reply);
		*reply = NULL;
		*ret = EXIT_UNREACHABLE;
	}
	return g;
}

/* The grant of the reply, printed to out (as JSON, its id, or a status line). */
static int call_grant(struct ctl *c, const char *verb, json_t *req, bool print_id, char *state,
		      size_t len, FILE *out)
{
	char subject[SUBJECT_MAX];
	json_t *reply, *g;
	int ret;

	g = call_for_grant(c, verb, req, &reply, &ret);
	if (!g)
		return ret;
	if (state)
		snprintf(state, len, "%s", grant_str(g, "state", "?"));
	if (c->json) {
		ret = print_json(g);
	} else if (print_id) {
		fprintf(out, "%" JSON_INTEGER_FORMAT "\n", grant_id(g));
	} else {
		char what[256];

		snprintf(what, sizeof(what), "%s", grant_str(g, "state", "?"));
		fprintf(out, "%s %" JSON_INTEGER_FORMAT ": %s, %s", verb, grant_id(g),
			sanitize(what),
			format_subject(json_object_get(g, "subject"), subject, sizeof(subject)));
		if (json_is_object(json_object_get(g, "approvals")))
			fprintf(out,
				", %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " approvals",
				json_integer_value(
					json_object_get(json_object_get(g, "approvals"), "given")),
				json_integer_value(json_object_get(json_object_get(g, "approvals"),
								   "needed")));
		if (json_object_get(g, "expires") && !strcmp(what, "active")) {
			snprintf(what, sizeof(what), "%s", grant_str(g, "expires", "?"));
			fprintf(out, ", expires %s", sanitize(what));
		}
		fputc('\n', out);
	}
	json_decref(reply);
	return ret;
}

/* Build {"op":op,"resources":[argv[first..]]...}; NULL when a name is not UTF-8. */
static json_t *resources_req(const char *op, int argc, char **argv, int first, int last)
{
	json_t *req = json_pack("{s:s,s:[]}", "op", op, "resources"), *arr;

	if (!req)
		return NULL;
	arr = json_object_get(req, "resources");
	for (int i = first; i < last; i++)
		if (json_array_append_new(arr, json_string(argv[i]))) {
			json_decref(req);
			return NULL;
		}
	return req;
}

/*
 * The request of `request` and `exec`: RESOURCE... (argv[first..end)), --for and
 * --reason. Returns EXIT_OK with *out set (NULL when it could not be built; call_for_grant
 * says so), or a usage error.
 */
static int access_req(const char *verb, char **argv, int first, int end, const struct args *a,
		      json_t **out)
{
	int64_t dur;
	json_t *req;
	int ret = parse_dur(verb, a->dur, &dur);

	*out = NULL;
	if (ret)
		return ret;
	req = resources_req(verb, end, argv, first, end);
	if (req && json_object_set_new(req, "duration_s", json_integer(dur))) {
		json_decref(req);
		return EXIT_OK;
	}
	if (req && a->reason && json_object_set_new(req, "reason", json_string(a->reason))) {
		json_decref(req);
		return usage_error(verb, "--reason: not valid UTF-8");
	}
	if (req && a->break_glass)
		json_object_set_new(req, "break_glass", json_true());
	*out = req;
	return EXIT_OK;
}

/* request --hosts SELECTOR: one fleet request (req consumed). */
static int fleet_request(struct ctl *c, json_t *req, const struct args *a)
{
	json_t *sel = fleet_selector_arg(a->hosts);
	char state[32] = "";
	int ret;

	if (!sel || !req) {
		json_decref(req);
		json_decref(sel);
		return usage_error("request", "--hosts: expected NAME=VALUE[,NAME=VALUE...]");
	}
	if (a->wait) {
		json_decref(req);
		json_decref(sel);
		return usage_error("request", "--wait is for local requests; follow a fleet "
					      "request with 'jitctl show fN'");
	}
	json_object_set_new(req, "hosts", sel);
	ret = fleet_call(c, "request", req, state, sizeof(state));
	if (ret)
		return ret;
	return !strcmp(state, "pending")  ? EXIT_PENDING
	       : !strcmp(state, "active") ? EXIT_OK
					  : EXIT_REFUSED;
}

int cmd_request(struct ctl *c, int argc, char **argv)
{
	char state[32] = "", idbuf[32];
	unsigned long long id;
	json_t *req, *reply, *g;
	struct args a;
	bool json;
	int ret;

	ret = parse_args(c, argc, argv, "request", help_request, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (a.first >= argc)
		return usage_error("request", "missing RESOURCE");
	if (a.break_glass && a.hosts)
		return usage_error("request", "--break-glass is local to this host: no --hosts");
	ret = access_req("request", argv, a.first, argc, &a, &req);
	if (ret)
		return ret;
	if (a.dry_run && (a.hosts || a.wait)) {
		json_decref(req);
		return usage_error("request", "--dry-run is for local requests, without --wait");
	}
	if (a.dry_run && a.break_glass) {
		json_decref(req);
		return usage_error("request", "--dry-run cannot be combined with --break-glass");
	}
	if (a.dry_run)
		return request_dry_run(c, req);
	if (a.hosts)
		return fleet_request(c, req, &a);
	/* print the id ourselves: --wait needs it */
	json = c->json;
	g = call_for_grant(c, "request", req, &reply, &ret);
	if (!g)
		return ret;
	id = grant_id(g);
	snprintf(state, sizeof(state), "%s", grant_str(g, "state", "?"));
	if (json && !a.wait)
		print_json(g);
	else if (!json)
		printf("%llu\n", id);
	fflush(stdout); /* the id before any message on stderr */
	json_decref(reply);
	if (!strcmp(state, "pending") && !json)
		fprintf(stderr, "jitctl: request %llu is pending approval\n", id);
	if (strcmp(state, "pending"))
		return EXIT_OK;
	if (!a.wait)
		return EXIT_PENDING;
	snprintf(idbuf, sizeof(idbuf), "%llu", id);
	for (;;) {
		sleep(WAIT_POLL_S);
		req = json_pack("{s:s,s:I}", "op", "show", "id", (json_int_t)id);
		ret = ctl_call(c, "request", req, &reply);
		json_decref(req);
		if (ret)
			return ret;
		g = reply_grant(c, reply);
		snprintf(state, sizeof(state), "%s", g ? grant_str(g, "state", "?") : "?");
		if (strcmp(state, "pending")) {
			if (json)
				print_json(g);
			else
				fprintf(stderr, "jitctl: request %s is %s\n", idbuf, state);
			json_decref(reply);
			return !strcmp(state, "active") || !strcmp(state, "scheduled")
				       ? EXIT_OK
				       : EXIT_REFUSED;
		}
		json_decref(reply);
	}
}

static int decide(struct ctl *c, int argc, char **argv, const char *verb, const char *help)
{
	unsigned long long id;
	struct args a;
	json_t *req;
	bool fleet;
	int ret;

	ret = parse_args(c, argc, argv, verb, help, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = parse_id(verb, argc, argv, a.first, &id, &fleet);
	if (ret)
		return ret;
	if (!strcmp(verb, "deny") && (!a.reason || !*a.reason))
		return usage_error(verb, "missing --reason TEXT (a denial needs a reason)");
	req = id_req(verb, id, fleet);
	if (req && a.reason && json_object_set_new(req, "reason", json_string(a.reason))) {
		json_decref(req);
		return usage_error(verb, "--reason: not valid UTF-8");
	}
	if (fleet)
		return fleet_call(c, verb, req, NULL, 0);
	return call_grant(c, verb, req, false, NULL, 0, stdout);
}

int cmd_approve(struct ctl *c, int argc, char **argv)
{
	return decide(c, argc, argv, "approve", help_approve);
}

int cmd_deny(struct ctl *c, int argc, char **argv)
{
	return decide(c, argc, argv, "deny", help_deny);
}

int cmd_extend(struct ctl *c, int argc, char **argv)
{
	unsigned long long id;
	struct args a;
	int64_t dur;
	json_t *req;
	bool fleet;
	int ret;

	ret = parse_args(c, argc, argv, "extend", help_extend, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = parse_id("extend", argc, argv, a.first, &id, &fleet);
	if (!ret)
		ret = parse_dur("extend", a.dur, &dur);
	if (ret)
		return ret;
	req = id_req("extend", id, fleet);
	if (req)
		json_object_set_new(req, "duration_s", json_integer(dur));
	if (fleet)
		return fleet_call(c, "extend", req, NULL, 0);
	return call_grant(c, "extend", req, false, NULL, 0, stdout);
}

/* The "review:" line of a break-glass grant: its state, and who reviewed it why. */
static void show_review(const json_t *rv)
{
	char buf[1200];
	const char *user = grant_str(rv, "user", NULL);

	snprintf(buf, sizeof(buf), "break-glass, %s", grant_str(rv, "state", "?"));
	if (json_is_integer(json_object_get(rv, "uid")))
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 " by %s%s%" JSON_INTEGER_FORMAT "%s%s%s", user ?: "",
			 user ? " (uid " : "uid ", json_integer_value(json_object_get(rv, "uid")),
			 user ? ")" : "", json_object_get(rv, "reason") ? ": " : "",
			 grant_str(rv, "reason", ""));
	printf("%-10s %s\n", "review:", sanitize(buf));
}

/* show's usage lines: uses, first and last use, the idle limit. */
static void show_usage(const json_t *g)
{
	json_t *e = json_object_get(g, "usage");
	char buf[1200];

	if (json_is_object(e)) {
		printf("%-10s %" JSON_INTEGER_FORMAT "%s\n",
		       "uses:", json_integer_value(json_object_get(e, "uses")),
		       json_integer_value(json_object_get(e, "uses")) ? "" : " (never used)");
		for (int i = 0; i < 2; i++) {
			const char *k = i ? "last_use" : "first_use";

			if (!json_is_string(json_object_get(e, k)))
				continue;
			format_when(grant_str(e, k, ""), buf, sizeof(buf));
			printf("%-10s %s\n", i ? "last use:" : "first use:", sanitize(buf));
		}
	}
	if (json_is_integer(json_object_get(g, "max_idle_s"))) {
		util_format_duration(json_integer_value(json_object_get(g, "max_idle_s")), buf,
				     sizeof(buf));
		printf("%-10s %s\n", "max idle:", buf);
	}
	if (!json_is_string(json_object_get(g, "clock")))
		return;
	if (json_is_string(json_object_get(g, "first_use_by"))) {
		format_when(grant_str(g, "first_use_by", ""), buf, sizeof(buf));
		printf("%-10s from first use (unused: the clock has not started), first use by "
		       "%s\n",
		       "clock:", sanitize(buf));
	} else {
		printf("%-10s from first use\n", "clock:");
	}
}

int cmd_show(struct ctl *c, int argc, char **argv)
{
	json_t *req, *reply = NULL, *g, *h, *e;
	char subject[SUBJECT_MAX], buf[1200];
	unsigned long long id;
	struct args a;
	bool fleet;
	size_t i;
	int ret;

	ret = parse_args(c, argc, argv, "show", help_show, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = parse_id("show", argc, argv, a.first, &id, &fleet);
	if (ret)
		return ret;
	if (fleet)
		return fleet_call(c, "show", id_req("show", id, true), NULL, 0);
	req = json_pack("{s:s,s:I}", "op", "show", "id", (json_int_t)id);
	ret = ctl_call(c, "show", req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	g = reply_grant(c, reply);
	if (!g) {
		json_decref(reply);
		return EXIT_UNREACHABLE;
	}
	if (c->json) {
		ret = print_json(g);
		json_decref(reply);
		return ret;
	}
	static const char *const keys[] = {"state",	    "kind",   "resource",
					   "created",	    "starts", "expires",
					   "pending_until", "reason", NULL};

	printf("%-10s %" JSON_INTEGER_FORMAT "\n", "id:", grant_id(g));
	for (i = 0; keys[i]; i++) {
		if (!json_is_string(json_object_get(g, keys[i])))
			continue;
		char label[24];

		snprintf(label, sizeof(label), "%s:", keys[i][0] == 'p' ? "pending" : keys[i]);
		format_when(grant_str(g, keys[i], ""), buf, sizeof(buf));
		printf("%-10s %s\n", label, sanitize(buf));
	}
	printf("%-10s %s\n",
	       "subject:", format_subject(json_object_get(g, "subject"), subject, sizeof(subject)));
	if (json_is_string(json_object_get(g, "unit"))) {
		snprintf(buf, sizeof(buf), "%s%s", grant_str(g, "unit", ""),
			 json_is_true(json_object_get(g, "until_unit_stops"))
				 ? " (the grant ends when it stops)"
				 : "");
		printf("%-10s %s\n", "unit:", sanitize(buf));
	}
	if (json_is_true(json_object_get(g, "break_glass")))
		show_review(json_object_get(g, "review"));
	show_usage(g);
	h = json_object_get(g, "history");
	printf("history:\n");
	json_array_foreach(h, i, e) {
		const char *user = json_string_value(json_object_get(e, "user"));

		snprintf(buf, sizeof(buf), "  %s  %-20s by %s%s%" JSON_INTEGER_FORMAT "%s%s%s",
			 grant_str(e, "at", "?"), grant_str(e, "event", "?"), user ?: "",
			 user ? " (uid " : "uid ", json_integer_value(json_object_get(e, "uid")),
			 user ? ")" : "", json_object_get(e, "reason") ? ": " : "",
			 grant_str(e, "reason", ""));
		printf("%s\n", sanitize(buf));
	}
	json_decref(reply);
	return EXIT_OK;
}

int cmd_exec(struct ctl *c, int argc, char **argv)
{
	int dd = -1, ret;
	struct args a;
	json_t *req;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dd = i;
			break;
		}
	ret = parse_args(c, dd < 0 ? argc : dd, argv, "exec", help_exec, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (dd < 0)
		return usage_error("exec", "missing '-- CMD [ARGS...]'");
	if (a.first >= dd)
		return usage_error("exec", "missing RESOURCE");
	if (dd + 1 >= argc)
		return usage_error("exec", "missing CMD after '--'");
	ret = access_req("exec", argv, a.first, dd, &a, &req);
	if (ret)
		return ret;
	/* the command's standard output is its own (jitctl exec db -- pg_dump > dump.sql) */
	c->json = false;
	ret = call_grant(c, "exec", req, false, NULL, 0, stderr);
	if (ret)
		return ret;
	fflush(stdout);
	execvp(argv[dd + 1], argv + dd + 1);
	fprintf(stderr, "jitctl: exec: cannot run '%s': %s\n", argv[dd + 1], strerror(errno));
	return 127;
}

/* Print j (taken over) as JSON. */
static void print_json_new(json_t *j)
{
	if (j)
		print_json(j);
	json_decref(j);
}

/* `jitctl policy show`: the policy in force as JSON. */
static int policy_show(struct ctl *c, int argc, char **argv, int first)
{
	json_t *req, *reply = NULL;
	int ret;

	if (argc - first > 1)
		return usage_error("policy", "unexpected argument '%s'", argv[first + 1]);
	req = json_pack("{s:s}", "op", "policy_show");
	ret = ctl_call(c, "policy show", req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	json_object_del(reply, "ok");
	ret = print_json(reply);
	json_decref(reply);
	return ret;
}

int cmd_policy(struct ctl *c, int argc, char **argv)
{
	struct policy *p = NULL;
	json_t *req, *reply = NULL;
	char err[2048], *text = NULL;
	const char *sub;
	struct args a;
	size_t len;
	int ret;

	ret = parse_args(c, argc, argv, "policy", help_policy, false, &a);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (a.first >= argc)
		return usage_error("policy", "missing check, apply, show or explain");
	sub = argv[a.first];
	if (!strcmp(sub, "explain"))
		return policy_explain(c, argc, argv, a.first + 1);
	if (!strcmp(sub, "show"))
		return policy_show(c, argc, argv, a.first);
	if (strcmp(sub, "check") && strcmp(sub, "apply"))
		return usage_error("policy",
				   "unknown subcommand '%s' (check, apply, show or explain)", sub);
	if (argc - a.first != 2)
		return usage_error("policy", "%s needs exactly one FILE", sub);
	if (policy_load(argv[a.first + 1], &p, err, sizeof(err))) {
		if (c->json && !strcmp(sub, "check"))
			print_json_new(json_pack("{s:s,s:b,s:s}", "file", argv[a.first + 1],
						 "valid", 0, "error", err));
		else
			fprintf(stderr, "%s\n", err);
		return EXIT_REFUSED;
	}
	if (!strcmp(sub, "check")) {
		if (c->json)
			print_json_new(json_pack(
				"{s:s,s:b,s:I,s:I,s:I,s:I}", "file", argv[a.first + 1], "valid", 1,
				"serial", (json_int_t)p->serial, "resources",
				(json_int_t)p->n_resources, "rules", (json_int_t)p->n_rules,
				"grants", (json_int_t)p->n_grants));
		else
			printf("%s: valid (serial %lld, %zu resources, %zu rules, %zu grants)\n",
			       argv[a.first + 1], (long long)p->serial, p->n_resources, p->n_rules,
			       p->n_grants);
		policy_free(p);
		return EXIT_OK;
	}
	policy_free(p);
	ret = util_read_file(argv[a.first + 1], POLICY_MAX_FILE_SIZE, &text, &len);
	if (ret == -EFBIG || ret == -EISDIR)
		return usage_error("policy", "apply takes one file of at most %u MiB",
				   POLICY_MAX_FILE_SIZE >> 20);
	if (ret) {
		fprintf(stderr, "jitctl: policy: %s: %s\n", argv[a.first + 1], strerror(-ret));
		return EXIT_REFUSED;
	}
	req = json_pack("{s:s,s:s%}", "op", "policy_apply", "text", text, len);
	free(text);
	if (!req) {
		fprintf(stderr, "jitctl: policy: the file is not valid UTF-8\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "policy apply", req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	if (c->json)
		print_json(reply);
	else
		printf("applied serial %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(reply, "serial")));
	json_decref(reply);
	return EXIT_OK;
}
