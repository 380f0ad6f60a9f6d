/*
 * gfs-raw: send exact bytes to a gfs server and print what it answers.
 *
 *	gfs-raw [-t TIMEOUT_MS] [-k] [-s] HOST:PORT
 *
 * Copies stdin to the server unchanged (binary-safe) while copying what the
 * server sends to stdout.  At the end of stdin it half-closes the connection
 * and waits for the server to close.  TIMEOUT_MS (default 5000) is an idle
 * timeout: it runs once stdin is done, or while the server does not accept
 * our bytes, and restarts whenever a byte moves.
 *
 *	-k	keep open: no half-close; reading stops at the idle timeout,
 *		which is then a success if all of stdin was sent
 *	-s	slow: send one byte at a time, 1 ms apart
 *
 * Exit: 0 server closed (a reset counts, with a note on stderr) or -k
 * timeout, 2 usage or an address outside 127.0.0.0/8, 3 connect or I/O
 * error, 4 idle timeout.  Tests never leave loopback.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hutil.h"

#define EXIT_CLOSED	0
#define EXIT_USAGE	2
#define EXIT_IO		3
#define EXIT_TIMEOUT	4

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: gfs-raw [-t TIMEOUT_MS] [-k] [-s] HOST:PORT\n", stderr);
	exit(EXIT_USAGE);
}

static int
connect_loopback(const char *addr)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	parse_loopback(addr, 1, &sin);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die(EXIT_IO, "socket: %s", strerror(errno));
	/* So that -s really sends one byte per segment. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		if (errno != EINTR)
			die(EXIT_IO, "cannot connect to '%s': %s", addr,
			    strerror(errno));
	/* Never block in write() while the server waits for us to read. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die(EXIT_IO, "fcntl: %s", strerror(errno));
	return fd;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_IO, "write to stdout: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

const char *helper_name = "gfs-raw";

int
main(int argc, char **argv)
{
	char in[65536], buf[65536];
	size_t inlen = 0, inoff = 0;
	unsigned long timeout = 5000;
	int keep = 0, slow = 0, in_eof = 0, shut = 0, ch, fd;
	long long last, next_send = 0;
	ssize_t n;

	while ((ch = getopt(argc, argv, "t:ks")) != -1) {
		switch (ch) {
		case 't':
			if (parse_num(optarg, 1, 86400000, &timeout) < 0)
				die(EXIT_USAGE, "bad timeout '%s'", optarg);
			break;
		case 'k':
			keep = 1;
			break;
		case 's':
			slow = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	fd = connect_loopback(argv[optind]);
	last = mono_ms();

	for (;;) {
		struct pollfd pfd[2];
		int sending = inoff < inlen, wait_ms = -1, nfd = 1, r;
		long long now = mono_ms();

		if (in_eof && !sending && !shut && !keep) {
			if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
				die(EXIT_IO, "shutdown: %s", strerror(errno));
			shut = 1;
		}
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		if (sending && slow && now < next_send)
			wait_ms = (int)(next_send - now);
		else if (sending)
			pfd[0].events |= POLLOUT;
		else if (!in_eof)
			nfd = 2;
		if (in_eof || (sending && wait_ms < 0)) {
			long long left = last + (long long)timeout - now;

			if (left <= 0) {
				fflush(stdout);
				if (keep && !sending)
					return EXIT_CLOSED;
				die(EXIT_TIMEOUT, sending ? "server not reading "
				    "for %lu ms" : "no data for %lu ms", timeout);
			}
			wait_ms = (int)left;
		}
		if ((r = poll(pfd, (nfds_t)nfd, wait_ms)) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_IO, "poll: %s", strerror(errno));
		}
		if (r == 0)
			continue;

		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				write_all(STDOUT_FILENO, buf, (size_t)n);
				last = mono_ms();
			} else if (n == 0 || errno == ECONNRESET) {
				if (n < 0)
					fprintf(stderr, "gfs-raw: connection "
					    "reset by server\n");
				break;
			} else if (errno != EINTR && errno != EAGAIN) {
				die(EXIT_IO, "read: %s", strerror(errno));
			}
		}
		if (pfd[0].revents & POLLOUT) {
			n = write(fd, in + inoff, slow ? 1 : inlen - inoff);
			if (n >= 0) {
				inoff += (size_t)n;
				last = mono_ms();
				next_send = last + 1;
			} else if (errno == EPIPE || errno == ECONNRESET) {
				/* Server stopped reading; collect its reply. */
				inoff = inlen;
				in_eof = 1;
			} else if (errno != EINTR && errno != EAGAIN) {
				die(EXIT_IO, "write: %s", strerror(errno));
			}
		}
		if (nfd == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(STDIN_FILENO, in, sizeof(in));
			if (n > 0) {
				inlen = (size_t)n;
				inoff = 0;
				last = mono_ms();
			} else if (n == 0) {
				in_eof = 1;
				last = mono_ms();
			} else if (errno != EINTR && errno != EAGAIN) {
				die(EXIT_IO, "read stdin: %s", strerror(errno));
			}
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_IO, "write to stdout failed");
	return EXIT_CLOSED;
}
