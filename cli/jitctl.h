/* SPDX-License-Identifier: GPL-2.0-only */
/* What jitctl's verbs in other files (audit_cmd.c) share with jitctl.c. */
#ifndef JITCTL_H
#define JITCTL_H

#include <stdbool.h>

/* Exit codes, docs/protocol.md. */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,	/* jitd refused or failed the request (or a local failure) */
	EXIT_USAGE = 2,		/* bad arguments, bad duration */
	EXIT_UNREACHABLE = 3,	/* socket missing, connection refused, timeout, bad reply */
	EXIT_NOT_ENFORCING = 4, /* status: jitd answers but is not enforcing */
};

struct ctl {
	const char *socket; /* control socket path */
	int timeout_s;	    /* for the whole exchange: connect, send, reply */
	bool json;	    /* print JSON instead of text */
};

/* audit_cmd.c: "jitctl audit". */
extern const char help_audit[];
int cmd_audit(struct ctl *c, int argc, char **argv);

#endif
