#ifndef GFS_LEADER_H
#define GFS_LEADER_H

#include <stdint.h>

#include <event2/bufferevent.h>

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
	uint32_t	 keep_versions;	/* --keep-versions, 0: all */
	int		 chunking;	/* --chunking: what clients use */
	uint64_t	 trash_ttl_ms;	/* --trash-ttl */
	uint64_t	 gc_ms;		/* --gc-interval */
	uint64_t	 gc_rounds;	/* DELETE_BATCH rounds finished */
	uint64_t	 gc_deleted;	/* chunks gone from every server */
	uint64_t	 gc_failed;	/* rounds a server did not finish */
};

extern struct leader	*ld;
extern const struct cmd	 leader_cmds[];

int	leader_load(void);
void	leader_dirty(void);
void	leader_sync(struct server *);
void	leader_pass_begin(struct server *);
void	leader_pass_end(struct server *);

/* member.c: chunk servers, their tokens and health. */
int	member_load(void);
int	member_hello(const char *id, const char *addr);
void	member_health_start(void);
void	member_health_stop(void);
void	member_free(void);
struct bufferevent *leader_connect(const char *addr, uint64_t timeout_ms,
	    bufferevent_data_cb, bufferevent_event_cb, void *arg);
/* gc.c: trash expiry and deletion of unreferenced chunks. */
void	gc_start(void);
void	gc_stop(void);
void	gc_soon(void);

void	pending_track(const char *txid, uint64_t deadline);
void	pending_untrack(const char *txid);
void	pending_expire(uint64_t now);
void	pending_free_all(void);

#endif
