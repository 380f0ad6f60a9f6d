/*
 * The listener, struct conn and the reply helpers shared by both
 * daemons.  Framing lives here and nowhere else.
 */
#ifndef GFS_SERVER_H
#define GFS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"
#include "log.h"

struct event_base;
struct conn;

#define CMD_DATA	0x01	/* last argument announces a data block */
#define CMD_HASHES	0x02	/* argv[count_arg] hash lines follow */
#define CMD_NOHOLD	0x04	/* reply claims nothing durable: not held
				   behind others' group sync */

struct cmd {
	const char	*name;
	int		 min_args;	/* verb included */
	int		 max_args;
	int		 flags;
	void		(*fn)(struct conn *, int argc, char **argv);
	int		 count_arg;	/* CMD_HASHES: which argument counts */
};

struct server {
	struct event_base	*base;
	const struct cmd	*cmds;
	size_t			 max_data;	/* CMD_DATA bound */
	/*
	 * Data blocks of up to block_size - 1 bytes are read into blocks
	 * of block_size from a pool, so that a handler can keep one
	 * (conn_take_data) and give it back (server_data_free) without
	 * an allocation per request.  0: no pool.
	 */
	size_t			 block_size;
	uint64_t		 data_allocs;	/* blocks not from the pool */
	size_t			 max_hashes;	/* CMD_HASHES bound */
	void			*udata;
	/*
	 * Group commit: makes durable whatever changed since the last
	 * call; see server_need_sync().  A failure to sync is fatal, as
	 * replies are already composed (PostgreSQL's answer to a failed
	 * fsync too): restart and recovery sort it out.
	 */
	void			(*sync)(struct server *);
	uint64_t		 syncs;		/* sync() calls */
	/*
	 * A pass: every request one read brought in, handled in a row.
	 * pass_end() runs after the last handler and before any reply
	 * of the pass is written (the leader commits the pass's one
	 * transaction there).  Either may be NULL.
	 */
	void			(*pass_begin)(struct server *);
	void			(*pass_end)(struct server *);
	/* private */
	struct event		*syncev;
	struct conn		*held;		/* conns with held replies */
	int			 dirty;
	struct evconnlistener	*lis;
	struct conn		*conns;
	int			 nconns;
	void			*pool;		/* free blocks, a list */
	size_t			 npool;
	uint16_t		 port;
};

/* Listen on host:port; port 0 picks one.  Returns 0 or -1 (errno). */
int	server_listen(struct server *, const char *host, uint16_t port);
/* Print "ready HOST:PORT" on stdout and flush. */
void	server_ready(struct server *, const char *host);
void	server_close(struct server *);

/*
 * What a handler may read about its request, valid until it returns:
 * the data block, the hash lines.
 */
const uint8_t	*conn_data(struct conn *, size_t *len);
/*
 * The data block, now the caller's: kept without a copy, and given back
 * with server_data_free() and its length.
 */
uint8_t		*conn_take_data(struct conn *, size_t *len);
void		 server_data_free(struct server *, uint8_t *, size_t len);
const uint8_t	(*conn_hashes(struct conn *, size_t *n))[GFS_HASH_LEN];
struct server	*conn_server(struct conn *);
void		 conn_close_after_reply(struct conn *);

/* Replies: the only way a handler writes. */
void	reply_line(struct conn *, const char *fmt, ...) PRINTFLIKE(2, 3);
void	reply_ok(struct conn *);
void	reply_end(struct conn *);
void	reply_error(struct conn *, const char *code, const char *fmt, ...)
	    PRINTFLIKE(3, 4);
void	reply_value(struct conn *, const char *key, const void *data, size_t len);
void	reply_raw(struct conn *, const void *data, size_t len);

/*
 * State changed that sync() must make durable: hold every reply, on
 * every connection, until sync() has run, once, after every request
 * already read.  Without a sync function it does nothing.
 */
void	server_need_sync(struct server *);
/* Run sync() now if anything waits for it (before a crash point). */
void	server_sync_now(struct server *);

/* Signals: SIGTERM and SIGINT break the loop, SIGPIPE is ignored. */
void	server_signals(struct event_base *);

#endif
