// SPDX-License-Identifier: GPL-2.0-only
/*
 * flood: a hostile control-socket client for the VM tests (tests/vm/hostile.sh).
 *
 *	flood SOCKET MODE N SECONDS
 *
 * Holds N connections to SOCKET for SECONDS, then prints one summary line:
 *	idle       connect and send nothing
 *	dribble    send one byte of a request every 2 s, never a newline
 *	reconnect  idle, and connect again at once whenever jitd closes one
 *	amplify    write 64 KiB of {"op":"policy_show"} lines, never read a reply;
 *	           connect again (and write again) whenever jitd closes one
 *
 *	flood SOCKET ask LINE
 *
 * sends one request LINE and prints the reply line (exit 1 when none comes in 10 s).
 * With FLOOD_NICE=N in the environment it first lowers its priority (nice N).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024

enum mode { IDLE, DRIBBLE, RECONNECT, AMPLIFY };

static const char *sock_path;
static unsigned long n_connects, n_failed, n_closed, n_bytes;
static double t_start, first_close = -1, last_close = -1; /* seconds after the start */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int conn(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		n_failed++;
		return -1;
	}
	n_connects++;
	return fd;
}

/* Write up to 64 KiB of policy_show lines without blocking (what the socket takes). */
static void amplify(int fd)
{
	static const char line[] = "{\"op\":\"policy_show\"}\n";
	static char buf[65536];
	size_t len = (sizeof(buf) / (sizeof(line) - 1)) * (sizeof(line) - 1), off = 0;

	if (!buf[0])
		for (size_t i = 0; i + sizeof(line) - 1 <= sizeof(buf); i += sizeof(line) - 1)
			memcpy(buf + i, line, sizeof(line) - 1);
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += n;
		n_bytes += n;
	}
}

/* Has jitd closed fd? Replies are read (and dropped) except in amplify mode. */
static int closed(int fd, short revents, enum mode m)
{
	char buf[4096];
	ssize_t n;

	if (revents & (POLLHUP | POLLERR))
		return 1;
	if (!(revents & POLLIN) || m == AMPLIFY)
		return 0;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Send line, print the reply line. */
static int ask(const char *line)
{
	static char buf[1 << 20];
	size_t len = 0;
	int fd = conn();

	if (fd < 0) {
		perror("flood: connect");
		return 1;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		perror("flood: send");
		return 1;
	}
	alarm(10);
	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n <= 0)
			break;
		len += n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	fputs(buf, stdout);
	return !memchr(buf, '\n', len);
}

static int parse_mode(const char *s, enum mode *m)
{
	static const char *names[] = {"idle", "dribble", "reconnect", "amplify"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*m = i;
			return 0;
		}
	return -1;
}

int main(int argc, char **argv)
{
	static const char req[] = "{\"op\":\"status\"}";
	static struct pollfd pfd[MAX_CONNS];
	double end, next_drip;
	unsigned drip = 0;
	enum mode m;
	int n;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[2], "ask")) {
		sock_path = argv[1];
		return ask(argv[3]);
	}
	if (argc != 5 || parse_mode(argv[2], &m) || (n = atoi(argv[3])) < 1 || n > MAX_CONNS) {
		fprintf(stderr, "usage: flood SOCKET idle|dribble|reconnect|amplify N SECONDS\n");
		return 2;
	}
	sock_path = argv[1];
	if (getenv("FLOOD_NICE") && nice(atoi(getenv("FLOOD_NICE"))) == -1)
		perror("flood: nice");
	t_start = now();
	end = t_start + atof(argv[4]);
	next_drip = now() + 2;
	for (int i = 0; i < n; i++) {
		pfd[i].fd = conn();
		pfd[i].events = m == AMPLIFY ? 0 : POLLIN; /* amplify: only hangups (no spinning) */
		if (pfd[i].fd >= 0 && m == AMPLIFY)
			amplify(pfd[i].fd);
	}
	while (now() < end) {
		poll(pfd, n, m == AMPLIFY ? 200 : 100);
		for (int i = 0; i < n; i++) {
			if (pfd[i].fd < 0 && (m == RECONNECT || m == AMPLIFY)) {
				pfd[i].fd = conn();
				if (pfd[i].fd >= 0 && m == AMPLIFY)
					amplify(pfd[i].fd);
				continue;
			}
			if (pfd[i].fd < 0 || !closed(pfd[i].fd, pfd[i].revents, m))
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			n_closed++;
			last_close = now() - t_start;
			if (first_close < 0)
				first_close = last_close;
			if (m == RECONNECT || m == AMPLIFY) {
				pfd[i].fd = conn();
				if (pfd[i].fd >= 0 && m == AMPLIFY)
					amplify(pfd[i].fd);
			}
		}
		if (m == DRIBBLE && now() >= next_drip) {
			for (int i = 0; i < n; i++)
				if (pfd[i].fd >= 0 &&
				    send(pfd[i].fd, &req[drip % (sizeof(req) - 1)], 1,
					 MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
					n_bytes++;
			drip++;
			next_drip = now() + 2;
		}
		if (m == RECONNECT)
			usleep(1000); /* a loop, not a spin: the point is holding slots */
	}
	printf("flood %s: %lu connects, %lu refused at connect, %lu closed by jitd, %lu bytes "
	       "sent; closes from %.1f to %.1f s\n",
	       argv[2], n_connects, n_failed, n_closed, n_bytes, first_close, last_close);
	return 0;
}
