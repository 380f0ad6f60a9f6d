/*
 * Client side of the protocol: connections driven by poll().
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"
#include "client.h"
#include "proto.h"
#include "xmalloc.h"

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
buf_reserve(struct buf *b, size_t more)
{
	if (b->off > 0 && b->off + b->len + more > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->off + b->len + more > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;

		while (cap < b->off + b->len + more)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
cconn_init(struct cconn *c, const char *addr, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->timeout_ms = timeout_ms;
}

int
cconn_fail(struct cconn *c, int err, const char *fmt, ...)
{
	va_list	ap;

	if (c->err == 0) {
		c->err = err;
		va_start(ap, fmt);
		vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
		va_end(ap);
	}
	if (c->fd >= 0 && err != GFS_ENOENT && err != GFS_ESERVER) {
		close(c->fd);
		c->fd = -1;
	}
	return err;
}

int
cconn_open(struct cconn *c)
{
	struct sockaddr_in	sin;
	char			host[64];
	uint16_t		port;
	struct pollfd		pfd;
	int			one = 1, soerr = 0, r;
	socklen_t		len = sizeof(soerr);

	if (c->err)
		return c->err;
	if (c->fd >= 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (parse_hostport(c->addr, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return cconn_fail(c, GFS_EINVAL, "bad address");
	sin.sin_port = htons(port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return cconn_fail(c, GFS_ENET, "%s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->used_ms = now_ms();
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return cconn_fail(c, GFS_ENET, "%s", strerror(errno));
	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return cconn_fail(c, GFS_ETIMEDOUT, "connect timed out");
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr)
		return cconn_fail(c, GFS_ENET, "%s", strerror(soerr ? soerr : errno));
	return 0;
}

void
cconn_close(struct cconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	buf_free(&c->in);
}

void
cconn_reset(struct cconn *c)
{
	cconn_close(c);
	c->err = 0;
	c->errmsg[0] = '\0';
	c->consumed = 0;
}

void
cconn_write(struct cconn *c, const void *data, size_t len)
{
	buf_reserve(&c->out, len);
	memcpy(c->out.p + c->out.off + c->out.len, data, len);
	c->out.len += len;
}

void
cconn_printf(struct cconn *c, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(&c->out, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(c->out.p + c->out.off + c->out.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->out.len += (size_t)n;
}

/* Drop what earlier reads handed out. */
static void
cconn_consume(struct cconn *c)
{
	c->in.off += c->consumed;
	c->in.len -= c->consumed;
	c->consumed = 0;
	if (c->in.len == 0)
		c->in.off = 0;
}

/* One step of I/O on c as poll reported it.  Returns progress made. */
static int
cconn_io(struct cconn *c, short revents)
{
	ssize_t	n;
	int	progress = 0;

	if (revents & POLLOUT && c->out.len > 0) {
		n = send(c->fd, c->out.p + c->out.off, c->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			cconn_fail(c, GFS_ENET, "%s", strerror(errno));
			return 1;
		}
		if (n > 0) {
			c->out.off += (size_t)n;
			c->out.len -= (size_t)n;
			if (c->out.len == 0)
				c->out.off = 0;
			progress = 1;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		cconn_consume(c);
		buf_reserve(&c->in, 65536);
		n = recv(c->fd, c->in.p + c->in.off + c->in.len,
		    c->in.cap - c->in.off - c->in.len, 0);
		if (n == 0) {
			cconn_fail(c, GFS_ENET, "connection closed by server");
			return 1;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			cconn_fail(c, GFS_ENET, "%s", strerror(errno));
			return 1;
		}
		if (n > 0) {
			c->in.len += (size_t)n;
			progress = 1;
		}
	}
	if (progress)
		c->used_ms = now_ms();
	return progress;
}

/*
 * Drive n connections until done(c) holds for each or it failed.
 * want_in: also wait for input (reads), else only flush output.
 */
static void
cconn_run(struct cconn **cs, int n, int (*done)(struct cconn *, void *),
    void *arg)
{
	struct pollfd	 pfd[GFS_MAX_SERVERS + 1];
	struct cconn	*act[GFS_MAX_SERVERS + 1];
	uint64_t	 last[GFS_MAX_SERVERS + 1];
	int		 i, k, r, pass;
	uint64_t	 now = now_ms();

	for (i = 0; i < n && i <= GFS_MAX_SERVERS; i++)
		last[i] = now;
	for (pass = 0; ; pass++) {
		int np = 0, wait = -1;

		now = now_ms();
		for (i = 0; i < n && i <= GFS_MAX_SERVERS; i++) {
			struct cconn *c = cs[i];
			int left;

			if (c == NULL || c->err || done(c, arg))
				continue;
			if (cconn_open(c) < 0)
				continue;
			/*
			 * Send before the first poll: a socket is nearly
			 * always writable, and a syscall is dear.
			 */
			if (pass == 0 && c->out.len > 0) {
				if (cconn_io(c, POLLOUT))
					last[i] = now;
				if (c->err || done(c, arg))
					continue;
			}
			left = (int)(last[i] + (uint64_t)c->timeout_ms - now);
			if (last[i] + (uint64_t)c->timeout_ms <= now) {
				cconn_fail(c, GFS_ETIMEDOUT,
				    "no answer within %d ms", c->timeout_ms);
				continue;
			}
			if (wait < 0 || left < wait)
				wait = left;
			pfd[np].fd = c->fd;
			pfd[np].events = POLLIN | (c->out.len ? POLLOUT : 0);
			pfd[np].revents = 0;
			act[np++] = c;
		}
		if (np == 0)
			return;
		r = poll(pfd, (nfds_t)np, wait);
		if (r < 0 && errno != EINTR)
			return;
		now = now_ms();
		for (k = 0; k < np; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (cconn_io(act[k], pfd[k].revents))
				for (i = 0; i < n; i++)
					if (cs[i] == act[k])
						last[i] = now;
		}
	}
}

static int
flushed(struct cconn *c, void *arg)
{
	(void)arg;
	return c->out.len == 0;
}

void
cconn_pump(struct cconn **cs, int n)
{
	cconn_run(cs, n, flushed, NULL);
}

int
cconn_flush(struct cconn *c)
{
	cconn_run(&c, 1, flushed, NULL);
	return c->err;
}

static int
has_line(struct cconn *c, void *arg)
{
	(void)arg;
	cconn_consume(c);
	return c->in.len > 0 &&
	    memchr(c->in.p + c->in.off, '\n', c->in.len) != NULL;
}

int
cconn_read_line(struct cconn *c, char **line)
{
	char	*start, *nl;
	size_t	 n;

	if (c->err)
		return c->err;
	cconn_consume(c);
	if (c->in.len == 0 || !memchr(c->in.p + c->in.off, '\n', c->in.len))
		cconn_run(&c, 1, has_line, NULL);
	if (c->err)
		return c->err;
	start = c->in.p + c->in.off;
	nl = memchr(start, '\n', c->in.len);
	n = (size_t)(nl - start);
	c->consumed = n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	start[n] = '\0';
	*line = start;
	return 0;
}

static int
has_bytes(struct cconn *c, void *arg)
{
	cconn_consume(c);
	return c->in.len >= *(size_t *)arg;
}

int
cconn_read_block(struct cconn *c, size_t len, const uint8_t **data)
{
	size_t	want = len + 2;

	if (c->err)
		return c->err;
	cconn_consume(c);
	if (c->in.len < want)
		cconn_run(&c, 1, has_bytes, &want);
	if (c->err)
		return c->err;
	if (memcmp(c->in.p + c->in.off + len, "\r\n", 2) != 0)
		return cconn_fail(c, GFS_EPROTO, "data block not followed by CRLF");
	*data = (const uint8_t *)c->in.p + c->in.off;
	c->consumed = want;
	return 0;
}

int
cconn_reply(struct cconn *c, char **line)
{
	int	r;

	if ((r = cconn_read_line(c, line)) < 0)
		return r;
	if (strncmp(*line, "ERROR ", 6) != 0)
		return 0;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", *line + 6);
	if (strncmp(*line, "ERROR NOT_FOUND", 15) == 0)
		return GFS_ENOENT;
	return GFS_ESERVER;
}
