/* SPDX-License-Identifier: GPL-2.0-only */
/* The `report` verb: who held what, for how long, how often used (report.c). */
#ifndef JITD_REPORT_H
#define JITD_REPORT_H

#include <stddef.h>
#include <jansson.h>

struct agent;

/* The "report" object of {"op":"report","since":"30d"|TIME,"unused":bool}
 * (docs/protocol.md); NULL with the reason in err when the request is bad. */
json_t *report_build(struct agent *a, json_t *req, char *err, size_t errlen);

#endif
