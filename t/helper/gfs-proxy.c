/*
 * gfs-proxy: a TCP proxy on loopback that makes network faults for tests.
 *
 *	gfs-proxy [-v] [-l HOST:PORT] [-c HOST:PORT] TARGET
 *
 * Accepts connections on -l (default 127.0.0.1:0) and forwards each to
 * TARGET (HOST:PORT).  A line-based control port on -c (default
 * 127.0.0.1:0) switches the mode, for new connections and for those
 * already open:
 *
 *	MODE pass		forward both ways (the mode at start)
 *	MODE delay MS		hold each chunk of bytes read, either way,
 *				MS ms before forwarding it
 *	MODE drop		close every connection (FIN, both sides);
 *				accept new ones and close them at once
 *	MODE reset		the same with resets (RST, SO_LINGER 0)
 *	MODE blackhole		accept, read and discard both ways; never
 *				forward, never answer, never close
 *	MODE			-> MODE <mode> [MS]
 *	STATS			-> STAT <name> <value> lines, then END: mode,
 *				delay_ms, target, connections (open now),
 *				accepted, refused (TARGET did not take
 *				the connection), faulted (closed by drop,
 *				reset or a blackhole hole), bytes_up (to
 *				TARGET), bytes_down, discarded
 *	QUIT			close the control connection
 *
 * A mode change replies OK, a bad line ERROR <code> <message>.  A
 * connection that lost bytes to blackhole has a hole in its stream: it
 * is closed when the mode changes to pass or delay.  A connection
 * blackholed before it sent anything goes on to TARGET then.  A client
 * whose connection TARGET refuses gets a reset.
 *
 * Once both ports listen it prints "control HOST:PORT" and then
 * "ready HOST:PORT" (the port to use instead of TARGET) on stdout.  It
 * logs mode changes to stderr, and with -v every connection and control
 * line.  One thread, poll(); each direction of a connection holds at
 * most QUEUE_MAX bytes and stops reading while full; past MAX_CONNS
 * connections new ones get a reset.  SIGTERM or SIGINT: close
 * everything, exit 0.  Exit 2: usage, or an address outside 127.0.0.0/8
 * (tests never leave loopback); 3: cannot set up.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"
#include "hutil.h"

#define EXIT_USAGE	2
#define EXIT_IO		3

#define MAX_CONNS	256		/* proxied connections at once */
#define MAX_CTLS	8		/* control connections at once */
#define QUEUE_MAX	(256 * 1024)	/* bytes held per direction */
#define READ_MAX	16384		/* bytes per read */
#define CTL_LINE	128		/* longest control line */
#define DELAY_MAX	3600000		/* ms */

enum mode { M_PASS, M_DELAY, M_DROP, M_RESET, M_BLACKHOLE };

static const char *const mode_name[] = {
	"pass", "delay", "drop", "reset", "blackhole",
};

/* Bytes read from one side, not yet written to the other. */
struct seg {
	struct seg	*next;
	long long	 at;		/* read at, ms */
	size_t		 off, len;
	char		 data[];
};

/* One direction of a proxied connection. */
struct flow {
	struct seg	*head, *tail;
	size_t		 queued;
	int		 eof;		/* the source sent FIN */
	int		 shut;		/* passed on to the sink */
};

struct pconn {
	int		 cfd;		/* the client's side */
	int		 ufd;		/* to TARGET; -1 before the connect */
	int		 connecting;
	int		 holed;		/* lost bytes to blackhole */
	unsigned long	 id;
	struct flow	 up;		/* client -> TARGET */
	struct flow	 down;		/* TARGET -> client */
};

struct ctl {
	int	fd;
	char	in[CTL_LINE];
	size_t	inlen;
};

static struct sockaddr_in	 target;
static const char		*target_str;
static int			 verbose;
static enum mode		 mode = M_PASS;
static unsigned long		 delay_ms;
static struct pconn		*conns[MAX_CONNS];
static int			 nconns;	/* slots in use, some NULL */
static struct ctl		 ctls[MAX_CTLS];
static volatile sig_atomic_t	 stopping;

static struct {
	unsigned long long	accepted, refused, faulted, bytes_up,
				bytes_down, discarded;
} st;

/* A log line, stamped like the servers' so that logs line up. */
static void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
	struct timespec	ts;
	struct tm	tm;
	char		stamp[32];
	va_list		ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ gfs-proxy: ", stamp, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: gfs-proxy [-v] [-l HOST:PORT] [-c HOST:PORT] TARGET\n",
	    stderr);
	exit(EXIT_USAGE);
}

/* HOST:PORT in 127.0.0.0/8, port at least minport. */
static int
listen_on(struct sockaddr_in *sin)
{
	socklen_t	len = sizeof(*sin);
	int		fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_IO, "socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) < 0)
		die(EXIT_IO, "cannot listen on 127.0.0.1:%u: %s",
		    ntohs(sin->sin_port), strerror(errno));
	return fd;
}

/*
 * Close fd with a FIN, or with a reset (RST) when rst is set.  Bytes
 * received and not read would turn the FIN into a reset, so they are
 * read and dropped first.
 */
static void
close_fd(int fd, int rst)
{
	struct linger	l = { 1, 0 };
	char		buf[4096];
	int		k;

	if (fd < 0)
		return;
	if (rst)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	else
		for (k = 0; k < 64 && recv(fd, buf, sizeof(buf),
		    MSG_DONTWAIT) > 0; k++)
			;
	close(fd);
}

static void
flow_clear(struct flow *f)
{
	struct seg *s;

	while ((s = f->head) != NULL) {
		f->head = s->next;
		free(s);
	}
	f->tail = NULL;
	f->queued = 0;
}

static void
conn_close(int i, int rst, const char *why)
{
	struct pconn *p = conns[i];

	if (verbose)
		note("connection %lu: %s%s", p->id, why, rst ? ", reset" : "");
	close_fd(p->cfd, rst);
	close_fd(p->ufd, rst);
	flow_clear(&p->up);
	flow_clear(&p->down);
	free(p);
	conns[i] = NULL;
}

static int
conn_count(void)
{
	int i, n = 0;

	for (i = 0; i < nconns; i++)
		n += conns[i] != NULL;
	return n;
}

/* Start the connect to TARGET: 0, or -1 if it failed at once. */
static int
conn_connect(struct pconn *p)
{
	int one = 1;

	p->ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->ufd < 0)
		return -1;
	(void)setsockopt(p->ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(p->ufd, (struct sockaddr *)&target, sizeof(target)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	p->connecting = 1;
	return 0;
}

static void
accept_data(int lfd)
{
	struct pconn	*p;
	int		 fd, i, k, one = 1;
	static unsigned long next_id;

	for (k = 0; k < 64; k++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				note("accept: %s", strerror(errno));
			return;
		}
		st.accepted++;
		if (mode == M_DROP || mode == M_RESET) {
			st.faulted++;
			close_fd(fd, mode == M_RESET);
			continue;
		}
		for (i = 0; i < nconns && conns[i]; i++)
			;
		if (i == MAX_CONNS) {
			note("%d connections: refusing another", MAX_CONNS);
			close_fd(fd, 1);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			die(EXIT_IO, "out of memory");
		p->cfd = fd;
		p->ufd = -1;
		p->id = ++next_id;
		conns[i] = p;
		if (i == nconns)
			nconns++;
		if (verbose)
			note("connection %lu: accepted (%s)", p->id,
			    mode_name[mode]);
		if (mode != M_BLACKHOLE && conn_connect(p) < 0) {
			st.refused++;
			conn_close(i, 1, "cannot connect to target");
		}
	}
}

/* Read what fd has into f, or discard it in blackhole.  -1: failed. */
static int
flow_read(struct pconn *p, int fd, struct flow *f)
{
	char		 buf[READ_MAX];
	struct seg	*s;
	size_t		 room = QUEUE_MAX - f->queued;
	ssize_t		 n;

	if (f->eof)
		return 0;
	if (mode != M_BLACKHOLE && room == 0)
		return 0;
	n = recv(fd, buf, mode == M_BLACKHOLE || room > sizeof(buf) ?
	    sizeof(buf) : room, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0) {
		f->eof = 1;
		return 0;
	}
	if (mode == M_BLACKHOLE) {
		st.discarded += (unsigned long long)n;
		p->holed = 1;
		return 0;
	}
	if ((s = malloc(sizeof(*s) + (size_t)n)) == NULL)
		die(EXIT_IO, "out of memory");
	s->next = NULL;
	s->at = mono_ms();
	s->off = 0;
	s->len = (size_t)n;
	memcpy(s->data, buf, (size_t)n);
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	f->queued += (size_t)n;
	return 0;
}

/* When the head of f may go out: now, later (ms from now), or never (-1). */
static long long
flow_wait(const struct flow *f, long long now)
{
	long long due;

	if (f->head == NULL || mode == M_BLACKHOLE)
		return -1;
	if (mode != M_DELAY)
		return 0;
	due = f->head->at + (long long)delay_ms;
	return due > now ? due - now : 0;
}

/* Write what is due of f to fd; pass its EOF on once empty. */
static int
flow_write(int fd, struct flow *f, unsigned long long *count, long long now)
{
	struct seg	*s;
	ssize_t		 n;

	while ((s = f->head) != NULL && flow_wait(f, now) == 0) {
		n = send(fd, s->data + s->off, s->len - s->off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		s->off += (size_t)n;
		f->queued -= (size_t)n;
		*count += (unsigned long long)n;
		if (s->off < s->len)
			return 0;
		if ((f->head = s->next) == NULL)
			f->tail = NULL;
		free(s);
	}
	if (f->head == NULL && f->eof && !f->shut && mode != M_BLACKHOLE) {
		if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
			return -1;
		f->shut = 1;
	}
	return 0;
}

/* Events on one proxied connection (rc: client side, ru: TARGET side). */
static void
conn_io(int i, short rc, short ru, long long now)
{
	struct pconn	*p = conns[i];
	int		 soerr = 0;
	socklen_t	 len = sizeof(soerr);

	if (p->connecting && ru) {
		if (getsockopt(p->ufd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 ||
		    soerr) {
			st.refused++;
			conn_close(i, 1, "cannot connect to target");
			return;
		}
		p->connecting = 0;
		ru = 0;
	}
	if ((rc & (POLLIN | POLLHUP | POLLERR)) &&
	    flow_read(p, p->cfd, &p->up) < 0) {
		conn_close(i, 1, "client side failed");
		return;
	}
	if ((ru & (POLLIN | POLLHUP | POLLERR)) &&
	    flow_read(p, p->ufd, &p->down) < 0) {
		conn_close(i, 1, "target side failed");
		return;
	}
	if (p->ufd >= 0 && !p->connecting &&
	    flow_write(p->ufd, &p->up, &st.bytes_up, now) < 0) {
		conn_close(i, 1, "target side failed");
		return;
	}
	if (flow_write(p->cfd, &p->down, &st.bytes_down, now) < 0) {
		conn_close(i, 1, "client side failed");
		return;
	}
	if (p->up.shut && p->down.shut)
		conn_close(i, 0, "closed");
}

/* Apply a new mode to the open connections. */
static void
set_mode(enum mode m, unsigned long ms)
{
	struct pconn	*p;
	int		 i;

	mode = m;
	delay_ms = m == M_DELAY ? ms : 0;
	for (i = 0; i < nconns; i++) {
		if ((p = conns[i]) == NULL)
			continue;
		switch (m) {
		case M_DROP:
		case M_RESET:
			st.faulted++;
			conn_close(i, m == M_RESET, mode_name[m]);
			break;
		case M_BLACKHOLE:
			if (p->up.head || p->down.head)
				p->holed = 1;
			flow_clear(&p->up);
			flow_clear(&p->down);
			break;
		case M_PASS:
		case M_DELAY:
			if (p->holed) {
				st.faulted++;
				conn_close(i, 0, "lost bytes to blackhole");
			} else if (p->ufd < 0 && conn_connect(p) < 0) {
				st.refused++;
				conn_close(i, 1, "cannot connect to target");
			}
			break;
		}
	}
	if (m == M_DELAY)
		note("mode delay %lu ms (%d connections)", ms, conn_count());
	else
		note("mode %s (%d connections)", mode_name[m], conn_count());
}

static void
ctl_close(struct ctl *c)
{
	close(c->fd);
	c->fd = -1;
	c->inlen = 0;
}

/* Best effort: replies are short, a control client that does not read
 * them loses its connection. */
static void __attribute__((format(printf, 2, 3)))
ctl_reply(struct ctl *c, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	if (c->fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		n = (int)sizeof(buf) - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		ctl_close(c);
}

/* One control line; returns -1 when the connection is to close. */
static int
ctl_line(struct ctl *c, char *line)
{
	char		*argv[4], *save = NULL, *t;
	int		 argc = 0, m;
	unsigned long	 ms = 0;

	if (verbose)
		note("control %d: %s", c->fd, line);
	for (t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (argc == 4) {
			ctl_reply(c, "ERROR BAD_ARGS too many arguments");
			return 0;
		}
		argv[argc++] = t;
	}
	if (argc == 0) {
		ctl_reply(c, "ERROR UNKNOWN_COMMAND empty line");
		return 0;
	}
	if (strcmp(argv[0], "QUIT") == 0)
		return -1;
	if (strcmp(argv[0], "STATS") == 0 && argc == 1) {
		ctl_reply(c, "STAT mode %s", mode_name[mode]);
		ctl_reply(c, "STAT delay_ms %lu", delay_ms);
		ctl_reply(c, "STAT target %s", target_str);
		ctl_reply(c, "STAT connections %d", conn_count());
		ctl_reply(c, "STAT accepted %llu", st.accepted);
		ctl_reply(c, "STAT refused %llu", st.refused);
		ctl_reply(c, "STAT faulted %llu", st.faulted);
		ctl_reply(c, "STAT bytes_up %llu", st.bytes_up);
		ctl_reply(c, "STAT bytes_down %llu", st.bytes_down);
		ctl_reply(c, "STAT discarded %llu", st.discarded);
		ctl_reply(c, "END");
		return 0;
	}
	if (strcmp(argv[0], "MODE") != 0) {
		ctl_reply(c, "ERROR UNKNOWN_COMMAND '%.40s'", argv[0]);
		return 0;
	}
	if (argc == 1) {
		if (mode == M_DELAY)
			ctl_reply(c, "MODE delay %lu", delay_ms);
		else
			ctl_reply(c, "MODE %s", mode_name[mode]);
		return 0;
	}
	for (m = M_PASS; m <= M_BLACKHOLE; m++)
		if (strcmp(argv[1], mode_name[m]) == 0)
			break;
	if (m > M_BLACKHOLE || argc != (m == M_DELAY ? 3 : 2) ||
	    (m == M_DELAY && parse_num(argv[2], 0, DELAY_MAX, &ms) < 0)) {
		ctl_reply(c, "ERROR BAD_ARGS want MODE pass|delay MS|drop|"
		    "reset|blackhole");
		return 0;
	}
	set_mode((enum mode)m, ms);
	ctl_reply(c, "OK");
	return 0;
}

static void
ctl_read(struct ctl *c)
{
	char	*nl;
	ssize_t	 n;
	size_t	 len;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_close(c);
		return;
	}
	c->inlen += (size_t)n;
	while (c->fd >= 0 && (nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		*nl = '\0';
		len = (size_t)(nl - c->in) + 1;
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		if (ctl_line(c, c->in) < 0) {
			ctl_close(c);
			return;
		}
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + len, c->inlen - len);
		c->inlen -= len;
	}
	if (c->fd >= 0 && c->inlen == sizeof(c->in)) {
		ctl_reply(c, "ERROR LINE_TOO_LONG longer than %d bytes",
		    CTL_LINE - 2);
		if (c->fd >= 0)
			ctl_close(c);
	}
}

static void
accept_ctl(int lfd)
{
	int fd, i;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MAX_CTLS && ctls[i].fd >= 0; i++)
			;
		if (i == MAX_CTLS) {
			close(fd);
			continue;
		}
		ctls[i].fd = fd;
		ctls[i].inlen = 0;
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

const char *helper_name = "gfs-proxy";

int
main(int argc, char **argv)
{
	static struct pollfd	 pfd[2 + MAX_CTLS + 2 * MAX_CONNS];
	static short		 rc[MAX_CONNS], ru[MAX_CONNS];
	static int		 at_c[MAX_CONNS], at_u[MAX_CONNS];
	struct sockaddr_in	 lsin, csin;
	struct sigaction	 sa;
	struct timespec		 ts;
	sigset_t		 block, orig;
	const char		*laddr = "127.0.0.1:0", *caddr = "127.0.0.1:0";
	long long		 now, w, wait;
	int			 ch, lfd, cfd, i, n;

	while ((ch = getopt(argc, argv, "c:l:v")) != -1) {
		switch (ch) {
		case 'c':
			caddr = optarg;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	target_str = argv[optind];
	parse_loopback(target_str, 1, &target);
	parse_loopback(laddr, 0, &lsin);
	parse_loopback(caddr, 0, &csin);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Signals arrive only inside ppoll(), so none is missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);

	for (i = 0; i < MAX_CTLS; i++)
		ctls[i].fd = -1;
	lfd = listen_on(&lsin);
	cfd = listen_on(&csin);
	printf("control 127.0.0.1:%u\nready 127.0.0.1:%u\n",
	    ntohs(csin.sin_port), ntohs(lsin.sin_port));
	if (fflush(stdout) != 0)
		die(EXIT_IO, "cannot write to stdout");
	if (verbose)
		note("forwarding 127.0.0.1:%u to %s", ntohs(lsin.sin_port),
		    target_str);

	while (!stopping) {
		now = mono_ms();
		wait = -1;
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = cfd;
		pfd[1].events = POLLIN;
		n = 2;
		for (i = 0; i < MAX_CTLS; i++) {
			pfd[n].fd = ctls[i].fd;
			pfd[n++].events = POLLIN;
		}
		while (nconns > 0 && conns[nconns - 1] == NULL)
			nconns--;
		for (i = 0; i < nconns; i++) {
			struct pconn	*p = conns[i];
			short		 ev;

			at_c[i] = at_u[i] = -1;
			if (p == NULL)
				continue;
			/* A side with nothing to wait for stays out of the
			 * poll: a shut socket reports POLLHUP forever. */
			ev = 0;
			if (!p->up.eof && (mode == M_BLACKHOLE ||
			    p->up.queued < QUEUE_MAX))
				ev |= POLLIN;
			if ((w = flow_wait(&p->down, now)) == 0)
				ev |= POLLOUT;
			else if (w > 0 && (wait < 0 || w < wait))
				wait = w;
			if (ev) {
				at_c[i] = n;
				pfd[n].fd = p->cfd;
				pfd[n++].events = ev;
			}
			if (p->ufd < 0)
				continue;
			ev = 0;
			if (p->connecting)
				ev = POLLOUT;
			else {
				if (!p->down.eof && (mode == M_BLACKHOLE ||
				    p->down.queued < QUEUE_MAX))
					ev |= POLLIN;
				if ((w = flow_wait(&p->up, now)) == 0)
					ev |= POLLOUT;
				else if (w > 0 && (wait < 0 || w < wait))
					wait = w;
			}
			if (ev) {
				at_u[i] = n;
				pfd[n].fd = p->ufd;
				pfd[n++].events = ev;
			}
		}
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		if (ppoll(pfd, (nfds_t)n, wait < 0 ? NULL : &ts, &orig) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_IO, "poll: %s", strerror(errno));
		}
		now = mono_ms();
		/* Connections first: the array stays as it was polled. */
		for (i = 0; i < nconns; i++) {
			rc[i] = at_c[i] >= 0 ? pfd[at_c[i]].revents : 0;
			ru[i] = at_u[i] >= 0 ? pfd[at_u[i]].revents : 0;
		}
		for (i = 0; i < nconns; i++)
			if (conns[i])
				conn_io(i, rc[i], ru[i], now);
		for (i = 0; i < MAX_CTLS; i++)
			if (pfd[2 + i].fd >= 0 && pfd[2 + i].revents &&
			    ctls[i].fd == pfd[2 + i].fd)
				ctl_read(&ctls[i]);
		if (pfd[0].revents & POLLIN)
			accept_data(lfd);
		if (pfd[1].revents & POLLIN)
			accept_ctl(cfd);
	}

	for (i = 0; i < nconns; i++)
		if (conns[i])
			conn_close(i, 0, "shutting down");
	for (i = 0; i < MAX_CTLS; i++)
		if (ctls[i].fd >= 0)
			ctl_close(&ctls[i]);
	close(lfd);
	close(cfd);
	if (verbose)
		note("stopped");
	return 0;
}
