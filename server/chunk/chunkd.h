#ifndef GFS_CHUNKD_H
#define GFS_CHUNKD_H

#include <stdint.h>

#include "gfs.h"
#include "segment.h"
#include "server.h"

struct txn;

struct chunkd {
	struct server	 srv;
	struct store	 st;
	char		 id[GFS_MAX_ID + 1];
	char		 addr[64];	/* what we announce: HOST:PORT */
	char		 leader[64];
	uint64_t	 pending_ttl_ms;
	uint64_t	 hello_ms;
	uint64_t	 started_ms;
	struct txn	*txns;
	uint64_t	 pending_bytes;
	uint64_t	 pending_chunks;
	uint64_t	 expired;
	int		 registered;
	uint64_t	 epoch;
};

extern struct chunkd	*cd;
extern const struct cmd	 chunk_cmds[];

void	txn_expire(uint64_t now);
void	txn_free_all(void);
void	hello_start(void);
void	hello_stop(void);

#endif
