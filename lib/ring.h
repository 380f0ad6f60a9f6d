/*
 * The consistent-hash ring.  Each server has tokens, 64-bit positions
 * the leader chose when it first joined (ring_assign) and keeps for
 * good; a chunk's position is the first 8 bytes of its hash; its owner
 * is the server of the first token at or after the position, its
 * replicas the next distinct servers clockwise.  Removed servers stay
 * listed (for status) but their tokens are not on the ring.
 */
#ifndef GFS_RING_H
#define GFS_RING_H

#include <stdint.h>

#include "gfs.h"

enum server_state {
	SRV_HEALTHY = 0,	/* answers health checks */
	SRV_UNHEALTHY,		/* missed 1 to remove-after - 1 checks */
	SRV_REMOVED,		/* off the ring */
};

struct ring_server {
	char		 id[GFS_MAX_ID + 1];
	char		 addr[64];
	int		 state;
	uint32_t	 misses;	/* consecutive missed health checks */
	uint64_t	 seen_ms;	/* milliseconds since last answer */
	uint32_t	 ntokens;
	uint64_t	*tokens;
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
/* Add a server with its tokens (copied); returns its index. */
int		 ring_add_server(struct ring *, const char *id, const char *addr,
		    int state, uint32_t ntokens, const uint64_t *tokens);
/* Add a healthy server whose tokens are ring_token(id, 0..ntokens-1). */
int		 ring_add(struct ring *, const char *id, const char *addr,
		    uint32_t ntokens);
/* Sort the tokens of servers not removed; call after the last add. */
void		 ring_build(struct ring *);
/* First 8 bytes of SHA-256("ID#i"). */
uint64_t	 ring_token(const char *id, uint32_t i);
/*
 * Choose ntokens tokens for a server joining built ring r so that it
 * takes 1/(active servers + 1) of the ring, taken from the servers
 * with the largest shares first.  An empty ring gets ring_token(id, i).
 */
void		 ring_assign(const struct ring *, const char *id,
		    uint32_t ntokens, uint64_t *out);
int		 ring_active(const struct ring *);
int		 ring_same_tokens(const struct ring *, const struct ring *);
int		 ring_same_placement(const struct ring *, const struct ring *);
const char	*ring_state_name(int state);
int		 ring_state_parse(const char *);
/*
 * Up to max distinct servers for position pos, owner first, clockwise.
 * Returns how many were written to out.
 */
int		 ring_lookup(const struct ring *, uint64_t pos, int *out, int max);
/* Each server's share of the ring, in [0, 1]; shares has nservers slots. */
void		 ring_shares(const struct ring *, double *shares);

#endif
