#ifndef GFS_CHUNKD_H
#define GFS_CHUNKD_H

#include <pthread.h>
#include <stdint.h>

#include "gfs.h"
#include "segment.h"
#include "server.h"

struct txn;

/*
 * Three threads share this: the event loop (everything), the repair
 * thread (repair.c) and the compaction thread (compact.c).  lock guards
 * st and every field from epoch down; the rest belongs to the event
 * loop, or is set before the other threads start and only read after.
 * Nobody holds lock across network I/O.
 */
struct chunkd {
	struct server	 srv;
	char		 id[GFS_MAX_ID + 1];
	char		 addr[64];	/* what we announce: HOST:PORT */
	char		 leader[64];
	uint64_t	 pending_ttl_ms;
	uint64_t	 hello_ms;
	uint64_t	 repair_ms;	/* --repair-interval */
	uint64_t	 scrub_ms;	/* --scrub-interval */
	uint64_t	 repair_rate;	/* --repair-rate, bytes per second */
	uint64_t	 compact_ms;	/* --compact-interval, 0: never */
	unsigned	 compact_pct;	/* --compact-threshold */
	uint64_t	 started_ms;
	struct txn	*txns;
	uint64_t	 pending_bytes;
	uint64_t	 pending_chunks;
	uint64_t	 expired;
	int		 registered;
	uint64_t	 gc_deleted;	/* chunks DELETE_BATCH removed */
	uint64_t	 gc_kept;	/* named, but committed after the round */
	uint64_t	 gc_stale;	/* DELETE_BATCH rounds refused */

	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* epoch moved on, or stopping */
	struct store	 st;
	uint64_t	 epoch;		/* from the last HELLO reply */
	int		 stopping;
	uint64_t	 repair_copied;	/* chunks copied to their owners */
	uint64_t	 repair_dropped; /* chunks given up to their owners */
	uint64_t	 repair_passes;
	uint64_t	 repair_epoch;	/* ring epoch of the last pass */
	int		 repair_active;
	uint64_t	 scrub_passes;
	uint64_t	 scrub_bad;	/* damaged chunks the scrub dropped */
	uint64_t	 scrub_fixed;	/* good copies fetched back for them */
};

extern struct chunkd	*cd;
extern const struct cmd	 chunk_cmds[];

void	txn_expire(uint64_t now);
void	txn_free_all(void);
void	chunk_sync(struct server *);
void	hello_start(void);
void	hello_stop(void);
void	repair_init(void);
void	repair_start(void);
void	repair_stop(void);
void	compact_start(void);
void	compact_stop(void);

/* gcfence.c: which chunks a deletion round may take. */
void	gc_hello(uint64_t leader_seq);
void	gc_note(const uint8_t hash[GFS_HASH_LEN], uint64_t tag);
/* 0: round s may go ahead; -1: refuse it (stale). */
int	gc_round(uint64_t s);
int	gc_keep(const uint8_t hash[GFS_HASH_LEN], uint64_t s);
/* The tag noted for a chunk, 0 if none: repair passes it on. */
uint64_t gc_tag(const uint8_t hash[GFS_HASH_LEN]);
/* The highest round accepted (and so carried out). */
uint64_t gc_seq(void);
/*
 * The rounds up to this one are done with here, as far as a repair's
 * copy goes: carried out, or refused (below the floor) and so still
 * queued at the leader, to be carried out everywhere in a later round.
 */
uint64_t gc_asof(void);
void	gc_free(void);

#define CD_LOCK()	pthread_mutex_lock(&cd->lock)
#define CD_UNLOCK()	pthread_mutex_unlock(&cd->lock)

#endif
