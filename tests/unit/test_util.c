// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of lib/util.c: durations, times, device numbers, ids, atomic writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "util.h"

static void check_dur(const char *s, int want_r, int64_t want)
{
	int64_t v = -1;
	int r = util_parse_duration(s, &v);

	CHECK(r == want_r, "parse_duration(\"%s\") returned %d, expected %d", s, r, want_r);
	if (!want_r)
		CHECK(v == want, "parse_duration(\"%s\") = %" PRId64 ", expected %" PRId64, s, v,
		      want);
}

/* Run check_dur and leave the calling test on failure. */
#define DUR(s, r, v)                                                                               \
	do {                                                                                       \
		check_dur(s, r, v);                                                                \
		if (tl.failed)                                                                     \
			return;                                                                    \
	} while (0)

static void duration_accepts_units_and_combinations(void)
{
	DUR("90s", 0, 90);
	DUR("15m", 0, 900);
	DUR("1h", 0, 3600);
	DUR("2d", 0, 172800);
	DUR("1h30m", 0, 5400);
	DUR("1d2h3m4s", 0, 93784);
	DUR("1h 30m", 0, 5400);
	DUR("1d  2h\t3m 4s", 0, 93784);
	DUR("0h30m", 0, 1800);
	DUR("90m", 0, 5400);
}

static void duration_bare_number_is_seconds(void)
{
	DUR("90", 0, 90);
	DUR("1", 0, 1);
	DUR("007", 0, 7);
}

static void duration_accepts_maximum(void)
{
	DUR("366d", 0, JITD_MAX_DURATION_S);
	DUR("365d23h59m60s", 0, JITD_MAX_DURATION_S);
	DUR("31622400", 0, JITD_MAX_DURATION_S);
}

static void duration_rejects_empty_and_zero(void)
{
	DUR("", -EINVAL, 0);
	DUR("0", -ERANGE, 0);
	DUR("0s", -ERANGE, 0);
	DUR("0h0m", -ERANGE, 0);
	CHECK(util_parse_duration(NULL, &(int64_t){0}) == -EINVAL, "NULL accepted");
}

static void duration_rejects_negative(void)
{
	DUR("-5m", -EINVAL, 0);
	DUR("+5m", -EINVAL, 0);
	DUR("1h-5m", -EINVAL, 0);
}

static void duration_rejects_over_maximum_and_overflow(void)
{
	DUR("366d1s", -ERANGE, 0);
	DUR("367d", -ERANGE, 0);
	DUR("31622401", -ERANGE, 0);
	DUR("9223372036854775807s", -ERANGE, 0);
	DUR("99999999999999999999999s", -ERANGE, 0);
	DUR("106751991167301d", -ERANGE, 0);
}

static void duration_rejects_trailing_garbage(void)
{
	DUR("5x", -EINVAL, 0);
	DUR("5mx", -EINVAL, 0);
	DUR("1h30", -EINVAL, 0);
	DUR("1.5h", -EINVAL, 0);
	DUR("5m ", -EINVAL, 0);
	DUR(" 5m", -EINVAL, 0);
	DUR("h", -EINVAL, 0);
	DUR("5M", -EINVAL, 0);
	DUR("5 m", -EINVAL, 0);
	DUR("99999999999999999999999x", -EINVAL, 0);
}

static void duration_rejects_repeated_or_misordered_units(void)
{
	DUR("1s2s", -EINVAL, 0);
	DUR("30m1h", -EINVAL, 0);
	DUR("1h1h", -EINVAL, 0);
	DUR("1s1d", -EINVAL, 0);
}

static void format_duration_round_trips(void)
{
	static const int64_t vals[] = {
		1, 59, 60, 61, 3599, 3600, 5400, 5405, 86400, 93784, JITD_MAX_DURATION_S};
	char buf[32];

	CHECK_STR(util_format_duration(0, buf, sizeof(buf)), "0s");
	CHECK_STR(util_format_duration(5405, buf, sizeof(buf)), "1h30m5s");
	CHECK_STR(util_format_duration(5400, buf, sizeof(buf)), "1h30m");
	CHECK_STR(util_format_duration(93784, buf, sizeof(buf)), "1d2h3m4s");
	CHECK_STR(util_format_duration(-90, buf, sizeof(buf)), "-1m30s");
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t back = 0;

		util_format_duration(vals[i], buf, sizeof(buf));
		CHECK(util_parse_duration(buf, &back) == 0 && back == vals[i],
		      "%" PRId64 " formatted as \"%s\" parsed back as %" PRId64, vals[i], buf,
		      back);
	}
}

static void format_duration_truncates_safely(void)
{
	char buf[4] = "xxx";

	util_format_duration(93784, buf, sizeof(buf));
	CHECK(strlen(buf) < sizeof(buf), "not NUL-terminated");
	CHECK_STR(buf, "1d2");
	util_format_duration(1, buf, 0);
}

static void relative_times_read_as_people_say_them(void)
{
	const int64_t now = 1800000000LL * NS_PER_S;
	char b[64];

	CHECK_STR(util_format_relative(now, now, b, sizeof(b)), "now");
	CHECK_STR(util_format_relative(now + 500000000LL, now, b, sizeof(b)), "now");
	CHECK_STR(util_format_relative(now + 12 * 60 * NS_PER_S, now, b, sizeof(b)), "in 12m");
	CHECK_STR(util_format_relative(now - 3 * 3600 * NS_PER_S, now, b, sizeof(b)), "3h ago");
	CHECK_STR(util_format_relative(now + 312 * NS_PER_S, now, b, sizeof(b)), "in 5m12s");
	/* past an hour, to the minute; past a day, to the hour */
	CHECK_STR(
		util_format_relative(now + (2 * 3600 + 30 * 60 + 40) * NS_PER_S, now, b, sizeof(b)),
		"in 2h31m");
	CHECK_STR(
		util_format_relative(now - (86400 + 4 * 3600 + 1000) * NS_PER_S, now, b, sizeof(b)),
		"1d4h ago");
}

static void time_formats_rfc3339_utc_millis(void)
{
	char buf[32];

	CHECK_STR(util_format_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
	CHECK_STR(util_format_time(1795423639123456789LL, buf, sizeof(buf)),
		  "2026-11-23T08:47:19.123Z");
	CHECK_STR(util_format_time(-1000000, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
}

static void time_parses_z_offsets_and_fractions(void)
{
	int64_t ns = 0;

	CHECK_INT(util_parse_time("2026-12-01T02:00:00Z", &ns), 0);
	CHECK_INT(ns, 1796090400LL * 1000000000);
	CHECK_INT(util_parse_time("2026-12-01T04:30:00+02:30", &ns), 0);
	CHECK_INT(ns, 1796090400LL * 1000000000);
	CHECK_INT(util_parse_time("2026-11-30T21:00:00-05:00", &ns), 0);
	CHECK_INT(ns, 1796090400LL * 1000000000);
	CHECK_INT(util_parse_time("2026-12-01T02:00:00.5Z", &ns), 0);
	CHECK_INT(ns, 1796090400LL * 1000000000 + 500000000);
	CHECK_INT(util_parse_time("2026-12-01T02:00:00.123456789123Z", &ns), 0);
	CHECK_INT(ns, 1796090400LL * 1000000000 + 123456789);
	CHECK_INT(util_parse_time("2024-02-29t00:00:00z", &ns), 0);
	CHECK_INT(util_parse_time("1970-01-01T00:00:00Z", &ns), 0);
	CHECK_INT(ns, 0);
}

static void time_rejects_malformed(void)
{
	static const char *const bad[] = {
		"",
		"2026-12-01",
		"2026-12-01T02:00:00",
		"2026-12-01 02:00:00Z",
		"2026-13-01T02:00:00Z",
		"2026-02-29T02:00:00Z",
		"2026-04-31T02:00:00Z",
		"2026-12-01T24:00:00Z",
		"2026-12-01T02:60:00Z",
		"2026-12-01T02:00:60Z",
		"2026-12-01T02:00:00.Z",
		"2026-12-01T02:00:00+0200",
		"2026-12-01T02:00:00+24:00",
		"2026-12-01T02:00:00Zjunk",
		"26-12-01T02:00:00Z",
		"2026-1-01T02:00:00Z",
		"3000-01-01T00:00:00Z", /* beyond int64 ns */
	};
	int64_t ns;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(util_parse_time(bad[i], &ns) == -EINVAL, "\"%s\" accepted", bad[i]);
}

static void time_format_parse_round_trip(void)
{
	static const int64_t vals[] = {0, 1795423639123000000LL, 951782400000000000LL,
				       -86400000000000LL, 4102444799999000000LL};
	char buf[32];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t back = 0;

		util_format_time(vals[i], buf, sizeof(buf));
		CHECK(util_parse_time(buf, &back) == 0 && back == vals[i],
		      "%" PRId64 " formatted as \"%s\" parsed back as %" PRId64, vals[i], buf,
		      back);
	}
}

static void now_is_monotonic_and_realtime_is_plausible(void)
{
	int64_t a = util_now_ns(CLOCK_BOOTTIME), b = util_now_ns(CLOCK_BOOTTIME);

	CHECK(a > 0 && b >= a, "boottime %" PRId64 " then %" PRId64, a, b);
	CHECK(util_now_ns(CLOCK_REALTIME) > 1700000000LL * 1000000000, "realtime in the past");
}

static void kdev_uses_kernel_encoding(void)
{
	struct stat st;

	CHECK_INT(util_kdev(makedev(8, 1)), (8ULL << 20) | 1);
	CHECK_INT(util_kdev(makedev(259, 0x12345)), (259ULL << 20) | 0x12345);
	CHECK_INT(util_kdev(makedev(0, 0)), 0);
	CHECK(util_udev((8ULL << 20) | 1) == makedev(8, 1), "udev(8:1) wrong");
	CHECK(util_udev(util_kdev(makedev(254, 3))) == makedev(254, 3), "kdev round trip");
	CHECK(stat("/", &st) == 0, "stat /: %s", strerror(errno));
	CHECK(util_udev(util_kdev(st.st_dev)) == st.st_dev, "round trip of st_dev of /");
}

static void resource_id_is_stable_fnv1a(void)
{
	/* FNV-1a 32-bit reference values */
	CHECK_INT(util_resource_id(""), 0x811c9dc5u);
	CHECK_INT(util_resource_id("a"), 0xe40c292cu);
	CHECK_INT(util_resource_id("foobar"), 0xbf9cf968u);
	CHECK_INT(util_resource_id("prod-db"), util_resource_id("prod-db"));
	CHECK(util_resource_id("prod-db") != util_resource_id("prod-dc"), "trivial collision");
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void resource_id_maps_reserved_values(void)
{
	/* names found by brute force whose plain FNV-1a is 0 and 0xffffffff */
	CHECK_INT(fnv1a("qzs0UD"), 0);
	CHECK_INT(fnv1a("fbDFoY"), 0xffffffffu);
	CHECK_INT(util_resource_id("qzs0UD"), 1);
	CHECK_INT(util_resource_id("fbDFoY"), 0xfffffffcu); /* 0xfffffffd..f are reserved */
}

static char *make_tmpdir(void)
{
	static char tmpl[64];
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(tmpl, sizeof(tmpl), "%.40s/jitd-test.XXXXXX", base);
	return mkdtemp(tmpl);
}

static void rm_tree(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_atomic_replaces_file_and_leaves_no_temp(void)
{
	char *dir = make_tmpdir(), path[128], *data = NULL;
	struct stat st;
	size_t len = 0;

	CHECK(dir, "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	CHECK_INT(util_write_atomic(path, "first\n", 6, 0600), 0);
	CHECK_INT(util_write_atomic(path, "second\n", 7, 0640), 0);
	CHECK_INT(util_read_file(path, 1024, &data, &len), 0);
	CHECK_INT(len, 7);
	CHECK_STR(data, "second\n");
	free(data);
	CHECK(stat(path, &st) == 0, "stat: %s", strerror(errno));
	CHECK_INT(st.st_mode & 07777, 0640);
	CHECK_INT(count_entries(dir), 1);
	CHECK_INT(util_write_atomic(path, "", 0, 0600), 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 0, "empty write");
	rm_tree(dir);
}

static void write_atomic_fails_cleanly_in_missing_dir(void)
{
	char *dir = make_tmpdir(), path[128];

	CHECK(dir, "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/nope/state.json", dir);
	CHECK_INT(util_write_atomic(path, "x", 1, 0600), -ENOENT);
	snprintf(path, sizeof(path), "%s/", dir);
	CHECK_INT(util_write_atomic(path, "x", 1, 0600), -EINVAL);
	CHECK_INT(count_entries(dir), 0);
	rm_tree(dir);
}

static void write_atomic_removes_temp_when_rename_fails(void)
{
	char *dir = make_tmpdir(), path[128];

	CHECK(dir, "mkdtemp: %s", strerror(errno));
	/* renaming a file over a non-empty directory fails after the temp file exists */
	snprintf(path, sizeof(path), "%s/target", dir);
	CHECK(mkdir(path, 0700) == 0, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/target/keep", dir);
	CHECK(mkdir(path, 0700) == 0, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/target", dir);
	CHECK(util_write_atomic(path, "x", 1, 0600) < 0, "rename over a directory succeeded");
	CHECK_INT(count_entries(dir), 1);
	rm_tree(dir);
}

static void read_file_refuses_files_over_max(void)
{
	char *dir = make_tmpdir(), path[128], *data = NULL;
	size_t len;

	CHECK(dir, "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK_INT(util_write_atomic(path, "0123456789", 10, 0600), 0);
	CHECK_INT(util_read_file(path, 9, &data, &len), -EFBIG);
	CHECK(!data, "data set on error");
	CHECK_INT(util_read_file(path, 10, &data, &len), 0);
	CHECK_STR(data, "0123456789");
	free(data);
	CHECK_INT(util_read_file(dir, 10, &data, &len), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK_INT(util_read_file(path, 10, &data, &len), -ENOENT);
	rm_tree(dir);
}

int main(void)
{
	RUN(duration_accepts_units_and_combinations);
	RUN(duration_bare_number_is_seconds);
	RUN(duration_accepts_maximum);
	RUN(duration_rejects_empty_and_zero);
	RUN(duration_rejects_negative);
	RUN(duration_rejects_over_maximum_and_overflow);
	RUN(duration_rejects_trailing_garbage);
	RUN(duration_rejects_repeated_or_misordered_units);
	RUN(format_duration_round_trips);
	RUN(format_duration_truncates_safely);
	RUN(relative_times_read_as_people_say_them);
	RUN(time_formats_rfc3339_utc_millis);
	RUN(time_parses_z_offsets_and_fractions);
	RUN(time_rejects_malformed);
	RUN(time_format_parse_round_trip);
	RUN(now_is_monotonic_and_realtime_is_plausible);
	RUN(kdev_uses_kernel_encoding);
	RUN(resource_id_is_stable_fnv1a);
	RUN(resource_id_maps_reserved_values);
	RUN(write_atomic_replaces_file_and_leaves_no_temp);
	RUN(write_atomic_fails_cleanly_in_missing_dir);
	RUN(write_atomic_removes_temp_when_rename_fails);
	RUN(read_file_refuses_files_over_max);
	return tl_exit();
}
