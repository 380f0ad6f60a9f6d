/*
 * Client connections: non-blocking sockets driven by poll(), with
 * buffered, pipelined output and an inactivity timeout.  A connection
 * that failed keeps its error; every later call returns it at once.
 */
#ifndef GFS_CLIENT_H
#define GFS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"
#include "log.h"

struct buf {
	char	*p;
	size_t	 off, len, cap;	/* data is p[off .. off+len) */
};

struct cconn {
	int		fd;
	char		addr[64];
	int		timeout_ms;
	int		err;		/* sticky GFS_E* once failed */
	char		errmsg[256];	/* the server's ERROR line, or why */
	struct buf	out, in;
	size_t		consumed;	/* bytes of in handed out, freed next read */
	uint64_t	used_ms;	/* last connect or I/O */
};

void	cconn_init(struct cconn *, const char *addr, int timeout_ms);
/* Connect (bounded by the timeout) if not yet connected. */
int	cconn_open(struct cconn *);
void	cconn_close(struct cconn *);
/* Close and forget the error: the next use connects again. */
void	cconn_reset(struct cconn *);

void	cconn_write(struct cconn *, const void *, size_t);
void	cconn_printf(struct cconn *, const char *fmt, ...) PRINTFLIKE(2, 3);

/*
 * Flush output and gather input on n connections at once until every
 * output buffer is empty.  A connection that makes no progress for its
 * timeout fails with GFS_ETIMEDOUT; others go on.
 */
void	cconn_pump(struct cconn **, int n);
int	cconn_flush(struct cconn *);

/*
 * Next reply line, without its terminator, NUL-terminated in place;
 * valid until the next read on this connection.
 */
int	cconn_read_line(struct cconn *, char **line);
/* len bytes plus "\r\n"; *data valid until the next read. */
int	cconn_read_block(struct cconn *, size_t len, const uint8_t **data);

/*
 * Read a line that is not an ERROR.  An ERROR line sets errmsg and
 * returns GFS_ENOENT for NOT_FOUND, GFS_ESERVER otherwise.
 */
int	cconn_reply(struct cconn *, char **line);

int	cconn_fail(struct cconn *, int err, const char *fmt, ...) PRINTFLIKE(3, 4);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t	now_ms(void);

#endif
