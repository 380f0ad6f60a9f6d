/*
 * Fixed-size chunking of a stream: every chunk is GFS_CHUNK_SIZE bytes
 * but the last, which may be shorter; an empty stream has no chunks.
 * Short reads (pipes, terminals) are gathered into full chunks.
 */
#ifndef GFS_CHUNKER_H
#define GFS_CHUNKER_H

#include <stddef.h>

struct chunker {
	int	fd;
	int	eof;
};

void	chunker_init(struct chunker *, int fd);
/*
 * Read the next chunk into buf (GFS_CHUNK_SIZE bytes).  Returns its
 * length, 0 at the end of the stream, GFS_EIO on a read error.
 */
int	chunker_next(struct chunker *, unsigned char *buf);

#endif
