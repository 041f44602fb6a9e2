// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit stream: one JSON line per kernel decision and per agent event,
 * each written with a single write() to an append-only file or stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "jitd.h"
#include "util.h"

static int audit_fd = -1;
static char *audit_path;
static uint64_t write_failures;

static int open_sink(const char *path)
{
	if (!strcmp(path, "-"))
		return dup(STDOUT_FILENO);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Open the sink: a file path, or "-" for stdout. Returns 0 or negative errno. */
int audit_open(const char *path)
{
	audit_path = strdup(path);
	audit_fd = open_sink(path);
	return audit_fd < 0 ? -errno : 0;
}

/* Reopen after logrotate moved the file (SIGHUP). Keeps the old fd on failure. */
void audit_reopen(void)
{
	int fd;

	if (!audit_path)
		return;
	fd = open_sink(audit_path);
	if (fd < 0) {
		log_err("cannot reopen audit file %s: %s", audit_path, strerror(errno));
		return;
	}
	close(audit_fd);
	audit_fd = fd;
}

void audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	free(audit_path);
	audit_path = NULL;
}

/* Realtime ns of a boot-clock instant. */
int64_t audit_boot_to_real(uint64_t boot_ns)
{
	return util_now_ns(CLOCK_REALTIME) - (util_now_ns(CLOCK_BOOTTIME) - (int64_t)boot_ns);
}

/* Write one record (takes the reference). One write() per line. */
static int emit(json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;
	ssize_t n;

	json_decref(rec);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len] = '\n';
	n = audit_fd >= 0 ? write(audit_fd, line, len + 1) : -1;
	free(line);
	if (n != (ssize_t)len + 1) {
		if (write_failures++ == 0)
			log_err("audit write failed: %s", n < 0 ? strerror(errno) : "short write");
		return -EIO;
	}
	return 0;
}

static json_t *record_head(int64_t real_ns, const char *type)
{
	char buf[40];

	return json_pack("{s:s,s:s}", "time", util_format_time(real_ns, buf, sizeof(buf)), "type",
			 type);
}

static const char *op_name(uint8_t op)
{
	static const char *names[] = { [JITD_OP_EXEC] = "exec",	    [JITD_OP_OPEN] = "open",
				       [JITD_OP_CONNECT] = "connect", [JITD_OP_SENDMSG] = "sendmsg",
				       [JITD_OP_LINK] = "link",	    [JITD_OP_RENAME] = "rename",
				       [JITD_OP_PTRACE] = "ptrace" };

	return op < sizeof(names) / sizeof(names[0]) && names[op] ? names[op] : "unknown";
}

static json_t *object_json(struct agent *a, const struct jitd_event *e)
{
	char buf[INET6_ADDRSTRLEN];
	const char *path;
	json_t *o;

	if (e->op == JITD_OP_CONNECT || e->op == JITD_OP_SENDMSG) {
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		bool v4 = e->family == 2 || !memcmp(e->addr, v4mapped, 12);

		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? e->addr + 12 : e->addr, buf, sizeof(buf));
		return json_pack("{s:s,s:s,s:i}", "family", v4 ? "ipv4" : "ipv6", "addr", buf,
				 "port", e->port);
	}
	if (e->op == JITD_OP_PTRACE)
		return json_pack("{s:I,s:I}", "pid", (json_int_t)e->ino, "cgroup_id",
				 (json_int_t)e->dev);
	dev_t d = util_udev(e->dev);

	snprintf(buf, sizeof(buf), "%u:%u", major(d), minor(d));
	o = json_pack("{s:s,s:I}", "dev", buf, "ino", (json_int_t)e->ino);
	path = a->kern ? kern_path_of(a->kern, e->dev, e->ino) : NULL;
	if (path)
		json_object_set_new(o, "path", json_string(path));
	return o;
}

static const char *resource_name(struct agent *a, uint32_t id, char *buf, size_t len)
{
	if (id == JITD_RES_SELFTEST)
		return "(self-test)";
	if (id == JITD_RES_NONE)
		return "(grant's cgroup)";
	for (size_t i = 0; a->policy && i < a->policy->n_resources; i++)
		if (a->policy->resources[i].id == id)
			return a->policy->resources[i].name;
	snprintf(buf, len, "#%u", id);
	return buf;
}

/* One line for one ring-buffer decision. */
int audit_decision(struct agent *a, const struct jitd_event *e)
{
	json_t *rec = record_head(audit_boot_to_real(e->ts_ns), "decision");
	char comm[JITD_COMM_LEN + 1], rbuf[16];

	memcpy(comm, e->comm, JITD_COMM_LEN);
	comm[JITD_COMM_LEN] = 0;
	for (char *c = comm; *c; c++) /* a task names itself: keep the JSON valid */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f || *c == '"')
			*c = '?';
	json_object_set_new(rec, "decision",
			    json_string(e->decision == JITD_ALLOW ? "allow" : "deny"));
	json_object_set_new(rec, "op", json_string(op_name(e->op)));
	json_object_set_new(rec, "uid", json_integer(e->uid));
	json_object_set_new(rec, "loginuid", e->loginuid == JITD_NO_LOGINUID
						     ? json_null()
						     : json_integer(e->loginuid));
	json_object_set_new(rec, "subject_uid", json_integer(e->subject_uid));
	json_object_set_new(rec, "pid", json_integer(e->pid));
	json_object_set_new(rec, "tid", json_integer(e->tid));
	json_object_set_new(rec, "comm", json_string(comm));
	json_object_set_new(rec, "cgroup_id", json_integer((json_int_t)e->cgroup));
	json_object_set_new(rec, "resource",
			    json_string(resource_name(a, e->resource, rbuf, sizeof(rbuf))));
	json_object_set_new(rec, "grant_id",
			    e->grant_id ? json_integer((json_int_t)e->grant_id) : json_null());
	json_object_set_new(rec, "object", object_json(a, e));
	return emit(rec);
}

/* One line for an agent event ("started", "granted", ...); takes fields' reference. */
void audit_agent_event(const char *event, json_t *fields)
{
	json_t *rec = record_head(util_now_ns(CLOCK_REALTIME), "agent");

	json_object_set_new(rec, "event", json_string(event));
	if (fields)
		json_object_update(rec, fields);
	json_decref(fields);
	emit(rec);
}
