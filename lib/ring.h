/*
 * The consistent-hash ring.  Token i of server ID sits at the first
 * 8 bytes of SHA-256("ID#i"); a chunk's position is the first 8 bytes of
 * its hash; its owner is the server of the first token at or after the
 * position, its replicas the next distinct servers clockwise.
 */
#ifndef GFS_RING_H
#define GFS_RING_H

#include <stdint.h>

#include "gfs.h"

struct ring_server {
	char		id[GFS_MAX_ID + 1];
	char		addr[64];
	uint32_t	ntokens;
};

struct ring_token {
	uint64_t	pos;
	uint32_t	server;
};

struct ring {
	uint64_t		 epoch;
	int			 replicas;
	int			 nservers;
	struct ring_server	*servers;
	size_t			 ntokens;
	struct ring_token	*tokens;
};

struct ring	*ring_new(uint64_t epoch, int replicas);
void		 ring_free(struct ring *);
/* Returns the server's index. */
int		 ring_add(struct ring *, const char *id, const char *addr,
		    uint32_t ntokens);
/* Derive and sort the tokens; call after the last ring_add. */
void		 ring_build(struct ring *);
uint64_t	 ring_token(const char *id, uint32_t i);
/*
 * Up to max distinct servers for position pos, owner first, clockwise.
 * Returns how many were written to out.
 */
int		 ring_lookup(const struct ring *, uint64_t pos, int *out, int max);
/* Each server's share of the ring, in [0, 1]; shares has nservers slots. */
void		 ring_shares(const struct ring *, double *shares);

#endif
