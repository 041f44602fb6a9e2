// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit pipeline. Each record is formatted and sealed into the hash chain, then
 * written with one write() to the append-only file (or stdout); only a record that
 * was written advances the chain, so the file's sequence has no gaps. A record that
 * cannot be written is counted and reported by a "records_dropped" record (source
 * "audit write", count, time window) before the next record that can be written.
 * Written records then go to journald (optional) and to the subscriber hook.
 *
 * The chain head survives rotations and restarts: at open it is the newest of the
 * file's last record, the last record of PATH.1 (logrotate's previous file) and the
 * state file (written atomically on rotation and stop). The file is the truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "audit_log.h"
#include "audit_seal.h"
#include "util.h"

#define TAIL_BYTES (256 * 1024)

static struct {
	int fd;
	char *path, *state_file;
	enum audit_format fmt;
	bool journal;
	struct audit_meta meta;
	struct audit_chain head;
	struct abuf buf;
	struct {
		audit_hook_fn fn;
		void *ud;
	} hooks[AUDIT_LOG_MAX_HOOKS];
	size_t n_hooks;
	uint64_t lost;		       /* records not written, not yet reported */
	int64_t lost_first, lost_last; /* their window, CLOCK_REALTIME ns */
	bool reporting;
	bool unsynced; /* written since the last fdatasync */
} L = {.fd = -1};

static int open_sink(const char *path)
{
	if (!strcmp(path, "-"))
		return dup(STDOUT_FILENO);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Recover a chain head from the last complete record of a file. Returns 0 or -ENOENT. */
int audit_log_tail_head(const char *path, struct audit_chain *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL, *end, *start;
	off_t off;
	ssize_t n;
	int r = -ENOENT;

	if (fd < 0 || fstat(fd, &st) || st.st_size == 0)
		goto out;
	off = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
	buf = malloc(st.st_size - off + 1);
	if (!buf)
		goto out;
	n = pread(fd, buf, st.st_size - off, off);
	if (n <= 0)
		goto out;
	buf[n] = 0;
	end = buf + n;
	while (end > buf) {
		/* the last line that ends with a newline */
		while (end > buf && end[-1] != '\n')
			end--;
		if (end == buf)
			break;
		end--;
		*end = 0;
		start = memrchr(buf, '\n', end - buf);
		start = start ? start + 1 : buf;
		json_t *rec = json_loads(start, 0, NULL);

		if (rec && !audit_record_head(rec, out)) {
			json_decref(rec);
			r = 0;
			break;
		}
		json_decref(rec);
		end = start;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

static int state_read(struct audit_chain *out)
{
	char *text = NULL;
	json_t *j;
	int r = -ENOENT;

	if (!L.state_file || util_read_file(L.state_file, 4096, &text, NULL))
		return -ENOENT;
	j = json_loads(text, 0, NULL);
	if (json_is_integer(json_object_get(j, "sequence")) &&
	    json_string_length(json_object_get(j, "hash")) == AUDIT_HASH_HEX &&
	    json_string_length(json_object_get(j, "chain_id")) == AUDIT_CHAIN_ID_HEX) {
		out->seq = json_integer_value(json_object_get(j, "sequence"));
		strcpy(out->hash, json_string_value(json_object_get(j, "hash")));
		strcpy(out->chain_id, json_string_value(json_object_get(j, "chain_id")));
		r = 0;
	}
	json_decref(j);
	free(text);
	return r;
}

static int state_save(void)
{
	json_t *j;
	char *text;
	int r;

	if (!L.state_file || !L.head.seq)
		return 0;
	j = json_pack("{s:I,s:s,s:s}", "sequence", (json_int_t)L.head.seq, "hash", L.head.hash,
		      "chain_id", L.head.chain_id);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	r = util_write_atomic(L.state_file, text, strlen(text), 0600);
	free(text);
	return r;
}

/* Open the sink and recover the chain head (file tail, path.1 tail, state file). */
int audit_log_open(const struct audit_log_opts *o)
{
	struct audit_chain c;
	char prev[4096];
	struct stat st;

	L.path = strdup(o->path);
	L.state_file = o->state_file ? strdup(o->state_file) : NULL;
	L.fmt = o->fmt;
	L.journal = o->journal;
	L.meta = o->meta;
	audit_chain_init(&L.head);
	if (strcmp(o->path, "-")) {
		snprintf(prev, sizeof(prev), "%s.1", o->path);
		if (!audit_log_tail_head(prev, &c) && c.seq > L.head.seq)
			L.head = c;
		if (!audit_log_tail_head(o->path, &c) && c.seq > L.head.seq)
			L.head = c;
	}
	if (!state_read(&c) && c.seq > L.head.seq)
		L.head = c;
	L.fd = open_sink(o->path);
	if (L.fd < 0)
		return -errno;
	/* A torn last line (crash mid-write): end it, so the next record stands alone. */
	if (!fstat(L.fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		char last = '\n';
		int rfd = open(o->path, O_RDONLY | O_CLOEXEC);

		if (rfd >= 0) {
			if (pread(rfd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
			    write(L.fd, "\n", 1) != 1)
				last = '\n';
			close(rfd);
		}
	}
	return 0;
}

/*
 * Put what was written on disk (fdatasync). Records are written one write() each for
 * throughput; jitd syncs after every agent event and once a second, so a power loss
 * costs at most the last second of decisions. A pipe or stdout: nothing to do.
 */
int audit_log_sync(void)
{
	if (!L.unsynced || L.fd < 0)
		return 0;
	L.unsynced = false;
	if (fdatasync(L.fd) && errno != EINVAL && errno != EROFS)
		return -errno;
	return 0;
}

/* Reopen the file (after logrotate moved it) and save the chain head. */
int audit_log_reopen(void)
{
	int fd;

	if (!L.path)
		return -EBADF;
	audit_log_sync();
	state_save();
	fd = open_sink(L.path);
	if (fd < 0)
		return -errno;
	if (L.fd >= 0)
		close(L.fd);
	L.fd = fd;
	return 0;
}

/* Save the chain head and close. */
void audit_log_close(void)
{
	audit_log_sync();
	state_save();
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
	free(L.path);
	free(L.state_file);
	L.path = L.state_file = NULL;
	abuf_free(&L.buf);
	L.n_hooks = 0;
}

int audit_log_add_hook(audit_hook_fn fn, void *ud)
{
	if (L.n_hooks >= AUDIT_LOG_MAX_HOOKS)
		return -ENOSPC;
	L.hooks[L.n_hooks].fn = fn;
	L.hooks[L.n_hooks++].ud = ud;
	return 0;
}

void audit_log_remove_hook(audit_hook_fn fn, void *ud)
{
	for (size_t i = 0; i < L.n_hooks; i++)
		if (L.hooks[i].fn == fn && L.hooks[i].ud == ud) {
			memmove(&L.hooks[i], &L.hooks[i + 1],
				(L.n_hooks - i - 1) * sizeof(L.hooks[0]));
			L.n_hooks--;
			return;
		}
}

const struct audit_chain *audit_log_head(void)
{
	return &L.head;
}

const char *audit_log_path(void)
{
	return L.path;
}

uint64_t audit_log_pending_losses(void)
{
	return L.lost;
}

static void to_journal(const struct audit_summary *s, const char *line, size_t len)
{
	struct iovec iov[16];
	char **f;
	size_t n;

	if (audit_journal_fields(s, line, len, &f, &n))
		return;
	for (size_t i = 0; i < n && i < 16; i++)
		iov[i] = (struct iovec){.iov_base = f[i], .iov_len = strlen(f[i])};
	sd_journal_sendv(iov, n < 16 ? n : 16);
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

static void report_losses(void);

/* Write the sealed record in L.buf; on success commit new as the head. */
static int commit(const struct audit_chain *new, const struct audit_summary *s, int64_t t)
{
	ssize_t n = L.fd >= 0 ? write(L.fd, L.buf.p, L.buf.len) : -1;

	if (n != (ssize_t)L.buf.len) {
		if (n > 0 && ftruncate(L.fd, lseek(L.fd, 0, SEEK_END) - n)) {
			/* a torn record stays; verify names it */
		}
		if (!L.lost++)
			L.lost_first = t;
		L.lost_last = t;
		return -EIO;
	}
	L.head = *new;
	L.unsynced = true;
	if (L.journal)
		to_journal(s, L.buf.p, L.buf.len);
	for (size_t i = 0; i < L.n_hooks; i++)
		L.hooks[i].fn(L.buf.p, L.buf.len, s, L.hooks[i].ud);
	return 0;
}

static void report_losses(void)
{
	char a[40], b[40];
	json_t *f;

	if (!L.lost || L.reporting)
		return;
	L.reporting = true;
	f = json_pack("{s:s,s:I,s:{s:s,s:s}}", "source", "audit write", "count", (json_int_t)L.lost,
		      "window", "start", util_format_time(L.lost_first, a, sizeof(a)), "end",
		      util_format_time(L.lost_last, b, sizeof(b)));
	uint64_t lost = L.lost;
	int64_t first = L.lost_first;

	L.lost = 0;
	if (audit_log_event("records_dropped", f, util_now_ns(CLOCK_REALTIME))) {
		L.lost = lost; /* still failing: report later (the report itself is no loss) */
		L.lost_first = first;
	}
	json_decref(f);
	L.reporting = false;
}

/* Write one decision. Returns 0 or negative errno. */
int audit_log_decision(const struct audit_decision *d)
{
	struct audit_chain c;
	struct audit_summary s;
	int r;

	report_losses();
	c = L.head;
	r = audit_fmt_decision(L.fmt, &L.meta, d, &c, &L.buf, &s);
	if (r)
		return r;
	return commit(&c, &s, d->time_ns);
}

/* Write one agent event (fields borrowed). Returns 0 or negative errno. */
int audit_log_event(const char *event, const json_t *fields, int64_t time_ns)
{
	struct audit_chain c;
	struct audit_summary s;
	int r;

	report_losses();
	c = L.head;
	r = audit_fmt_event(L.fmt, &L.meta, event, fields, time_ns, &c, &L.buf, &s);
	if (r)
		return r;
	return commit(&c, &s, time_ns);
}

/* Write a seal record of the chain head with k; *cp (optional) is the seal as a
 * checkpoint. Returns 0 or negative errno. */
int audit_log_seal(const struct seal_key *k, bool final, int64_t time_ns,
		   struct audit_checkpoint *cp)
{
	struct audit_chain c;
	struct audit_summary s;
	char tag[SEAL_TAG_HEX + 1];
	int r;

	report_losses();
	c = L.head;
	r = audit_fmt_seal(L.fmt, &L.meta, k, final, time_ns, &c, &L.buf, &s, tag);
	if (!r)
		r = commit(&c, &s, time_ns);
	if (r || !cp)
		return r;
	memcpy(cp->chain_id, c.chain_id, sizeof(cp->chain_id));
	memcpy(cp->hash, c.hash, sizeof(cp->hash));
	memcpy(cp->tag, tag, sizeof(cp->tag));
	cp->seq = c.seq;
	cp->epoch = k->epoch;
	return 0;
}
