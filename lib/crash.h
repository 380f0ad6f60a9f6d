/*
 * Named crash points.  GFS_CRASH=NAME[:N] makes the N-th (default
 * first) pass through CRASH_POINT(NAME) call _exit(99), or raise
 * SIGSTOP when GFS_CRASH_STOP is set.  Free when unused: one branch on
 * a pointer that is NULL unless configured.
 *
 * Every crash point, so that a test can iterate over them:
 *   client.put.after_chunks    chunks PUT_PENDING on chunk servers
 *   client.put.after_pending   pending mapping at the leader
 *   client.put.after_commit    chunk servers committed, leader not yet
 *   client.putr.after_batch    put -r worker: a batch pending, chunks committed
 *   client.putr.before_commit  put -r: every worker done, COMMIT_GROUP not sent
 *   client.getr.after_window   get -r worker: a window of files written
 *   chunk.commit.after_append  records written, before fdatasync
 *   chunk.commit.after_sync    durable, before the reply
 *   chunk.compact.after_copy   records copied, before fdatasync
 *   chunk.compact.after_sync   copies durable, before the index moves
 *   chunk.compact.after_unlink old segment gone, before forgetting it
 *   leader.pending.after_txn   pending mapping committed, before reply
 *   leader.commit.after_txn    version committed, before the reply
 *   leader.gc.after_take       GC round numbered, no DELETE_BATCH sent
 *   leader.gc.before_done      chunks deleted, gc.db not told yet
 */
#ifndef GFS_CRASH_H
#define GFS_CRASH_H

extern const char	*crash_spec;	/* NULL unless GFS_CRASH is set */

void	crash_init(void);
void	crash_hit(const char *name);

#define CRASH_POINT(name) do {			\
	if (crash_spec != NULL)			\
		crash_hit(name);		\
} while (0)

#endif
