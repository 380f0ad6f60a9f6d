/*
 * Fixed 1 KB chunks.
 */
#include <errno.h>
#include <unistd.h>

#include "chunker.h"
#include "gfs.h"

void
chunker_init(struct chunker *c, int fd)
{
	c->fd = fd;
	c->eof = 0;
}

int
chunker_next(struct chunker *c, unsigned char *buf)
{
	size_t	have = 0;

	while (!c->eof && have < GFS_CHUNK_SIZE) {
		ssize_t n = read(c->fd, buf + have, GFS_CHUNK_SIZE - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return GFS_EIO;
		}
		if (n == 0)
			c->eof = 1;
		have += (size_t)n;
	}
	return (int)have;
}
