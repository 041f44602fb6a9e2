// SPDX-License-Identifier: GPL-2.0-only
/* jitctl report: who held what, for how long, how often used (docs/protocol.md, report). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"
#include "util.h"

const char help_report[] =
	"Usage: jitctl report [--since 30d|TIME] [--unused] [--json]\n"
	"\n"
	"For access reviews: the grants held at some time since then (default 30 days),\n"
	"each with how long it was held, how often the kernel allowed an access by it\n"
	"(USES), its last use, and NEVER USED for a grant no access ever used; then a\n"
	"sum per subject. Ended grants come from jitd's store, which keeps the last 1000:\n"
	"the report says when older ones inside the window may be missing. With --json\n"
	"prints the report object. Every user may ask.\n"
	"\n"
	"Options:\n"
	"  --since D|TIME     from D ago (" DURATION_FORMS ")\n"
	"                     or an RFC 3339 time such as 2026-11-01T00:00:00Z\n"
	"  --unused           only the grants never used\n" COMMON_HELP "\n"
	"Examples:\n"
	"  jitctl report --since 90d --unused\n"
	"  jitctl report --json | jq '.by_subject'\n"
	"\n"
	"Exit status: 0 reported, 1 refused by jitd, 2 usage error, 3 cannot reach jitd.\n";

/* One grant's line of the text report. */
static void report_row(const json_t *g)
{
	char subject[SUBJECT_MAX], held[64], line[SUBJECT_MAX + 512];
	json_t *res = json_object_get(g, "resources"), *v;
	char resources[1200] = "";
	size_t i;

	json_array_foreach(res, i, v) {
		if (i)
			strncat(resources, ",", sizeof(resources) - strlen(resources) - 1);
		strncat(resources, json_string_value(v) ?: "?",
			sizeof(resources) - strlen(resources) - 1);
	}
	util_format_duration(json_integer_value(json_object_get(g, "held_s")), held, sizeof(held));
	snprintf(line, sizeof(line),
		 "%-5" JSON_INTEGER_FORMAT " %-16s %-20s %-8s %-8s %5" JSON_INTEGER_FORMAT "  %s",
		 grant_id(g), resources,
		 format_subject(json_object_get(g, "subject"), subject, sizeof(subject)),
		 grant_str(g, "state", "?"), held, json_integer_value(json_object_get(g, "uses")),
		 json_is_true(json_object_get(g, "never_used")) ? "NEVER USED"
								: grant_str(g, "last_use", "-"));
	printf("%s\n", sanitize(line));
}

static void report_print(const json_t *rep)
{
	json_t *grants = json_object_get(rep, "grants"), *g;
	size_t i;

	printf("since %s until %s\n", grant_str(rep, "since", "?"), grant_str(rep, "until", "?"));
	if (json_is_false(json_object_get(rep, "complete")))
		printf("incomplete: ended grants before %s were dropped from jitd's store\n",
		       grant_str(rep, "oldest_kept", "?"));
	if (!json_array_size(grants)) {
		printf("no grants held in that time\n");
		return;
	}
	printf("%-5s %-16s %-20s %-8s %-8s %5s  %s\n", "ID", "RESOURCES", "SUBJECT", "STATE",
	       "HELD", "USES", "LAST USE");
	json_array_foreach(grants, i, g)
		report_row(g);
}

int cmd_report(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"since", required_argument, NULL, OPT_SINCE},
		{"unused", no_argument, NULL, OPT_UNUSED},
		{},
	};
	const char *since = "30d";
	json_t *req, *reply = NULL, *rep;
	bool unused = false;
	int64_t v;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_report, stdout);
			return EXIT_OK;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_UNUSED:
			unused = true;
			break;
		case '?':
			try_help("report");
			return EXIT_USAGE;
		default:
			ret = common_option(c, opt, optarg, "report");
			if (ret)
				return ret;
		}
	}
	if (optind < argc)
		return usage_error("report", "unexpected argument '%s'", argv[optind]);
	if ((util_parse_duration(since, &v) || v <= 0) && util_parse_time(since, &v))
		return usage_error("report",
				   "--since '%s': give a duration (30d, 12h) or an RFC 3339 time",
				   since);
	req = json_pack("{s:s,s:s,s:b}", "op", "report", "since", since, "unused", unused);
	if (!req) {
		fprintf(stderr, "jitctl: report: out of memory\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "report", req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	rep = json_object_get(reply, "report");
	if (!json_is_object(rep)) {
		ret = bad_reply(c, "no 'report' object");
	} else if (c->json) {
		ret = print_json(rep);
	} else {
		report_print(rep);
		ret = EXIT_OK;
	}
	json_decref(reply);
	return ret;
}
