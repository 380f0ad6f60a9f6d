#ifndef GFS_LEADER_H
#define GFS_LEADER_H

#include <stdint.h>

#include "gfs.h"
#include "server.h"

struct lserver {
	char		id[GFS_MAX_ID + 1];
	char		addr[64];
	uint32_t	ntokens;
};

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
	uint64_t	 epoch;
	struct lserver	 servers[GFS_MAX_SERVERS];
	int		 nservers;
	struct lpending	*pending;
	uint64_t	 npending;
	uint64_t	 expired;
};

extern struct leader	*ld;
extern const struct cmd	 leader_cmds[];

int	leader_load(void);
void	pending_track(const char *txid, uint64_t deadline);
void	pending_untrack(const char *txid);
void	pending_expire(uint64_t now);
void	pending_free_all(void);

#endif
