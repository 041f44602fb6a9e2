// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl review: the review of a break-glass grant (request --break-glass) by one of its
 * rule's approvers, root or an admin, never its requester. `jitctl list --unreviewed` is
 * the backlog. Same conventions as jitctl.c: one request per exchange, errors printed once
 * where handled, exit codes from jitctl.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

const char help_review[] =
	"Usage: jitctl review ID (--approve | --flag) [--reason TEXT] [--revoke] [--json]\n"
	"\n"
	"Review break-glass grant ID ('jitctl request --break-glass'; the backlog, whatever\n"
	"the grants' state, is 'jitctl list --unreviewed'). The approvers of its rule, root\n"
	"and admins may review it, never the user who broke the glass; each grant is\n"
	"reviewed once. --approve accepts it; --flag marks it as misuse (a reason is\n"
	"required) and with --revoke also ends it now if it is still active. Both write a\n"
	"'reviewed' audit record (severity Medium when flagged).\n"
	"\n"
	"Options:\n"
	"  --approve          the break-glass was justified\n"
	"  --flag             it was not: kept as flagged in the grant and the audit\n"
	"  --reason TEXT      why (required with --flag)\n"
	"  --revoke           with --flag: revoke the grant if it is still active\n" COMMON_HELP
	"\n"
	"Exit status: 0 reviewed, 1 refused (not a reviewer, reviewed already, not a\n"
	"break-glass grant), 2 usage error, 3 cannot reach jitd.\n";

struct review_args {
	const char *reason;
	int verdict; /* 0 none, OPT_APPROVE, OPT_FLAG */
	bool revoke;
};

/* The options of review; the index of ID in *first. EXIT_OK, a usage error, or -1 after
 * --help. */
static int review_options(struct ctl *c, int argc, char **argv, struct review_args *a, int *first)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"approve", no_argument, NULL, OPT_APPROVE},
		{"flag", no_argument, NULL, OPT_FLAG},
		{"reason", required_argument, NULL, OPT_REASON},
		{"revoke", no_argument, NULL, OPT_REVOKE},
		{},
	};
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_review, stdout);
			return -1;
		case OPT_APPROVE:
		case OPT_FLAG:
			if (a->verdict && a->verdict != opt)
				return usage_error("review", "give --approve or --flag, not both");
			a->verdict = opt;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		case OPT_REVOKE:
			a->revoke = true;
			break;
		case '?':
			try_help("review");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "review");
			if (ret)
				return ret;
		}
	}
	*first = optind;
	if (!a->verdict)
		return usage_error("review", "missing --approve or --flag");
	if (a->verdict == OPT_FLAG && (!a->reason || !*a->reason))
		return usage_error("review", "--flag needs --reason TEXT");
	if (a->revoke && a->verdict != OPT_FLAG)
		return usage_error("review", "--revoke goes with --flag");
	if (a->reason && strlen(a->reason) > GRANT_MAX_REASON)
		return usage_error("review", "--reason: too long (%zu bytes, at most %d)",
				   strlen(a->reason), GRANT_MAX_REASON);
	return EXIT_OK;
}

int cmd_review(struct ctl *c, int argc, char **argv)
{
	struct review_args a = {0};
	unsigned long long id;
	json_t *req, *reply = NULL, *g;
	char state[32], review[32];
	int first = 0, ret;

	ret = review_options(c, argc, argv, &a, &first);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (first >= argc)
		return usage_error("review", "missing ID");
	if (argc - first > 1)
		return usage_error("review", "unexpected argument '%s'", argv[first + 1]);
	if (parse_uint(argv[first], 1, INT64_MAX, &id))
		return usage_error("review", "invalid ID '%s': expected a positive integer",
				   argv[first]);
	req = json_pack("{s:s,s:I,s:s,s:b}", "op", "review", "id", (json_int_t)id, "verdict",
			a.verdict == OPT_FLAG ? "flag" : "approve", "revoke", a.revoke);
	if (req && a.reason && req_set_str(req, "reason", a.reason)) {
		json_decref(req);
		return usage_error("review", "--reason: not valid UTF-8");
	}
	g = call_for_grant(c, "review", req, &reply, &ret);
	if (!g)
		return ret;
	if (c->json) {
		ret = print_json(g);
	} else {
		snprintf(state, sizeof(state), "%s", grant_str(g, "state", "?"));
		snprintf(review, sizeof(review), "%s",
			 grant_str(json_object_get(g, "review"), "state", "?"));
		printf("review %llu: %s, grant %s\n", id, sanitize(review), sanitize(state));
	}
	json_decref(reply);
	return ret;
}
