// SPDX-License-Identifier: GPL-2.0-only
/*
 * The journald sink end to end, without journald: the test listens on journald's native
 * socket (/run/systemd/journal/socket) itself and checks the datagram sd_journal_send()
 * delivers for a record. Needs root and no running journald (else SKIP: a real journal
 * is never touched).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "audit_log.h"
#include "jitd_abi.h"
#include "util.h"

#define JOURNAL_DIR    "/run/systemd/journal"
#define JOURNAL_SOCKET JOURNAL_DIR "/socket"

static int sock = -1;
static char buf[65536];

/* The value of KEY in a native-protocol datagram (KEY=value lines; binary form for
 * values with newlines: KEY\n, 64-bit little-endian length, data, \n). */
static const char *jfield(const char *d, size_t n, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = d, *end = d + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);

		if (!nl)
			break;
		if ((size_t)(nl - p) > kl && !memcmp(p, key, kl) && p[kl] == '=') {
			snprintf(out, outlen, "%.*s", (int)(nl - p - kl - 1), p + kl + 1);
			return out;
		}
		if ((size_t)(nl - p) == kl && !memcmp(p, key, kl) && nl + 9 <= end) {
			uint64_t l;

			memcpy(&l, nl + 1, 8);
			snprintf(out, outlen, "%.*s", (int)l, nl + 9);
			return out;
		}
		if (!memchr(p, '=', nl - p) && nl + 9 <= end) { /* skip another binary field */
			uint64_t l;

			memcpy(&l, nl + 1, 8);
			p = nl + 9 + l + 1;
			continue;
		}
		p = nl + 1;
	}
	return NULL;
}

static void journal_gets_one_datagram_per_record(void)
{
	char path[] = "/tmp/jitd-journal-test-XXXXXX", file[300], v[8192];
	struct audit_log_opts o = {.journal = true, .meta = {.hostname = "h", .version = "0"}};
	struct audit_decision d = {.time_ns = util_now_ns(CLOCK_REALTIME),
				   .op = JITD_OP_OPEN,
				   .uid = 1001,
				   .loginuid = 1001,
				   .subject_uid = 1001,
				   .pid = 9,
				   .tid = 9,
				   .comm = "cat",
				   .resource = "secrets",
				   .ino = 5,
				   .path = "/srv/secret.txt",
				   .user = "alice"};
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	ssize_t n;
	char *line = NULL;

	CHECK(mkdtemp(path), "mkdtemp");
	snprintf(file, sizeof(file), "%s/audit.jsonl", path);
	o.path = file;
	CHECK_INT(audit_log_open(&o), 0);
	CHECK_INT(audit_log_decision(&d), 0);
	audit_log_close();
	CHECK(poll(&pfd, 1, 2000) == 1, "no datagram on " JOURNAL_SOCKET);
	n = recv(sock, buf, sizeof(buf), 0);
	CHECK(n > 0, "recv: %s", strerror(errno));
	CHECK_STR(jfield(buf, n, "PRIORITY", v, sizeof(v)), "4");
	CHECK_STR(jfield(buf, n, "MESSAGE_ID", v, sizeof(v)), audit_message_id("decision", "deny"));
	CHECK_STR(jfield(buf, n, "JITD_DECISION", v, sizeof(v)), "deny");
	CHECK_STR(jfield(buf, n, "JITD_USER", v, sizeof(v)), "alice");
	CHECK_STR(jfield(buf, n, "JITD_OBJECT", v, sizeof(v)), "/srv/secret.txt");
	CHECK_CONTAINS(jfield(buf, n, "MESSAGE", v, sizeof(v)), "deny open /srv/secret.txt");
	CHECK(!util_read_file(file, 1 << 20, &line, NULL), "read %s", file);
	line[strcspn(line, "\n")] = 0;
	CHECK_STR(jfield(buf, n, "JITD_RECORD", v, sizeof(v)), line);
	free(line);
	unlink(file);
	rmdir(path);
}

int main(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	bool made_dir = false;

	if (geteuid() != 0 || !access(JOURNAL_SOCKET, F_OK)) {
		printf("SKIP journal_gets_one_datagram_per_record: %s\n",
		       geteuid() ? "needs root to listen on " JOURNAL_SOCKET
				 : "a journald is running; not touching it");
		return 0;
	}
	if (mkdir("/run/systemd", 0755) == 0 || errno == EEXIST) {
		if (mkdir(JOURNAL_DIR, 0755) == 0)
			made_dir = true;
	}
	strcpy(sun.sun_path, JOURNAL_SOCKET);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sun, sizeof(sun))) {
		printf("SKIP journal_gets_one_datagram_per_record: cannot bind %s: %s\n",
		       JOURNAL_SOCKET, strerror(errno));
		return 0;
	}
	RUN(journal_gets_one_datagram_per_record);
	close(sock);
	unlink(JOURNAL_SOCKET);
	if (made_dir)
		rmdir(JOURNAL_DIR);
	return tl_exit();
}
