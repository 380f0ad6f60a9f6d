/*
 * Compaction: get back the space of deleted chunks, in a thread of its
 * own so that the event loop keeps serving and a long repair pass does
 * not hold it up.
 *
 * Every --compact-interval the thread looks at the sealed segments
 * (every one but the active one), lowest first, and compacts each whose
 * garbage is over --compact-threshold percent of the file.  Garbage is
 * what the index does not point to: records of deleted chunks, older
 * copies, records that fail their CRC, and tombstones that may go
 * (below).  segment.c keeps, per segment, the bytes of the records the
 * index points to and of its tombstones, up to date on every append,
 * delete, drop and compaction, and rebuilt by the start-up scan; STATS
 * shows the sum as "garbage".
 *
 * Compacting segment S (store_compact): read S a step at a time (256
 * KB, less for small segments) without the lock, since S is sealed and
 * nobody else writes or closes it; then, with cd->lock held for that
 * step only:
 *   1. keep each chunk record the index points to at its place in S,
 *      and each tombstone still needed (below);
 *   2. append them to the active segment, rolling to a new one when it
 *      is full (crash point chunk.compact.after_copy);
 *   3. fdatasync (chunk.compact.after_sync);
 *   4. point the index entries at the copies, in place.
 * Reads go through the index under the lock, so they find the old
 * record or its durable copy, never a hole.  Entries change in place
 * and never move, so the repair thread's store_scan cursor stays good.
 * A chunk deleted between steps is no longer indexed in S and is not
 * copied; one put again goes after its tombstone.  When every record of
 * S has been looked at, S's file is unlinked and the directory fsynced
 * (chunk.compact.after_unlink); only then does the store forget S.
 *
 * A kill at any moment loses nothing.  Until the unlink S is whole; the
 * start-up scan indexes the last record of a chunk it meets, so a
 * durable copy wins, or S's record when the copy was torn off the tail
 * of the active segment like any torn write.  After the unlink, every
 * copy is durable.
 *
 * Tombstones.  Dropping one too early brings a deleted chunk back on
 * restart (a leak); one that outlives its purpose must not take out the
 * chunk when it is put again (a loss).  So a tombstone covers a range
 * of segments, lo to hi, and takes out an indexed record only there:
 *   - store_delete writes hi = the segment it goes to, and lo = the
 *     segment of the record indexed, or lower: an older copy of it may
 *     still be in a segment whose compaction stopped half way (its
 *     "moved" flag; the start-up scan sets it too when a later copy
 *     replaces a record).  Every record of the deleted chunk is in lo
 *     to hi: copies only ever go to newer segments.
 *   - Compacting the segment n a tombstone is in, the records it covers
 *     in n go with n, so it needs to cover lo to min(hi, n - 1) only.
 *     If no segment in that range is left, it is dropped.  Else it is
 *     carried, with that range, to the active segment: it lands after
 *     a record of the chunk put again later (which is in hi or above),
 *     but does not touch it, being out of its range.
 *   - Segment n's records before the tombstone, if n outlives the copy
 *     (a kill after the fdatasync), are still taken out by the original
 *     in n.
 * A segment's tombstones count as garbage when none of the segments
 * they cover, as a whole, is left; else they would only be carried
 * on, and a segment of them is not copied over and over.  Compacting
 * the lowest segments first lets them go.
 *
 * A record that fails its CRC is never copied (a new CRC would bless
 * bad bytes): it is dropped from the index and counted corrupt, and the
 * other owners' repair brings the chunk back.  A segment that cannot be
 * parsed is left alone until the next start.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "banned.h"
#include "chunkd.h"
#include "client.h"
#include "log.h"

static pthread_t	compact_thread;
static pthread_cond_t	compact_wake;	/* stopping; with cd->lock */
static int		compact_running;
static int		compact_stopping;

static void *
compact_main(void *arg)
{
	struct timespec	ts;
	uint64_t	before, t0;
	uint32_t	n;
	int		rc, stop;

	(void)arg;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(cd->compact_ms / 1000);
		ts.tv_nsec += (long)(cd->compact_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		CD_LOCK();
		while (!compact_stopping && pthread_cond_timedwait(&compact_wake,
		    &cd->lock, &ts) != ETIMEDOUT)
			;
		CD_UNLOCK();
		for (;;) {
			CD_LOCK();
			stop = compact_stopping;
			n = stop ? 0 : store_compact_pick(&cd->st,
			    cd->compact_pct);
			before = cd->st.compacted;
			CD_UNLOCK();
			if (n == 0)
				break;
			t0 = now_ms();
			rc = store_compact(&cd->st, n, &cd->lock,
			    &compact_stopping);
			if (rc != 0)
				break;	/* stopped, or tried again next time */
			CD_LOCK();
			log_info("compacted segment %u: %llu bytes back, %.1f s",
			    n, (unsigned long long)(cd->st.compacted - before),
			    (double)(now_ms() - t0) / 1000);
			CD_UNLOCK();
		}
		if (stop)
			break;
	}
	return NULL;
}

void
compact_start(void)
{
	pthread_condattr_t	ca;
	sigset_t		all, old;
	int			rc;

	if (cd->compact_ms == 0)
		return;
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&compact_wake, &ca) != 0)
		fatalx("cannot make the compaction condition");
	pthread_condattr_destroy(&ca);
	/* Signals are the event loop's: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&compact_thread, NULL, compact_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		fatal("cannot start the compaction thread");
	}
	compact_running = 1;
}

void
compact_stop(void)
{
	if (!compact_running)
		return;
	CD_LOCK();
	compact_stopping = 1;
	pthread_cond_broadcast(&compact_wake);
	CD_UNLOCK();
	pthread_join(compact_thread, NULL);
	pthread_cond_destroy(&compact_wake);
	compact_running = 0;
}
