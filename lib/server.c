/*
 * Listener, connections, framing and replies for both daemons.
 *
 * A connection is a socket with a read event (with the idle timeout)
 * and a write event used only while output is left over: a read is one
 * recv() into the input buffer, and the replies of all it held go out
 * with one write before the loop waits again.  (A bufferevent costs an
 * ioctl per read, reads at most 4 KB, and adds and removes its write
 * event around every reply: three more syscalls a request, and they are
 * dear.)
 *
 * A connection reads lines with evbuffer_readln(); a command flagged
 * CMD_DATA waits for its data block plus "\r\n", one flagged CMD_HASHES
 * for its hash lines.  Handlers reply through reply_*() only.  Reading
 * pauses while the output holds more than GFS_MAX_OUTBUF bytes, and
 * resumes when it drains to half of that.
 *
 * Group commit: a handler that changed durable state without syncing
 * it calls server_need_sync().  From then on every reply, on every
 * connection, is held in that connection's own buffer; an event made
 * active at that moment runs after every request already read in this
 * pass of the loop, calls the server's sync() once for all of them, and
 * only then lets the held replies go, in order.  So nothing is
 * acknowledged before it is on disk, and no reader is shown state that
 * is not durable yet, yet one fdatasync covers every commit that came
 * in meanwhile.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "banned.h"
#include "proto.h"
#include "server.h"
#include "xmalloc.h"

#define SERVER_MAX_IO	(256 * 1024)	/* bytes a read or write may move */

enum conn_state {
	ST_LINE,	/* waiting for a command line */
	ST_DATA,	/* waiting for datalen + 2 bytes */
	ST_HASHES,	/* collecting hash lines */
};

struct conn {
	struct server		*srv;
	int			 fd;
	struct event		*rev, *wev;
	struct evbuffer		*in, *out;
	int			 writing;	/* wev is added */
	struct conn		*next, *prev;
	enum conn_state		 state;
	int			 close_after;
	int			 paused;
	int			 in_dispatch;

	/*
	 * The command being framed: line holds argv's storage, data its
	 * block.  Both are kept, at the size of the longest yet, from one
	 * command to the next: no allocation per command.
	 */
	char			*line;
	size_t			 linecap;
	int			 argc;
	char			*argv[GFS_MAX_ARGS];
	const struct cmd	*cmd;

	uint8_t			*data;
	size_t			 datalen, datacap;

	uint8_t			(*hashes)[GFS_HASH_LEN];
	size_t			 nhashes, want_hashes;
	int			 hashes_bad;

	/* Replies held until the next sync; see server_need_sync(). */
	struct evbuffer		*held;
	struct conn		*held_next;
	int			 on_held;
};

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_process(struct conn *);
static void	conn_pass(struct conn *);
static void	conn_after(struct conn *);

static const struct timeval idle_tv = { GFS_IDLE_TIMEOUT, 0 };
/* Every read lands here first: one loop thread reads. */
static uint8_t	rbuf[SERVER_MAX_IO];
/* A hash line after a CMD_HASHES command (whose line is c->line). */
static char	hline[GFS_MAX_LINE];

/*
 * The block pool: taken data blocks come back here, and the last one
 * back is the first out, still warm in the cache.  A burst's worth of
 * free blocks stays (POOL_MAX, 16 MB of 1 KB chunks); the rest goes.
 */
#define POOL_MAX	16384

static uint8_t *
data_alloc(struct server *s, size_t need, size_t *cap)
{
	void *b;

	if (need > s->block_size) {
		*cap = need;
		return xmalloc(need);
	}
	*cap = s->block_size;
	if ((b = s->pool) == NULL) {
		s->data_allocs++;
		return xmalloc(s->block_size);
	}
	memcpy(&s->pool, b, sizeof(void *));
	s->npool--;
	return b;
}

void
server_data_free(struct server *s, uint8_t *data, size_t len)
{
	/* Under block_size, it came from data_alloc() with a whole block. */
	if (data == NULL || len + 1 > s->block_size || s->npool >= POOL_MAX) {
		free(data);
		return;
	}
	memcpy(data, &s->pool, sizeof(void *));
	s->pool = data;
	s->npool++;
}

static void
pool_free(struct server *s)
{
	void *b;

	while ((b = s->pool) != NULL) {
		memcpy(&s->pool, b, sizeof(void *));
		free(b);
	}
	s->npool = 0;
}

static void
conn_reset(struct conn *c)
{
	c->datalen = 0;
	free(c->hashes);
	c->hashes = NULL;
	c->nhashes = c->want_hashes = 0;
	c->hashes_bad = 0;
	c->argc = 0;
	c->cmd = NULL;
	c->state = ST_LINE;
}

/* The one free path of a connection. */
static void
conn_free(struct conn *c)
{
	struct server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->on_held) {
		struct conn **pp;

		for (pp = &s->held; *pp != c; pp = &(*pp)->held_next)
			;
		*pp = c->held_next;
	}
	if (c->held)
		evbuffer_free(c->held);
	conn_reset(c);
	free(c->line);
	server_data_free(s, c->data, c->datacap - 1);
	event_free(c->rev);
	event_free(c->wev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	close(c->fd);
	free(c);
}

/* One write of the output.  -1: the connection is dead (free it). */
static int
conn_write(struct conn *c)
{
	if (evbuffer_write_atmost(c->out, c->fd, SERVER_MAX_IO) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		return -1;
	return 0;
}

/*
 * Write what the output holds now; what the socket does not take waits
 * for the write event.  -1: the connection is dead (free it).
 */
static int
conn_flush(struct conn *c)
{
	if (c->writing || evbuffer_get_length(c->out) == 0)
		return 0;
	if (conn_write(c) < 0)
		return -1;
	if (evbuffer_get_length(c->out) > 0) {
		event_add(c->wev, NULL);
		c->writing = 1;
	}
	return 0;
}

/* Where a reply goes: the socket, or the held buffer while unsynced. */
static struct evbuffer *
conn_out(struct conn *c)
{
	struct server *s = c->srv;

	/* PING, chunk PUT_PENDING: not held, unless behind a held reply. */
	if (!s->dirty || (c->cmd && (c->cmd->flags & CMD_NOHOLD) &&
	    !c->on_held))
		return c->out;
	if (c->held == NULL)
		c->held = evbuffer_new();
	if (!c->on_held) {
		c->on_held = 1;
		c->held_next = s->held;
		s->held = c;
	}
	return c->held;
}

static size_t
conn_outlen(struct conn *c)
{
	return evbuffer_get_length(c->out) +
	    (c->held ? evbuffer_get_length(c->held) : 0);
}

/* The sync event: make durable, then release every held reply. */
static void
server_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	struct conn	*c;

	(void)fd;
	(void)what;
	if (!s->dirty)
		return;
	s->sync(s);
	s->dirty = 0;
	s->syncs++;
	/*
	 * A connection this releases may read on and dirty the state
	 * again: what is held from then on waits for the next sync.
	 */
	while (!s->dirty && (c = s->held) != NULL) {
		s->held = c->held_next;
		c->on_held = 0;
		c->held_next = NULL;
		evbuffer_add_buffer(c->out, c->held);
		if (!c->in_dispatch)	/* else its read callback does */
			conn_after(c);
	}
}

void
server_need_sync(struct server *s)
{
	if (s->sync == NULL || s->dirty)
		return;
	if (s->syncev == NULL)
		s->syncev = event_new(s->base, -1, 0, server_sync_cb, s);
	s->dirty = 1;
	event_active(s->syncev, EV_WRITE, 0);
}

void
server_sync_now(struct server *s)
{
	server_sync_cb(-1, 0, s);
}

static void
conn_close_now_or_later(struct conn *c)
{
	if (conn_outlen(c) == 0 && !c->in_dispatch) {
		conn_free(c);
		return;
	}
	c->close_after = 1;
	event_del(c->rev);
}

const uint8_t *
conn_data(struct conn *c, size_t *len)
{
	*len = c->datalen;
	return c->data;
}

uint8_t *
conn_take_data(struct conn *c, size_t *len)
{
	uint8_t *d = c->data;

	*len = c->datalen;
	c->data = NULL;
	c->datacap = 0;
	return d;
}

const uint8_t (*conn_hashes(struct conn *c, size_t *n))[GFS_HASH_LEN]
{
	*n = c->nhashes;
	return (const uint8_t (*)[GFS_HASH_LEN])c->hashes;
}

struct server *
conn_server(struct conn *c)
{
	return c->srv;
}

void
conn_close_after_reply(struct conn *c)
{
	c->close_after = 1;
}

void
reply_raw(struct conn *c, const void *data, size_t len)
{
	evbuffer_add(conn_out(c), data, len);
}

void
reply_line(struct conn *c, const char *fmt, ...)
{
	struct evbuffer	*out = conn_out(c);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void
reply_ok(struct conn *c)
{
	reply_raw(c, "OK\r\n", 4);
}

void
reply_end(struct conn *c)
{
	reply_raw(c, "END\r\n", 5);
}

void
reply_error(struct conn *c, const char *code, const char *fmt, ...)
{
	struct evbuffer	*out = conn_out(c);
	va_list		 ap;

	evbuffer_add_printf(out, "ERROR %s ", code);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void
reply_value(struct conn *c, const char *key, const void *data, size_t len)
{
	struct evbuffer *out = conn_out(c);

	evbuffer_add_printf(out, "VALUE %s %zu\r\n", key, len);
	evbuffer_add(out, data, len);
	evbuffer_add(out, "\r\n", 2);
}

static const struct cmd *
cmd_find(const struct cmd *cmds, const char *verb)
{
	for (; cmds->name; cmds++)
		if (strcmp(cmds->name, verb) == 0)
			return cmds;
	return NULL;
}

static void
conn_dispatch(struct conn *c)
{
	c->in_dispatch = 1;
	c->cmd->fn(c, c->argc, c->argv);
	c->in_dispatch = 0;
	conn_reset(c);
}

/*
 * A whole line is in c->line.  Returns 0 to go on reading, -1 when the
 * connection is to close (framing is lost).
 */
static int
conn_line(struct conn *c)
{
	const struct cmd	*cmd;
	uint64_t		 n;

	c->argc = proto_split(c->line, c->argv, GFS_MAX_ARGS);
	if (c->argc < 0) {
		reply_error(c, "BAD_ARGS", "more than %d arguments",
		    GFS_MAX_ARGS - 1);
		cmd = cmd_find(c->srv->cmds, c->argv[0]);
		conn_reset(c);
		return (cmd && (cmd->flags & (CMD_DATA | CMD_HASHES))) ? -1 : 0;
	}
	if (c->argc == 0) {	/* empty line: ignored, as memcached does */
		conn_reset(c);
		return 0;
	}
	if (strcmp(c->argv[0], "QUIT") == 0) {
		conn_reset(c);
		return -1;
	}
	cmd = cmd_find(c->srv->cmds, c->argv[0]);
	if (cmd == NULL) {
		reply_error(c, "UNKNOWN_COMMAND", "unknown command");
		conn_reset(c);
		return 0;
	}
	/* A framed command with a bad announcement loses the framing. */
	if (c->argc < cmd->min_args || c->argc > cmd->max_args) {
		reply_error(c, "BAD_ARGS", "wrong number of arguments for %s",
		    cmd->name);
		conn_reset(c);
		return (cmd->flags & (CMD_DATA | CMD_HASHES)) ? -1 : 0;
	}
	c->cmd = cmd;
	if (cmd->flags & CMD_DATA) {
		if (parse_u64(c->argv[c->argc - 1], 0, UINT64_MAX, &n) < 0) {
			reply_error(c, "BAD_NUMBER", "bad data length");
			return -1;
		}
		if (n > c->srv->max_data) {
			reply_error(c, "TOO_LARGE", "data block over %zu bytes",
			    c->srv->max_data);
			return -1;
		}
		c->datalen = (size_t)n;
		c->state = ST_DATA;
		return 0;
	}
	if (cmd->flags & CMD_HASHES) {
		if (parse_u64(c->argv[cmd->count_arg], 0, UINT64_MAX, &n) < 0) {
			reply_error(c, "BAD_NUMBER", "bad count");
			return -1;
		}
		if (n > c->srv->max_hashes) {
			reply_error(c, "TOO_LARGE", "more than %zu hashes",
			    c->srv->max_hashes);
			return -1;
		}
		c->want_hashes = (size_t)n;
		c->hashes = xreallocarray(NULL, c->want_hashes, GFS_HASH_LEN);
		c->state = ST_HASHES;
		if (c->want_hashes == 0)
			conn_dispatch(c);
		return 0;
	}
	conn_dispatch(c);
	return 0;
}

/* Process as much buffered input as the state allows. */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = c->in;
	size_t		 n;
	char		*line;

	while (!c->close_after) {
		if (conn_outlen(c) > GFS_MAX_OUTBUF) {
			/* Resume from the write callback once it drains. */
			c->paused = 1;
			event_del(c->rev);
			return;
		}
		if (c->state == ST_DATA) {
			unsigned char crlf[2];

			if (evbuffer_get_length(in) < c->datalen + 2)
				break;
			if (c->datalen + 1 > c->datacap) {
				server_data_free(c->srv, c->data,
				    c->datacap - 1);
				c->data = data_alloc(c->srv, c->datalen + 1,
				    &c->datacap);
			}
			evbuffer_remove(in, c->data, c->datalen);
			evbuffer_remove(in, crlf, 2);
			if (crlf[0] != '\r' || crlf[1] != '\n') {
				reply_error(c, "BAD_DATA",
				    "data block not followed by \\r\\n");
				conn_reset(c);
				c->close_after = 1;
				break;
			}
			conn_dispatch(c);
			continue;
		}
		{
			size_t eol = 0;
			struct evbuffer_ptr e = evbuffer_search_eol(in, NULL,
			    &eol, EVBUFFER_EOL_CRLF);

			if ((e.pos >= 0 && (size_t)e.pos + eol > GFS_MAX_LINE) ||
			    (e.pos < 0 &&
			    evbuffer_get_length(in) >= GFS_MAX_LINE)) {
				reply_error(c, "LINE_TOO_LONG",
				    "line over %d bytes", GFS_MAX_LINE);
				c->close_after = 1;
				break;
			}
			if (e.pos < 0)
				break;
			/* n + 1 <= GFS_MAX_LINE: the bound above. */
			n = (size_t)e.pos;
			if (c->state == ST_HASHES)
				line = hline;
			else {
				if (n + 1 > c->linecap) {
					c->linecap = n + 1 < 256 ? 256 : n + 1;
					c->line = xrealloc(c->line, c->linecap);
				}
				line = c->line;
			}
			evbuffer_remove(in, line, n);
			evbuffer_drain(in, eol);
			line[n] = '\0';
		}
		if (memchr(line, '\0', n) != NULL) {
			const struct cmd *cmd;

			if (c->state == ST_HASHES) {
				c->hashes_bad = 1;
				c->nhashes++;
				goto hash_done;
			}
			/* The verb ends at a space or the NUL. */
			line[strcspn(line, " ")] = '\0';
			cmd = cmd_find(c->srv->cmds, line);
			reply_error(c, "BAD_ARGS", "NUL byte in line");
			if (cmd && (cmd->flags & (CMD_DATA | CMD_HASHES))) {
				c->close_after = 1;
				break;
			}
			continue;
		}
		if (c->state == ST_HASHES) {
			if (c->nhashes < c->want_hashes &&
			    hash_parse(line, c->hashes[c->nhashes]) < 0)
				c->hashes_bad = 1;
			c->nhashes++;
 hash_done:
			if (c->nhashes == c->want_hashes) {
				if (c->hashes_bad) {
					reply_error(c, "BAD_HASH",
					    "hash lines must be 64 lower-case "
					    "hex digits");
					conn_reset(c);
				} else
					conn_dispatch(c);
			}
			continue;
		}
		if (conn_line(c) < 0) {
			c->close_after = 1;
			break;
		}
	}
}

/* One pass: the requests the input holds, between the server's hooks. */
static void
conn_pass(struct conn *c)
{
	struct server *s = c->srv;

	if (s->pass_begin)
		s->pass_begin(s);
	conn_process(c);
	if (s->pass_end)
		s->pass_end(s);
}

/*
 * After processing or a sync: send the replies, close if that was
 * asked for, and read on if reading paused and the output drained.
 */
static void
conn_after(struct conn *c)
{
	for (;;) {
		if (conn_flush(c) < 0) {
			conn_free(c);
			return;
		}
		if (c->close_after) {
			conn_close_now_or_later(c);
			return;
		}
		if (!c->paused || conn_outlen(c) > GFS_MAX_OUTBUF / 2)
			return;
		c->paused = 0;
		event_add(c->rev, &idle_tv);
		conn_pass(c);
	}
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if (what & EV_TIMEOUT) {	/* idle for GFS_IDLE_TIMEOUT */
		conn_free(c);
		return;
	}
	n = recv(fd, rbuf, sizeof(rbuf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_free(c);
		return;
	}
	if (n == 0) {
		/* Half-closed: answer what was asked, then go. */
		conn_close_now_or_later(c);
		return;
	}
	evbuffer_add(c->in, rbuf, (size_t)n);
	conn_pass(c);
	conn_after(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (conn_write(c) < 0) {
		conn_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) == 0) {
		event_del(c->wev);
		c->writing = 0;
	}
	conn_after(c);
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 busy[] = "ERROR BUSY too many connections\r\n";
	struct server		*s = arg;
	struct conn		*c;
	ssize_t			 w;
	int			 one = 1;

	(void)lis;
	(void)sa;
	(void)salen;
	if (s->nconns >= GFS_MAX_CONNS) {
		w = write(fd, busy, sizeof(busy) - 1);
		(void)w;
		close(fd);
		return;
	}
	/* Replies are small and pipelined: never wait for a delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The listener made fd non-blocking. */
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->fd = fd;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb,
	    c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL)
		fatalx("out of memory");
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	event_add(c->rev, &idle_tv);
}

int
server_listen(struct server *s, const char *host, uint16_t port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	s->lis = evconnlistener_new_bind(s->base, accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (s->lis == NULL)
		return -1;
	if (getsockname(evconnlistener_get_fd(s->lis),
	    (struct sockaddr *)&sin, &len) < 0)
		return -1;
	s->port = ntohs(sin.sin_port);
	return 0;
}

void
server_ready(struct server *s, const char *host)
{
	printf("ready %s:%u\n", host, s->port);
	fflush(stdout);
}

void
server_close(struct server *s)
{
	while (s->conns)
		conn_free(s->conns);
	if (s->syncev)
		event_free(s->syncev);
	s->syncev = NULL;
	s->dirty = 0;
	pool_free(s);
	if (s->lis)
		evconnlistener_free(s->lis);
	s->lis = NULL;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d, shutting down", (int)sig);
	event_base_loopbreak(arg);
}

void
server_signals(struct event_base *base)
{
	static struct event	*term, *intr;

	signal(SIGPIPE, SIG_IGN);
	term = evsignal_new(base, SIGTERM, signal_cb, base);
	intr = evsignal_new(base, SIGINT, signal_cb, base);
	event_add(term, NULL);
	event_add(intr, NULL);
}
