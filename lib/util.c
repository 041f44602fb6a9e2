// SPDX-License-Identifier: GPL-2.0-only
/* Small pure helpers shared by jitd, jitctl and the unit tests. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse "90s", "15m", "1h30m", "2d", "1h 30m" into seconds. */
int util_parse_duration(const char *s, int64_t *out_s)
{
	static const struct {
		char unit;
		int64_t mult;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t next_unit = 0; /* units must appear in decreasing order, each once */
	int64_t total = 0;
	bool range = false;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;

	while (*p) {
		int64_t v = 0;
		size_t u;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			/* keep scanning on overflow so garbage still gives -EINVAL */
			if (!range && (__builtin_mul_overflow(v, 10, &v) ||
				       __builtin_add_overflow(v, *p - '0', &v)))
				range = true;
			p++;
		}
		if (!*p) {
			/* a bare number is seconds; "1h30" is ambiguous */
			if (next_unit != 0)
				return -EINVAL;
			u = 3;
		} else {
			for (u = next_unit; u < 4; u++)
				if (*p == units[u].unit)
					break;
			if (u == 4)
				return -EINVAL;
			p++;
		}
		next_unit = u + 1;
		if (!range && (__builtin_mul_overflow(v, units[u].mult, &v) ||
			       __builtin_add_overflow(total, v, &total)))
			range = true;
		if (*p && !is_space(*p) && (*p < '0' || *p > '9'))
			return -EINVAL;
		if (is_space(*p)) {
			while (is_space(*p))
				p++;
			if (!*p)
				return -EINVAL; /* no trailing blanks */
		}
	}
	if (range || total <= 0 || total > JITD_MAX_DURATION_S)
		return -ERANGE;
	*out_s = total;
	return 0;
}

/* Format seconds as "1d2h30m5s" ("0s" for 0, leading "-" if negative) into buf. */
char *util_format_duration(int64_t s, char *buf, size_t len)
{
	static const struct {
		char unit;
		uint64_t mult;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	uint64_t v = s < 0 ? -(uint64_t)s : (uint64_t)s;
	size_t off = 0;
	int n;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (s == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	if (s < 0) {
		n = snprintf(buf, len, "-");
		off = (size_t)n < len ? (size_t)n : len - 1;
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t q = v / units[i].mult;

		v %= units[i].mult;
		if (!q)
			continue;
		n = snprintf(buf + off, len - off, "%llu%c", (unsigned long long)q, units[i].unit);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
	return buf;
}

char *util_format_relative(int64_t t_ns, int64_t now_ns, char *buf, size_t len)
{
	int64_t d = (t_ns - now_ns) / NS_PER_S, a = d < 0 ? -d : d;
	char dur[48];

	if (!a) {
		snprintf(buf, len, "now");
		return buf;
	}
	/* two units at most: to the hour past a day, to the minute past an hour */
	if (a >= 86400)
		a = (a + 1800) / 3600 * 3600;
	else if (a >= 3600)
		a = (a + 30) / 60 * 60;
	util_format_duration(a, dur, sizeof(dur));
	snprintf(buf, len, d > 0 ? "in %s" : "%s ago", dur);
	return buf;
}

/* Format a CLOCK_REALTIME time in ns as "2026-11-23T08:47:19.123Z". */
char *util_format_time(int64_t realtime_ns, char *buf, size_t len)
{
	int64_t sec = realtime_ns / NS_PER_S, ns = realtime_ns % NS_PER_S;
	time_t t;
	struct tm tm;

	if (ns < 0) {
		ns += NS_PER_S;
		sec--;
	}
	t = (time_t)sec;
	if (!len)
		return buf;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "invalid-time");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ns / 1000000));
	return buf;
}

/* Read exactly n decimal digits; returns the value or -1. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static int days_in_month(int year, int mon)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : mdays[mon - 1];
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Parse RFC 3339 ("2026-12-01T02:00:00Z", optional fraction, "Z" or +hh:mm) into ns. */
int util_parse_time(const char *s, int64_t *out_ns)
{
	const char *p = s;
	int year, mon, day, hour, min, sec;
	int64_t frac = 0, off_s = 0, secs, ns;
	struct tm tm = {0};
	time_t t;

	if (!s)
		return -EINVAL;
	year = digits(&p, 4);
	if (year < 0 || !expect(&p, '-'))
		return -EINVAL;
	mon = digits(&p, 2);
	if (mon < 1 || mon > 12 || !expect(&p, '-'))
		return -EINVAL;
	day = digits(&p, 2);
	if (day < 1 || day > days_in_month(year, mon))
		return -EINVAL;
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	hour = digits(&p, 2);
	if (hour < 0 || hour > 23 || !expect(&p, ':'))
		return -EINVAL;
	min = digits(&p, 2);
	if (min < 0 || min > 59 || !expect(&p, ':'))
		return -EINVAL;
	sec = digits(&p, 2);
	if (sec < 0 || sec > 59) /* leap seconds are not accepted */
		return -EINVAL;
	if (*p == '.') {
		int n = 0;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				frac = frac * 10 + (*p - '0');
		for (; n < 9; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		oh = digits(&p, 2);
		if (oh < 0 || oh > 23 || !expect(&p, ':'))
			return -EINVAL;
		om = digits(&p, 2);
		if (om < 0 || om > 59)
			return -EINVAL;
		off_s = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;

	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	secs = (int64_t)t - off_s;
	if (__builtin_mul_overflow(secs, NS_PER_S, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return -EINVAL;
	*out_ns = ns;
	return 0;
}

/* Current time of a clock in ns (CLOCK_REALTIME, CLOCK_BOOTTIME...). */
int64_t util_now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Is ns (CLOCK_REALTIME) within [JITD_TIME_MIN_NS, JITD_TIME_MAX_NS)? */
bool util_time_sane(int64_t ns)
{
	return ns >= JITD_TIME_MIN_NS && ns < JITD_TIME_MAX_NS;
}

/* The boot-clock instant of real_ns, saturating at 0 and INT64_MAX. */
uint64_t util_real_to_boot(int64_t real_ns, int64_t real_now, int64_t boot_now)
{
	int64_t d, b;

	if (__builtin_sub_overflow(real_ns, real_now, &d))
		return real_ns < real_now ? 0 : INT64_MAX;
	if (__builtin_add_overflow(boot_now, d, &b))
		return d < 0 ? 0 : INT64_MAX;
	return b > 0 ? (uint64_t)b : 0;
}

/* Kernel s_dev encoding (major << 20 | minor) of a userspace st_dev. */
uint64_t util_kdev(dev_t st_dev)
{
	return ((uint64_t)major(st_dev) << 20) | (minor(st_dev) & 0xfffff);
}

/* Userspace dev_t of a kernel s_dev. */
dev_t util_udev(uint64_t kdev)
{
	return makedev((unsigned int)(kdev >> 20), (unsigned int)(kdev & 0xfffff));
}

/* Stable 32-bit id of a resource name (FNV-1a); never 0 or 0xffffffff. */
uint32_t util_resource_id(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	/* 0, JITD_RES_SELF, JITD_RES_GUARD and JITD_RES_SELFTEST are reserved */
	if (h == 0)
		return 1;
	if (h >= 0xfffffffdu)
		return 0xfffffffcu;
	return h;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int util_fsync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (dfd < 0)
		return -errno;
	r = fsync(dfd) ? -errno : 0;
	close(dfd);
	return r;
}

/* Write data to path atomically: temp file in the same directory, fsync, rename, dir fsync. */
int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, r;

	if (!*path || (slash && !slash[1]))
		return -EINVAL;
	if (slash) {
		size_t dlen = slash == path ? 1 : (size_t)(slash - path);

		if (dlen >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		r = snprintf(tmp, sizeof(tmp), "%s/.%s.tmpXXXXXX",
			     dlen == 1 && dir[0] == '/' ? "" : dir, slash + 1);
	} else {
		strcpy(dir, ".");
		r = snprintf(tmp, sizeof(tmp), ".%s.tmpXXXXXX", path);
	}
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return -ENAMETOOLONG;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode)) {
		r = -errno;
		goto fail;
	}
	r = write_all(fd, data, len);
	if (r)
		goto fail;
	if (fsync(fd)) {
		r = -errno;
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r) {
		r = -errno;
		goto fail;
	}
	if (rename(tmp, path)) {
		r = -errno;
		goto fail;
	}

	return util_fsync_dir(dir);

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

/* Read a whole file (NUL-terminated) into *out; -EFBIG if larger than max bytes. */
int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap, used = 0;
	struct stat st;
	char *buf;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out_close;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out_close;
	}
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			/* the file may grow while we read it: bounded by max */
			size_t ncap = cap * 2;
			char *nbuf;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= cap) {
				r = -EFBIG;
				goto out_free;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				r = -ENOMEM;
				goto out_free;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		used += n;
		if (used > max) {
			r = -EFBIG;
			goto out_free;
		}
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	close(fd);
	return 0;

out_free:
	free(buf);
out_close:
	close(fd);
	return r;
}

int util_cgroup_id(const char *root, const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	if (path[0] != '/' || strstr(path, "/..") || strlen(path) > 2048)
		return -EINVAL;
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* Is stderr connected to the journal (systemd sets JOURNAL_STREAM=DEV:INODE of it)? */
bool util_stderr_is_journal(void)
{
	static int cached = -1;
	const char *env;
	unsigned long long dev, ino;
	struct stat st;

	if (cached >= 0)
		return cached;
	env = getenv("JOURNAL_STREAM");
	cached = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
		 st.st_dev == dev && st.st_ino == ino;
	return cached;
}

const char *util_log_prefix(int level)
{
	static const char *const journal[] = {"<3>jitd: ", "<4>jitd: ", "<6>jitd: "};
	static const char *const plain[] = {"jitd: error: ", "jitd: warning: ", "jitd: "};
	int i = level <= 3 ? 0 : level == 4 ? 1 : 2;

	return util_stderr_is_journal() ? journal[i] : plain[i];
}
