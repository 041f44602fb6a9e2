// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitctl: what a request would do and why. `request --dry-run` (the reply of a request
 * with "dry_run": nothing changes), `approvers` (the rule and who can approve) and `policy
 * explain` (could a user reach resources, and how). Same conventions as jitctl.c.
 */
#include <stdio.h>
#include <string.h>

#include "jitctl.h"

const char help_approvers[] =
	"Usage: jitctl approvers RESOURCE... [--user NAME] [--json]\n"
	"\n"
	"Which rule a request of yours for RESOURCE(s) falls under (the one 'jitctl request'\n"
	"would choose), how many approvals it needs, and who can give them: the rule's\n"
	"approver principals and the users they name here (group members, and users whose\n"
	"primary group it is; you left out; at most 256, the first by name).\n"
	"\n"
	"Options:\n"
	"  --user NAME        ask for user NAME (root and admins only; others ask for\n"
	"                     themselves)\n" COMMON_HELP "\n"
	"Exit status: 0 shown, 1 no rule lets the user request them (or refused), 2 usage\n"
	"error, 3 cannot reach jitd.\n";

/* Print s with control characters as '?', without changing it. */
static void put(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "?";
}

static json_int_t jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Print the strings of array arr joined by ", ", or none when empty. */
static void put_list(const json_t *arr, const char *none)
{
	size_t i;
	json_t *v;

	if (!json_array_size(arr))
		put(none);
	json_array_foreach(arr, i, v) {
		if (i)
			fputs(", ", stdout);
		put(json_string_value(v));
	}
}

/* "rule 0 (secrets): 1 approval from group:sre, at most 1h" (no newline). */
static void put_rule(const json_t *rule, const json_t *approvers)
{
	char d[32];

	printf("rule %" JSON_INTEGER_FORMAT " (", jint(rule, "index"));
	put_list(json_object_get(rule, "resources"), "");
	if (jint(rule, "approvals")) {
		printf("): %" JSON_INTEGER_FORMAT " approval%s from ", jint(rule, "approvals"),
		       jint(rule, "approvals") == 1 ? "" : "s");
		put_list(json_object_get(approvers, "principals"), "nobody");
	} else {
		fputs("): no approval needed", stdout);
	}
	printf(", at most %s", util_format_duration(jint(rule, "max_duration_s"), d, sizeof(d)));
	if (json_object_get(rule, "reason_pattern")) {
		fputs(", a reason matching ", stdout);
		put(jstr(rule, "reason_pattern"));
	} else if (!strcmp(jstr(rule, "reason"), "required")) {
		fputs(", a reason required", stdout);
	}
}

/* "approvers: carol (1003), dave (1004)" */
static void put_users(const json_t *approvers)
{
	const json_t *users = json_object_get(approvers, "users");
	size_t i;
	json_t *v;

	fputs("approvers: ", stdout);
	if (!json_array_size(users))
		fputs("none (the rule's approvers name nobody else here)", stdout);
	json_array_foreach(users, i, v) {
		printf("%s", i ? ", " : "");
		put(jstr(v, "user"));
		printf(" (%" JSON_INTEGER_FORMAT ")", jint(v, "uid"));
	}
	putchar('\n');
}

int request_dry_run(struct ctl *c, json_t *req)
{
	json_t *reply = NULL, *rule;
	const char *would;
	int ret;

	if (!req || json_object_set_new(req, "dry_run", json_true())) {
		json_decref(req);
		fprintf(stderr, "jitctl: request: out of memory or bad UTF-8\n");
		return EXIT_REFUSED;
	}
	ret = ctl_call(c, "request", req, &reply);
	json_decref(req);
	if (ret)
		return ret;
	would = jstr(reply, "would");
	rule = json_object_get(reply, "rule");
	if (c->json) {
		print_json(reply);
	} else {
		printf("would be %s", would);
		if (json_object_get(reply, "error")) {
			fputs(": ", stdout);
			put(jstr(reply, "error"));
		}
		putchar('\n');
		if (rule) {
			put_rule(rule, json_object_get(reply, "approvers"));
			printf("\nduration: %s\nreason: %s\n",
			       json_is_true(json_object_get(reply, "duration_ok")) ? "ok"
										   : "refused",
			       json_is_true(json_object_get(reply, "reason_ok")) ? "ok"
										 : "refused");
			if (jint(rule, "approvals"))
				put_users(json_object_get(reply, "approvers"));
		}
		puts("(dry run: nothing was requested)");
	}
	ret = !strcmp(would, "active") || !strcmp(would, "pending") ? EXIT_OK : EXIT_REFUSED;
	json_decref(reply);
	return ret;
}

/* Parse RESOURCE... into req's "resources"; a usage error when there is none or one is
 * not UTF-8. */
static int add_resources(const char *verb, json_t *req, int argc, char **argv, int first)
{
	json_t *arr = json_array();

	if (first >= argc) {
		json_decref(arr);
		return usage_error(verb, "missing RESOURCE");
	}
	for (int i = first; i < argc; i++)
		if (json_array_append_new(arr, json_string(argv[i]))) {
			json_decref(arr);
			return usage_error(verb, "RESOURCE '%s' is not valid UTF-8", argv[i]);
		}
	json_object_set_new(req, "resources", arr);
	return EXIT_OK;
}

/* Send req (consumed) and print the reply as JSON (without "ok") or with show. */
static int call_print(struct ctl *c, const char *verb, json_t *req,
		      void (*show)(const json_t *reply))
{
	json_t *reply = NULL;
	int ret = ctl_call(c, verb, req, &reply);

	json_decref(req);
	if (ret)
		return ret;
	json_object_del(reply, "ok");
	if (c->json)
		ret = print_json(reply);
	else
		show(reply);
	json_decref(reply);
	return ret;
}

static void show_approvers(const json_t *r)
{
	put(jstr(r, "user"));
	printf(" (uid %" JSON_INTEGER_FORMAT "): ", jint(r, "uid"));
	put_rule(json_object_get(r, "rule"), json_object_get(r, "approvers"));
	putchar('\n');
	if (jint(json_object_get(r, "rule"), "approvals"))
		put_users(json_object_get(r, "approvers"));
}

int cmd_approvers(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTIONS,
		{"user", required_argument, NULL, OPT_USER},
		{},
	};
	json_t *req = json_pack("{s:s}", "op", "approvers");
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help_approvers, stdout);
			json_decref(req);
			return EXIT_OK;
		case OPT_USER:
			ret = req_set_str(req, "user", optarg)
				      ? usage_error("approvers", "--user: not valid UTF-8")
				      : EXIT_OK;
			break;
		case '?':
			try_help("approvers");
			ret = EXIT_USAGE;
			break;
		default:
			ret = common_option(c, opt, optarg, "approvers");
		}
		if (ret) {
			json_decref(req);
			return ret;
		}
	}
	ret = add_resources("approvers", req, argc, argv, optind);
	if (ret) {
		json_decref(req);
		return ret;
	}
	return call_print(c, "approvers", req, show_approvers);
}

static void show_explain(const json_t *r)
{
	const json_t *x = json_object_get(r, "explain"), *holds = json_object_get(x, "holds");
	size_t i;
	json_t *v;

	put(jstr(x, "user"));
	printf(" (uid %" JSON_INTEGER_FORMAT "): ", jint(x, "uid"));
	put(jstr(x, "answer"));
	printf("\nexempt: %s, admin: %s, holds: %s",
	       json_is_true(json_object_get(x, "exempt")) ? "yes" : "no",
	       json_is_true(json_object_get(x, "admin")) ? "yes" : "no",
	       json_array_size(holds) ? "" : "no grant");
	json_array_foreach(holds, i, v) {
		printf("%s%" JSON_INTEGER_FORMAT, i ? ", " : "grant ", json_integer_value(v));
	}
	putchar('\n');
	json_array_foreach(json_object_get(x, "rules"), i, v) {
		json_t *ap = json_pack("{s:O?}", "principals", json_object_get(v, "approvers"));

		put_rule(v, ap);
		json_decref(ap);
		if (json_is_true(json_object_get(v, "chosen"))) {
			puts(": chosen");
		} else {
			fputs(": not chosen: ", stdout);
			put(jstr(v, "why_not"));
			putchar('\n');
		}
	}
	if (!json_array_size(json_object_get(x, "rules")))
		puts("no rule names these resources");
}

int policy_explain(struct ctl *c, int argc, char **argv, int first)
{
	json_t *req = json_pack("{s:s}", "op", "policy_explain");
	int ret;

	if (first >= argc) {
		json_decref(req);
		return usage_error("policy", "explain needs USER and RESOURCE...");
	}
	if (req_set_str(req, "user", argv[first])) {
		json_decref(req);
		return usage_error("policy", "USER '%s' is not valid UTF-8", argv[first]);
	}
	ret = add_resources("policy", req, argc, argv, first + 1);
	if (ret) {
		json_decref(req);
		return ret;
	}
	return call_print(c, "policy explain", req, show_explain);
}
