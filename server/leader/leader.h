#ifndef GFS_LEADER_H
#define GFS_LEADER_H

#include <stdint.h>

#include "gfs.h"
#include "ring.h"
#include "server.h"

struct lpending {
	struct lpending	*next;
	char		 txid[GFS_MAX_TXID + 1];
	uint64_t	 deadline;
};

struct leader {
	struct server	 srv;
	int		 replicas;
	uint32_t	 tokens;
	uint64_t	 pending_ttl_ms;
	uint64_t	 started_ms;
	uint64_t	 health_ms;	/* --health-interval */
	uint32_t	 remove_after;	/* --remove-after misses */
	struct ring	*ring;		/* every server ever seen, and epoch */
	uint64_t	*last_seen;	/* per server, monotonic ms */
	struct lpending	*pending;
	uint64_t	 npending;
	uint64_t	 expired;
};

extern struct leader	*ld;
extern const struct cmd	 leader_cmds[];

int	leader_load(void);

/* member.c: chunk servers, their tokens and health. */
int	member_load(void);
int	member_hello(const char *id, const char *addr);
void	member_health_start(void);
void	member_health_stop(void);
void	member_free(void);
void	pending_track(const char *txid, uint64_t deadline);
void	pending_untrack(const char *txid);
void	pending_expire(uint64_t now);
void	pending_free_all(void);

#endif
