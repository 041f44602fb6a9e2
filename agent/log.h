/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's log lines: stderr, with a level prefix sd-journal understands. */
#ifndef JITD_LOG_H
#define JITD_LOG_H

#include <stdio.h>

#define log_err(fmt, ...)  fprintf(stderr, "<3>jitd: " fmt "\n", ##__VA_ARGS__)
#define log_warn(fmt, ...) fprintf(stderr, "<4>jitd: " fmt "\n", ##__VA_ARGS__)
#define log_info(fmt, ...) fprintf(stderr, "<6>jitd: " fmt "\n", ##__VA_ARGS__)

#endif
