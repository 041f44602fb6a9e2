/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's log lines: stderr, with the level as a prefix sd-journal understands ("<3>")
 * when stderr is the journal, else in words ("jitd: error: "). */
#ifndef JITD_LOG_H
#define JITD_LOG_H

#include <stdio.h>

#include "util.h"

#define log_err(fmt, ...)  fprintf(stderr, "%s" fmt "\n", util_log_prefix(3), ##__VA_ARGS__)
#define log_warn(fmt, ...) fprintf(stderr, "%s" fmt "\n", util_log_prefix(4), ##__VA_ARGS__)
#define log_info(fmt, ...) fprintf(stderr, "%s" fmt "\n", util_log_prefix(6), ##__VA_ARGS__)

#endif
