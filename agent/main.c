// SPDX-License-Identifier: GPL-2.0-only
/*
 * jitd: keeps the kernel's grant maps in step with the policy and the grants,
 * expires grants on timers, serves the control socket and writes the audit
 * stream. Runs in the foreground until SIGTERM; enforcement stays after it exits.
 * This file reads the arguments; the core (core.c) does the rest.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "pqdl.h"
#include "util.h"

static const char usage_text[] =
	"Usage: jitd --policy FILE|DIR [--socket PATH] [--state-dir DIR] [--audit-file PATH|-]\n"
	"       jitd --unload\n"
	"\n"
	"The jitd agent: loads the BPF LSM programs that deny protected exec, open and\n"
	"connect unless a time-bound grant allows them, keeps the kernel maps in step with\n"
	"the policy and the grants, expires grants, serves the control socket used by\n"
	"jitctl and writes one JSON audit line per decision. Runs in the foreground until\n"
	"SIGTERM; SIGHUP reloads the policy and reopens the audit file.\n"
	"\n"
	"Stopping jitd leaves enforcement in place (fail closed): the programs and maps stay\n"
	"pinned under " JITD_PIN_DIR " and grants still expire in the kernel. A restarted\n"
	"jitd adopts them (programs of the same build are not even reloaded). 'jitd --unload'\n"
	"removes enforcement deliberately.\n"
	"\n"
	"Options:\n"
	"  -p, --policy FILE|DIR   policy file, or directory of *.json files (required)\n"
	"  -s, --socket PATH       control socket (default " JITD_DEFAULT_SOCKET ")\n"
	"  -d, --state-dir DIR     where grants are kept (default " JITD_DEFAULT_STATE_DIR ")\n"
	"  -a, --audit-file PATH   audit JSON lines file, '-' for stdout\n"
	"                          (default /var/log/jitd/audit.jsonl)\n"
	"      --audit-format F    ocsf (OCSF 1.8.0, default) or ecs (ECS 9.x)\n"
	"      --journal           also send every audit record to journald\n"
	"      --audit-aggregate SECONDS  repeated allows of one object under one grant by\n"
	"                          one process and program: the first recorded in full, the\n"
	"                          rest as one record with a count per SECONDS (default 5;\n"
	"                          0: each one)\n"
	"      --cgroup-root DIR   cgroup v2 mount (default /sys/fs/cgroup)\n"
	"      --pending-ttl DURATION  a pending request expires after this (default 1h)\n"
	"      --max-open N        requests and self-service grants (request, break-glass,\n"
	"                          exec; fleet requests from this host) one user may hold\n"
	"                          open, pending or active, a break-glass until reviewed\n"
	"                          (1-100000, default 100; admins, and grants by admins or\n"
	"                          the policy, are not counted)\n"
	"      --notify-jobs N     notification commands run at once (1-32, default 4;\n"
	"                          at most half of them, rounded up, for one target)\n"
	"      --notify-queue N    notifications waiting to run, at most (1-4096, default\n"
	"                          256); beyond, they are dropped and counted\n"
	"      --check-policy      parse the policy, print errors (or a one-line summary),\n"
	"                          exit (no kernel access)\n"
	"      --unload            remove the pinned programs and maps, then exit\n"
	"      --reload-programs   load and attach the programs even when the attached ones\n"
	"                          are this build's (they are swapped with no gap)\n"
	"      --fleet CONNINFO    fleet mode: requests, approvals, grants and policy from the\n"
	"                          PostgreSQL database CONNINFO (libpq: key=value or a URI;\n"
	"                          TLS and failover by libpq's own parameters; passwords in\n"
	"                          ~/.pgpass, never here); --fleet @FILE reads it from FILE\n"
	"      --label NAME=VALUE  a label of this host (repeatable; also \"fleet\": {\"labels\"}\n"
	"                          in the policy file): selects fleet requests and the policy's\n"
	"                          rules and grants that carry \"hosts\"\n"
	"  -h, --help              this text\n"
	"      --version           jitd's version\n"
	"\n"
	"Requires a kernel with BPF LSM active: boot with lsm=...,bpf (for example\n"
	"lsm=lockdown,capability,landlock,yama,apparmor,bpf). Exit status: 0 after SIGTERM,\n"
	"1 on a start-up failure (the reason is logged), 2 on bad arguments.\n";

static const struct option opts[] = {
	{"policy", required_argument, NULL, 'p'},
	{"socket", required_argument, NULL, 's'},
	{"state-dir", required_argument, NULL, 'd'},
	{"pending-ttl", required_argument, NULL, 'T'},
	{"audit-file", required_argument, NULL, 'a'},
	{"cgroup-root", required_argument, NULL, 'C'},
	{"audit-format", required_argument, NULL, 'F'},
	{"journal", no_argument, NULL, 'J'},
	{"check-policy", no_argument, NULL, 'c'},
	{"unload", no_argument, NULL, 'U'},
	{"reload-programs", no_argument, NULL, 'R'},
	{"fleet", required_argument, NULL, 'f'},
	{"label", required_argument, NULL, 'l'},
	{"notify-jobs", required_argument, NULL, 'N'},
	{"notify-queue", required_argument, NULL, 'Q'},
	{"audit-aggregate", required_argument, NULL, 'G'},
	{"max-open", required_argument, NULL, 'O'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{},
};

/* --fleet CONNINFO, or @FILE: the conninfo read from a file (one line; keep it 0600, for
 * a password in it). A password on the command line is readable by every local user in
 * /proc/PID/cmdline: refused, with where to put it instead. 0, or 2. */
static int fleet_conninfo_arg(const char *arg, struct agent_config *cfg)
{
	static char *from_file;
	size_t len;

	if (arg[0] == '@') {
		if (util_read_file(arg + 1, 65536, &from_file, &len)) {
			fprintf(stderr, "jitd: --fleet %s: cannot read %s\n", arg, arg + 1);
			return 2;
		}
		from_file[strcspn(from_file, "\r\n")] = 0;
		cfg->fleet = from_file;
		return 0;
	}
	if (strstr(arg, "password=") ||
	    (strstr(arg, "://") && strchr(arg, '@') && strchr(strstr(arg, "://") + 3, ':') &&
	     strchr(strstr(arg, "://") + 3, ':') < strchr(arg, '@'))) {
		fputs("jitd: --fleet: a password on the command line is readable by every local "
		      "user; put it in ~/.pgpass (or PGPASSFILE), use a client certificate, or "
		      "give --fleet @FILE with the conninfo in a file only root reads\n",
		      stderr);
		return 2;
	}
	cfg->fleet = arg;
	return 0;
}

/* --fleet and --label into cfg: 0, or 2 (bad argument, said on stderr). */
static int fleet_arg(int c, const char *arg, struct agent_config *cfg)
{
	char err[256];

	if (c == 'f') {
		/* before the kernel side is set up: without libpq, say so and do nothing */
		if (pq_load(err, sizeof(err))) {
			fprintf(stderr, "jitd: --fleet: %s\n", err);
			return 2;
		}
		return fleet_conninfo_arg(arg, cfg);
	}
	if (!cfg->labels && !(cfg->labels = json_object())) {
		fputs("jitd: out of memory\n", stderr);
		return 2;
	}
	if (fleet_label_add(cfg->labels, arg, err, sizeof(err))) {
		fprintf(stderr, "jitd: --%s\n", err);
		return 2;
	}
	return 0;
}

/* --notify-jobs N, --notify-queue N, --max-open N. 0, or -1 said on stderr. */
static int count_arg(int c, const char *arg, struct agent_config *cfg)
{
	unsigned long max = c == 'N'   ? NOTIFY_JOBS_MAX
			    : c == 'Q' ? NOTIFY_QUEUE_MAX
				       : GRANT_OPEN_MAX;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || arg[0] == '-' || v < 1 || v > max) {
		fprintf(stderr, "jitd: --%s: expected a number from 1 to %lu, got '%s'\n",
			c == 'N'   ? "notify-jobs"
			: c == 'Q' ? "notify-queue"
				   : "max-open",
			max, arg);
		return -1;
	}
	*(c == 'N' ? &cfg->notify_jobs : c == 'Q' ? &cfg->notify_queue : &cfg->max_open) = v;
	return 0;
}

/* --audit-aggregate SECONDS (0 to AGG_MAX_S). 0, or -1 said on stderr. */
static int aggregate_arg(const char *arg, struct agent_config *cfg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || arg[0] == '-' || v > AGG_MAX_S) {
		fprintf(stderr,
			"jitd: --audit-aggregate: expected seconds from 0 to %d, got '%s'\n",
			AGG_MAX_S, arg);
		return -1;
	}
	cfg->audit_aggregate_s = (uint32_t)v;
	return 0;
}

/* The options with a checked value: --fleet, --label, --notify-*, --audit-aggregate,
 * --pending-ttl, --max-open. 0, or -1 said on stderr. */
static int value_arg(int c, const char *arg, struct agent_config *cfg)
{
	if (c == 'T' && util_parse_duration(arg, &cfg->pending_ttl_s)) {
		fprintf(stderr, "jitd: --pending-ttl: bad duration '%s'\n", arg);
		return -1;
	}
	if (c == 'T')
		return 0;
	if (c == 'G')
		return aggregate_arg(arg, cfg);
	return c == 'N' || c == 'Q' || c == 'O' ? count_arg(c, arg, cfg) : fleet_arg(c, arg, cfg);
}

/* Read the arguments into cfg. -1 to go on, else the exit status (help, bad arguments). */
static int parse_args(int argc, char **argv, struct agent_config *cfg, bool *unload)
{
	int c;

	*cfg = (struct agent_config){.socket_path = JITD_DEFAULT_SOCKET,
				     .state_dir = JITD_DEFAULT_STATE_DIR,
				     .audit_path = "/var/log/jitd/audit.jsonl",
				     .cgroup_root = "/sys/fs/cgroup",
				     .pending_ttl_s = GRANT_PENDING_TTL_S,
				     .max_open = GRANT_OPEN_DEFAULT,
				     .audit_aggregate_s = AGG_DEFAULT_S,
				     .audit_fmt = AUDIT_FMT_OCSF};
	while ((c = getopt_long(argc, argv, "p:s:d:a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cfg->policy_path = optarg;
			break;
		case 's':
			cfg->socket_path = optarg;
			break;
		case 'd':
			cfg->state_dir = optarg;
			break;
		case 'a':
			cfg->audit_path = optarg;
			break;
		case 'C':
			cfg->cgroup_root = optarg;
			break;
		case 'c':
			cfg->check_only = true;
			break;
		case 'F':
			if (strcmp(optarg, "ocsf") && strcmp(optarg, "ecs")) {
				fprintf(stderr, "jitd: --audit-format is ocsf or ecs\n");
				return 2;
			}
			cfg->audit_fmt = strcmp(optarg, "ecs") ? AUDIT_FMT_OCSF : AUDIT_FMT_ECS;
			break;
		case 'J':
			cfg->journal = true;
			break;
		case 'U':
			*unload = true;
			break;
		case 'R':
			cfg->reload_programs = true;
			break;
		case 'f':
		case 'l':
		case 'N':
		case 'Q':
		case 'G':
		case 'T':
		case 'O':
			if (value_arg(c, optarg, cfg))
				return 2;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("jitd %s\n", JITD_VERSION);
			return 0;
		default:
			fputs("Try 'jitd --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jitd: unexpected argument '%s'\nTry 'jitd --help'.\n",
			argv[optind]);
		return 2;
	}
	if (!*unload && !cfg->policy_path) {
		fputs("jitd: --policy FILE is required\nTry 'jitd --help'.\n", stderr);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct agent agent;
	struct agent_config cfg;
	bool unload = false;
	int r;

	/* fixed thresholds: a big transient (BTF, the state file's tree) is unmapped when
	 * freed instead of raising the dynamic ones and staying in the heap (RSS) */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	r = parse_args(argc, argv, &cfg, &unload);
	if (r >= 0)
		return r;
	if (unload)
		return agent_unload(cfg.state_dir);
	if (agent_start(&agent, &cfg))
		return 1;
	return cfg.check_only ? 0 : agent_run(&agent);
}
