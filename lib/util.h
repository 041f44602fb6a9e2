/* SPDX-License-Identifier: GPL-2.0-only */
/* Small pure helpers shared by jitd, jitctl and the unit tests. */
#ifndef JITD_UTIL_H
#define JITD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JITD_DEFAULT_SOCKET    "/run/jitd/jitd.sock"
#define JITD_DEFAULT_STATE_DIR "/var/lib/jitd"
#define JITD_PIN_DIR	       "/sys/fs/bpf/jitd"
/* STATE_DIR/seal: jitd's secrets (the audit sealing key), not readable by anyone else */
#define JITD_SECRET_SUBDIR "seal"
#define JITD_CTL_MAX_LINE  65536 /* longest request or reply line, newline included */
/* longest request line from root and admins (policy apply: a 4 MiB policy, escaped) */
#define JITD_CTL_MAX_ADMIN_LINE (16u << 20)
#define JITD_CTL_MAX_REPLY	(64u << 20) /* longest reply line: a list of many grants */
#define JITD_MAX_DURATION_S	(366LL * 24 * 3600)
#define NS_PER_S		1000000000LL /* nanoseconds per second, the one spelling of it */

/* Parse "90s", "15m", "1h30m", "2d", "1h 30m" into seconds (> 0, <= JITD_MAX_DURATION_S).
 * A bare number is seconds. Returns 0 or -EINVAL / -ERANGE. */
int util_parse_duration(const char *s, int64_t *out_s);

/* Format seconds as "1h30m5s" ("0s" for 0) into buf. Returns buf. */
char *util_format_duration(int64_t s, char *buf, size_t len);

/* Format how far t is from now, as people read it: "in 12m", "3h5m ago", "now" (two units
 * at most: "1d4h", "2h30m", "5m12s"). Returns buf. */
char *util_format_relative(int64_t t_ns, int64_t now_ns, char *buf, size_t len);

/* Format a CLOCK_REALTIME time in ns as RFC 3339 UTC with milliseconds,
 * "2026-11-23T08:47:19.123Z". Returns buf (len >= 32). */
char *util_format_time(int64_t realtime_ns, char *buf, size_t len);

/* Parse RFC 3339 UTC ("2026-12-01T02:00:00Z", optional fraction, "Z" or +hh:mm)
 * into ns since the epoch. Returns 0 or -EINVAL. */
int util_parse_time(const char *s, int64_t *out_ns);

/* Current time of a clock in ns (CLOCK_REALTIME, CLOCK_BOOTTIME...). */
int64_t util_now_ns(clockid_t clk);

/* The times jitd accepts from policies and its state file: 2000-01-01 to 2200-01-01 UTC. */
#define JITD_TIME_MIN_NS (946684800LL * NS_PER_S)
#define JITD_TIME_MAX_NS (7258118400LL * NS_PER_S)

/* Is ns (CLOCK_REALTIME) within [JITD_TIME_MIN_NS, JITD_TIME_MAX_NS)? */
bool util_time_sane(int64_t ns);

/* The CLOCK_BOOTTIME instant of realtime real_ns, given both clocks read at one moment;
 * saturates at 0 and INT64_MAX instead of overflowing. */
uint64_t util_real_to_boot(int64_t real_ns, int64_t real_now, int64_t boot_now);

/* Kernel s_dev encoding (major << 20 | minor) of a userspace st_dev. */
uint64_t util_kdev(dev_t st_dev);
/* Userspace dev_t of a kernel s_dev. */
dev_t util_udev(uint64_t kdev);

/* The cgroup v2 id (the directory's inode number) of path, relative to the cgroupfs root
 * (e.g. "/system.slice"). Returns 0, -EINVAL (not absolute, "..", too long), -ENOTDIR or
 * -errno of stat(). */
int util_cgroup_id(const char *root, const char *path, uint64_t *id);

/* Stable 32-bit id of a resource name (FNV-1a); never 0, 0xfffffffe or 0xffffffff (reserved). */
uint32_t util_resource_id(const char *name);

/* fsync the directory dir (a file made or renamed in it is then on disk). 0 or -errno. */
int util_fsync_dir(const char *dir);
/* Write data to path atomically: temp file in the same directory, fsync, rename,
 * fsync of the directory. Returns 0 or negative errno. */
int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Read a whole file (NUL-terminated) into *out (malloc'd). Returns 0 or negative errno.
 * Refuses files larger than max bytes with -EFBIG. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);

/* Is stderr the journal's stream (JOURNAL_STREAM names it)? Decided once. */
bool util_stderr_is_journal(void);
/* A log line's start for syslog level (3 error, 4 warning, 6 info): "<N>jitd: " when stderr
 * is the journal (it reads the level from it), else "jitd: error: " and the like. */
const char *util_log_prefix(int level);

#endif
