// SPDX-License-Identifier: GPL-2.0-only
/*
 * The peers `make bench` measures beside jitd (peers.h): AppArmor and fapolicyd, as Debian
 * ships them (apparmor 3.0.8, fapolicyd 1.1.7), set up the way an administrator protecting
 * the same objects would.
 *
 * AppArmor: two profiles, loaded once by apparmor_parser. Both allow everything (files with
 * exec inheriting the profile, network, capabilities, signals, ptrace, ...) and deny n_rules
 * filler targets (the files of rule_dir, its directories as subtrees); "jitd-bench" also denies the
 * protected file and binary, and "jitd-bench-granted" allows them by explicit rules instead.
 * AppArmor has no rule for a user and none that expires: the "granted" profile allows every process
 * it confines, not bench_uid alone, and for as long as it is loaded. Its network rules name
 * families and types, never an address: no equivalent of jitd's destination check.
 *
 * fapolicyd: the daemon in the foreground (run as root, integrity none, the file trust
 * backend) with rules that allow bench_uid the protected file and binary, deny them to
 * everyone else, deny the filler targets (one rule each, evaluated in order: first match
 * decides) and allow everything else. It sees opens and execs (fanotify), never connects.
 * While it runs, root too is refused the protected objects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "peers.h"

#define AA_PROFILE	   "jitd-bench"
#define AA_PROFILE_GRANTED "jitd-bench-granted"
#define AA_DIR		   "/run/jitd-bench-apparmor"
#define FA_ETC		   "/etc/fapolicyd"
#define FA_MARK		   "# jitd bench (tests/bench/peers.c)"
#define FA_LOG		   "/run/jitd-bench-fapolicyd.log"
#define FA_START_SECS	   120

static pid_t fa_pid = -1;

static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* The first of the candidates that is executable, or NULL. */
static const char *find_prog(const char *const *cands)
{
	for (; *cands; cands++)
		if (access(*cands, X_OK) == 0)
			return *cands;
	return NULL;
}

/* Whether a rule may name path as it is: absolute, and none of the characters the rule
 * languages read as globs, quotes or separators. */
static int path_ok(const char *p)
{
	return p && p[0] == '/' && !strpbrk(p, " \t\n\"\\*?[]{}^#,");
}

static void free_paths(char **paths)
{
	for (char **p = paths; p && *p; p++)
		free(*p);
	free(paths);
}

/* n filler rule targets in a NULL-terminated array (freed by free_paths), or NULL with why
 * set: the entries of dir (sorted; a directory as "path/", its subtree), then, when dir has
 * fewer, names under dir that do not exist (a rule costs the same whether its file exists). */
static char **filler_paths(const char *dir, int n, char *why, size_t len)
{
	struct dirent **ents = NULL;
	char **paths = calloc((size_t)n + 1, sizeof(*paths));
	int n_ents, i, got = 0;

	if (!path_ok(dir)) {
		say(why, len, "a rule cannot name the filler directory '%s'", dir);
		free(paths);
		return NULL;
	}
	n_ents = scandir(dir, &ents, NULL, alphasort);
	if (n_ents < 0 || !paths) {
		say(why, len, "cannot list the filler directory %s: %s", dir, strerror(errno));
		free(paths);
		return NULL;
	}
	for (i = 0; i < n_ents && got < n; i++) {
		struct stat st;
		char *p;

		if (ents[i]->d_name[0] == '.' || asprintf(&p, "%s/%s", dir, ents[i]->d_name) < 0)
			continue;
		if (lstat(p, &st) || !path_ok(p) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			free(p);
		} else if (S_ISDIR(st.st_mode)) {
			free(p);
			if (asprintf(&p, "%s/%s/", dir, ents[i]->d_name) >= 0)
				paths[got++] = p;
		} else {
			paths[got++] = p;
		}
	}
	for (i = 0; i < n_ents; i++)
		free(ents[i]);
	free(ents);
	for (i = 0; got < n; i++)
		if (asprintf(&paths[got], "%s/.peers-filler-%d", dir, i) < 0) {
			paths[got] = NULL;
			say(why, len, "out of memory");
			free_paths(paths);
			return NULL;
		} else {
			got++;
		}
	return paths;
}

static int check_objects(const struct peer_objects *o, char *why, size_t len)
{
	const char *objs[] = {o->prot_file, o->prot_bin, o->unprot_file, o->unprot_bin};

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (!path_ok(objs[i])) {
			say(why, len, "a rule cannot name the path '%s'", objs[i] ? objs[i] : "");
			return -1;
		}
	if (o->n_rules < 0 || !o->rule_dir) {
		say(why, len, "no filler rules given");
		return -1;
	}
	return 0;
}

/* Start argv (argv[0] a path) with stdout and stderr to the file log (made afresh): its
 * pid, or -1. */
static pid_t spawn_logged(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Run argv as spawn_logged does; its exit status, or -1 when it did not exit. */
static int run_logged(char *const argv[], const char *log)
{
	pid_t pid = spawn_logged(argv, log);
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The first line of the file path, in why (for a tool's error message). */
static void say_file(char *why, size_t len, const char *what, const char *path)
{
	char line[512] = "";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	line[strcspn(line, "\n")] = 0;
	say(why, len, "%s: %s", what, line[0] ? line : "(no output)");
}

/* ---------------------------------------------------------------- AppArmor */

static void aa_write_profile(FILE *f, const char *name, const struct peer_objects *o, char **filler,
			     int granted)
{
	fprintf(f, "profile %s {\n", name);
	/* everything else allowed; exec inherits this profile (ix), so a child stays confined */
	fprintf(f, "  /{,**} mrwlkix,\n  network,\n  capability,\n  signal,\n  ptrace,\n"
		   "  unix,\n  mount,\n  umount,\n  pivot_root,\n  change_profile,\n");
	if (granted)
		fprintf(f, "  %s rwlk,\n  %s mrix,\n", o->prot_file, o->prot_bin);
	else
		fprintf(f, "  deny %s mrwlkx,\n  deny %s mrwlkx,\n", o->prot_file, o->prot_bin);
	for (char **p = filler; *p; p++) /* "dir/": the subtree */
		fprintf(f, "  deny %s%s rwlkx,\n", *p, (*p)[strlen(*p) - 1] == '/' ? "**" : "");
	fprintf(f, "}\n");
}

int apparmor_setup(const struct peer_objects *o, char *why, size_t len)
{
	static const char *const parsers[] = {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser",
					      NULL};
	const char *parser = find_prog(parsers);
	const char *file = AA_DIR "/profiles", *log = AA_DIR "/parser.log";
	char **filler;
	FILE *f;
	int rc;

	if (access("/sys/kernel/security/apparmor/profiles", F_OK) != 0) {
		say(why, len,
		    "AppArmor is not active (no /sys/kernel/security/apparmor: "
		    "not in lsm=, or securityfs not mounted)");
		return -1;
	}
	if (!parser) {
		say(why, len, "no apparmor_parser (Debian package apparmor)");
		return -1;
	}
	if (check_objects(o, why, len))
		return -1;
	filler = filler_paths(o->rule_dir, o->n_rules, why, len);
	if (!filler)
		return -1;
	mkdir(AA_DIR, 0700);
	f = fopen(file, "w");
	if (!f) {
		say(why, len, "cannot write %s: %s", file, strerror(errno));
		free_paths(filler);
		return -1;
	}
	aa_write_profile(f, AA_PROFILE, o, filler, 0);
	aa_write_profile(f, AA_PROFILE_GRANTED, o, filler, 1);
	free_paths(filler);
	if (fclose(f)) {
		say(why, len, "cannot write %s", file);
		return -1;
	}
	/* -r: load or replace; -K: no cache (nothing to keep in a VM) */
	rc = run_logged((char *const[]){(char *)parser, "-r", "-K", (char *)file, NULL}, log);
	if (rc != 0) {
		say_file(why, len, "apparmor_parser failed", log);
		return -1;
	}
	return 0;
}

int apparmor_confine(int granted, char *why, size_t len)
{
	static const char *const attrs[] = {"/proc/self/attr/apparmor/current",
					    "/proc/self/attr/current", NULL};
	const char *name = granted ? AA_PROFILE_GRANTED : AA_PROFILE;
	char cmd[64], label[128] = "";
	int fd = -1, i;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "changeprofile %s", name);
	for (i = 0; attrs[i] && fd < 0; i++)
		fd = open(attrs[i], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		say(why, len, "cannot open /proc/self/attr/current: %s", strerror(errno));
		return -1;
	}
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		say(why, len, "change_profile to %s refused: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	/* what the kernel says this task now is: "jitd-bench (enforce)" */
	fd = open(attrs[i - 1], O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, label, sizeof(label) - 1) : -1;
	if (fd >= 0)
		close(fd);
	label[n > 0 ? n : 0] = 0;
	if (strncmp(label, name, strlen(name)) || label[strlen(name)] != ' ' ||
	    !strstr(label, "(enforce)")) {
		say(why, len, "after change_profile the task is '%.*s', not %s (enforce)",
		    (int)strcspn(label, "\n"), label, name);
		return -1;
	}
	return 0;
}

int apparmor_has_net(void)
{
	return 0; /* AppArmor 3.0: families and types, no address */
}

/* ---------------------------------------------------------------- fapolicyd */

/* "path size sha256" of the file trust backend, or -1. */
static int fa_trust_line(FILE *out, const char *path)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	long long size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		size += n;
	}
	if (n < 0 || !EVP_DigestFinal_ex(ctx, md, &md_len))
		goto out;
	fprintf(out, "%s %lld ", path, size);
	for (unsigned int i = 0; i < md_len; i++)
		fprintf(out, "%02x", md[i]);
	fprintf(out, "\n");
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* path opened for writing, with our mark as its first line; NULL (why set) when path exists
 * and is not ours (a real host's configuration is never overwritten). */
static FILE *fa_open_conf(const char *path, char *why, size_t len)
{
	char line[128] = "";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		if (strncmp(line, FA_MARK, strlen(FA_MARK))) {
			say(why, len, "%s exists and is not the bench's: not overwritten", path);
			return NULL;
		}
	}
	f = fopen(path, "w");
	if (!f)
		say(why, len, "cannot write %s: %s", path, strerror(errno));
	else
		fprintf(f, "%s\n", FA_MARK);
	return f;
}

static int fa_write_rules(const char *path, const struct peer_objects *o, char **filler, char *why,
			  size_t len)
{
	FILE *f = fa_open_conf(path, why, len);

	if (!f)
		return -1;
	/* the first rule that matches decides */
	fprintf(f, "allow perm=any uid=%u : path=%s\n", (unsigned)o->bench_uid, o->prot_file);
	fprintf(f, "allow perm=any uid=%u : path=%s\n", (unsigned)o->bench_uid, o->prot_bin);
	fprintf(f, "deny perm=any all : path=%s\n", o->prot_file);
	fprintf(f, "deny perm=any all : path=%s\n", o->prot_bin);
	for (char **p = filler; *p; p++) /* "dir/": the subtree */
		fprintf(f, "deny perm=any all : %s=%s\n",
			(*p)[strlen(*p) - 1] == '/' ? "dir" : "path", *p);
	fprintf(f, "allow perm=any all : all\n");
	if (fclose(f)) {
		say(why, len, "cannot write %s", path);
		return -1;
	}
	return 0;
}

static int fa_write_config(const struct peer_objects *o, char *why, size_t len)
{
	char **filler;
	FILE *f;
	int rc;

	mkdir(FA_ETC, 0755);
	mkdir("/var/lib/fapolicyd", 0700); /* the trust database (LMDB) */
	mkdir("/run/fapolicyd", 0700);	   /* its fifo */
	f = fa_open_conf(FA_ETC "/fapolicyd.conf", why, len);
	if (!f)
		return -1;
	fprintf(f, "permissive = 0\nnice_val = 0\nq_size = 1024\nuid = 0\ngid = 0\n"
		   "do_stat_report = 0\ndetailed_report = 0\ndb_max_size = 8\n"
		   "subj_cache_size = 1549\nobj_cache_size = 8191\nwatch_fs = tmpfs,ext4\n"
		   "trust = file\nintegrity = none\nsyslog_format = rule,dec,perm,uid,pid,exe,:,"
		   "path\nrpm_sha256_only = 0\nallow_filesystem_mark = 0\n");
	rc = fclose(f);
	f = fa_open_conf(FA_ETC "/fapolicyd.trust", why, len);
	if (rc || !f || fa_trust_line(f, o->unprot_bin) || fclose(f)) {
		say(why, len, "cannot write the fapolicyd configuration in " FA_ETC);
		return -1;
	}
	filler = filler_paths(o->rule_dir, o->n_rules, why, len);
	if (!filler)
		return -1;
	/* fapolicyd.rules, and compiled.rules which it reads instead when rules.d exists */
	rc = fa_write_rules(FA_ETC "/fapolicyd.rules", o, filler, why, len) ||
	     fa_write_rules(FA_ETC "/compiled.rules", o, filler, why, len);
	free_paths(filler);
	return rc ? -1 : 0;
}

/* Whether an open of path by uid fails with EPERM (fapolicyd's answer; DAC says EACCES). */
static int fa_refused(const char *path, uid_t uid)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return 0;
	if (pid == 0) {
		int fd;

		if (setgid(uid) || setuid(uid))
			_exit(2);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 && errno == EPERM ? 0 : 1);
	}
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int fa_spawn(const char *prog)
{
	/* --debug-deny: in the foreground, logging denials to stderr only */
	fa_pid = spawn_logged((char *const[]){(char *)prog, "--debug-deny", NULL}, FA_LOG);
	return fa_pid < 0 ? -1 : 0;
}

int fapolicyd_start(const struct peer_objects *o, char *why, size_t len)
{
	static const char *const progs[] = {"/usr/sbin/fapolicyd", "/sbin/fapolicyd", NULL};
	const char *prog = find_prog(progs);
	/* a uid the rules do not allow the protected file */
	uid_t other = o->bench_uid == 65534 ? 65533 : 65534;
	struct timespec t0, t;
	int st;

	if (!prog) {
		say(why, len, "no fapolicyd (Debian package fapolicyd)");
		return -1;
	}
	if (fa_pid > 0) {
		say(why, len, "fapolicyd is running already");
		return -1;
	}
	if (check_objects(o, why, len) || fa_write_config(o, why, len))
		return -1;
	if (fa_refused(o->prot_file, other)) {
		say(why, len, "%s is refused with EPERM before fapolicyd runs", o->prot_file);
		return -1;
	}
	if (fa_spawn(prog)) {
		say(why, len, "cannot fork: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (fa_refused(o->prot_file, other))
			return 0;
		if (waitpid(fa_pid, &st, WNOHANG) == fa_pid) {
			fa_pid = -1;
			say_file(why, len, "fapolicyd exited", FA_LOG);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > FA_START_SECS) {
			fapolicyd_stop();
			say(why, len, "fapolicyd did not refuse %s within %d s (log " FA_LOG ")",
			    o->prot_file, FA_START_SECS);
			return -1;
		}
		usleep(100 * 1000);
	}
}

void fapolicyd_stop(void)
{
	if (fa_pid <= 0)
		return;
	kill(fa_pid, SIGTERM);
	/* once it has exited, its fanotify group and marks are gone; one that does not within
	 * 30 s is killed (its pending permission events are then allowed by the kernel) */
	for (int i = 0; waitpid(fa_pid, NULL, WNOHANG) == 0; i++) {
		if (i == 300)
			kill(fa_pid, SIGKILL);
		usleep(100 * 1000);
	}
	fa_pid = -1;
}
