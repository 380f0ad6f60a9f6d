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

#define EXIT_CLOSED	0
#define EXIT_USAGE	2
#define EXIT_IO		3
#define EXIT_TIMEOUT	4

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("gfs-raw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: gfs-raw [-t TIMEOUT_MS] [-k] [-s] HOST:PORT\n", stderr);
	exit(EXIT_USAGE);
}

/* Decimal digits only, no sign, min <= value <= max. */
static int
parse_num(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
connect_loopback(const char *addr)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sin;
	unsigned long port;
	size_t hlen;
	int fd, one = 1;

	if (colon == NULL || (hlen = (size_t)(colon - addr)) >= sizeof(host))
		die(EXIT_USAGE, "bad address '%s'", addr);
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    parse_num(colon + 1, 1, 65535, &port) < 0)
		die(EXIT_USAGE, "bad address '%s'", addr);
	if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127)
		die(EXIT_USAGE, "refusing '%s': not in 127.0.0.0/8", addr);
	sin.sin_port = htons((unsigned short)port);

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
	last = now_ms();

	for (;;) {
		struct pollfd pfd[2];
		int sending = inoff < inlen, wait_ms = -1, nfd = 1, r;
		long long now = now_ms();

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
				last = now_ms();
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
				last = now_ms();
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
				last = now_ms();
			} else if (n == 0) {
				in_eof = 1;
				last = now_ms();
			} else if (errno != EINTR && errno != EAGAIN) {
				die(EXIT_IO, "read stdin: %s", strerror(errno));
			}
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EXIT_IO, "write to stdout failed");
	return EXIT_CLOSED;
}
