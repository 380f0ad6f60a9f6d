/*
 * Chunking of a stream, in one of two modes:
 *
 *   CHUNK_FIXED  every chunk is GFS_CHUNK_SIZE bytes but the last, which
 *		  may be shorter (the default);
 *   CHUNK_CDC	  content-defined (FastCDC): a cut wherever a rolling hash
 *		  of the last bytes matches a mask, so an insertion moves
 *		  only the boundaries near it.  Chunks are CDC_MIN_SIZE to
 *		  GFS_MAX_CHUNK bytes, about 1 KB on average; the last may
 *		  be shorter than CDC_MIN_SIZE.
 *
 * An empty stream has no chunks.  Short reads (pipes, terminals) are
 * gathered, and boundaries never depend on how the input arrives: a
 * pipe written in odd pieces and a regular file give the same chunks.
 *
 * The boundaries of a mode are part of the dedup contract: a mode's name
 * is recorded with each file version, and the same bytes must give the
 * same chunks forever, on every platform.
 */
#ifndef GFS_CHUNKER_H
#define GFS_CHUNKER_H

#include <stddef.h>

#include "limits.h"

enum {
	CHUNK_FIXED,
	CHUNK_CDC
};

#define CDC_MIN_SIZE	256		/* no cut before this many bytes */
#define CDC_AVG_SIZE	1024		/* the mean it aims at */
#define CHUNKER_BUFSIZE	(4 * GFS_MAX_CHUNK) /* read-ahead of CHUNK_CDC */

struct chunker {
	int		fd;
	int		mode;
	int		eof;		/* read() returned 0 */
	size_t		off, len;	/* unchunked bytes: buf[off..len) */
	unsigned char	buf[CHUNKER_BUFSIZE];
};

/*
 * Set up c to chunk fd in mode (CHUNK_FIXED or CHUNK_CDC).  No memory is
 * allocated and there is nothing to release; the caller owns fd.
 */
void	chunker_init(struct chunker *, int fd, int mode);
/*
 * Read the next chunk into buf, which has room for GFS_MAX_CHUNK bytes.
 * Returns its length, 0 at the end of the stream (and again after it),
 * GFS_EIO on a read error, GFS_EINVAL for an unknown mode.  In CHUNK_CDC
 * mode eof may be set while chunks are still buffered: read until 0.
 */
int	chunker_next(struct chunker *, unsigned char *buf);

/* "fixed" or "cdc", the name on the wire and in the leader; NULL if unknown. */
const char	*chunking_name(int mode);
/* The mode of a name of chunking_name(), or -1. */
int		 chunking_parse(const char *);

#endif
