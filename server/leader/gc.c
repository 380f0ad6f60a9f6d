/*
 * Garbage collection: trash expiry and deletion of chunks nothing
 * refers to any more (DESIGN.md invariant 4).
 *
 * Every --gc-interval (and soon after a purge or prune) a round:
 *   1. trash entries older than --trash-ttl are purged, which drops
 *      their references (db.c);
 *   2. up to GC_MAX hashes of gc.db, the chunks whose reference count
 *      reached 0, are taken under a new GC sequence number, durably;
 *   3. every chunk server not removed gets DELETE_BATCH <seq> <hash>...
 *      (with nothing to delete, DELETE_BATCH <seq> alone under the last
 *      number: it lets the servers forget what older rounds needed);
 *   4. when every server answered OK to every line, the hashes leave
 *      gc.db.  Otherwise they stay and the next round sends them again
 *      under a new number.
 *
 * The race with a put of the same bytes: a put's PUT_PENDING at the
 * leader takes a reference (and takes the hash out of gc.db) and gets
 * back the last sequence number handed out, which its COMMIT on the
 * chunk servers carries.  A chunk server never deletes a chunk that a
 * COMMIT with a number at or above the DELETE_BATCH's committed, and
 * refuses (ERROR STALE) a DELETE_BATCH older than one it has seen.  A
 * deletion decided before the put's reference was taken therefore
 * cannot remove what the put committed; one decided after it cannot
 * name the chunk at all.  A put's chunks still only held pending on a
 * server are not touched by a deletion, and its COMMIT writes them
 * again if a deletion numbered at or below its number removed an older
 * copy meanwhile.  A round numbered above it that names them was
 * decided after the put's references were gone (its mapping expired):
 * the COMMIT leaves those out, or they would stay for good.
 *
 * A server that was removed from the ring gets no DELETE_BATCH: chunks
 * it still holds are not collected if it comes back (a leak, never a
 * loss).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "banned.h"
#include "client.h"
#include "crash.h"
#include "db.h"
#include "leader.h"
#include "proto.h"
#include "xmalloc.h"

#define GC_MAX		(GFS_MAX_BATCH * 8)	/* chunks a round */
#define GC_TIMEOUT_MS	5000
#define GC_EXPIRE_MAX	1000			/* trash entries a round */

struct gcconn {
	struct bufferevent	*bev;
	char			 addr[64];
	int			 owed;		/* reply lines not read */
	uint64_t		 deleted;
};

static struct event	*gc_timer, *gc_kick;
static struct gcconn	*conns;
static int		 nconns, open_conns;
static int		 round_on, round_failed, again;
static uint8_t		 hashes[GC_MAX][GFS_HASH_LEN];
static int		 nhashes;
static uint64_t		 seq;

static void	gc_round(void);

static void
conns_free(void)
{
	int i;

	for (i = 0; i < nconns; i++)
		if (conns[i].bev)
			bufferevent_free(conns[i].bev);
	free(conns);
	conns = NULL;
	nconns = 0;
}

static void
round_end(void)
{
	conns_free();
	round_on = 0;
	ld->gc_rounds++;
	if (round_failed) {
		ld->gc_failed++;
		return;
	}
	if (nhashes > 0) {
		CRASH_POINT("leader.gc.before_done");
		if (db_gc_done((const uint8_t (*)[GFS_HASH_LEN])hashes,
		    nhashes, seq) < 0)
			return;
		ld->gc_deleted += (uint64_t)nhashes;
		log_info("gc: %d unreferenced chunks deleted (sequence %llu)",
		    nhashes, (unsigned long long)seq);
	}
	if (nhashes == GC_MAX || again) {
		again = 0;
		gc_soon();
	}
}

static void
conn_done(struct gcconn *gc, int ok)
{
	if (!ok) {
		round_failed = 1;
		log_info("gc: chunk server %s did not finish sequence %llu; "
		    "next round sends it again", gc->addr,
		    (unsigned long long)seq);
	}
	if (gc->bev) {
		bufferevent_free(gc->bev);
		gc->bev = NULL;
	}
	if (--open_conns == 0)
		round_end();
}

static void
gc_read_cb(struct bufferevent *bev, void *arg)
{
	struct gcconn	*gc = &conns[(intptr_t)arg];
	char		*line;
	size_t		 n;
	uint64_t	 k;
	int		 ok;

	while (gc->owed > 0 && (line = evbuffer_readln(
	    bufferevent_get_input(bev), &n, EVBUFFER_EOL_CRLF)) != NULL) {
		ok = strncmp(line, "OK ", 3) == 0 &&
		    parse_u64(line + 3, 0, GFS_MAX_BATCH, &k) == 0;
		if (!ok)
			log_warnx("gc: chunk server %s: '%.80s'", gc->addr, line);
		free(line);
		if (!ok) {
			conn_done(gc, 0);
			return;
		}
		gc->deleted += k;
		if (--gc->owed == 0) {
			conn_done(gc, 1);
			return;
		}
	}
}

static void
gc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	conn_done(&conns[(intptr_t)arg], 0);
}

/* Send this round's lines to chunk server s. */
static void
round_send(int i, const struct ring_server *rs)
{
	struct gcconn	*gc = &conns[i];
	struct evbuffer	*out;
	char		 hex[GFS_HEX_LEN + 1];
	int		 k;

	snprintf(gc->addr, sizeof(gc->addr), "%s", rs->addr);
	gc->bev = leader_connect(rs->addr, GC_TIMEOUT_MS, gc_read_cb,
	    gc_event_cb, (void *)(intptr_t)i);
	if (gc->bev == NULL) {
		round_failed = 1;
		return;
	}
	open_conns++;
	out = bufferevent_get_output(gc->bev);
	for (k = 0; k == 0 || k < nhashes; k += GFS_MAX_BATCH) {
		int j, end = k + GFS_MAX_BATCH < nhashes ? k + GFS_MAX_BATCH :
		    nhashes;

		evbuffer_add_printf(out, "DELETE_BATCH %llu",
		    (unsigned long long)seq);
		for (j = k; j < end; j++) {
			hash_hex(hashes[j], hex);
			evbuffer_add_printf(out, " %s", hex);
		}
		evbuffer_add(out, "\r\n", 2);
		gc->owed++;
	}
}

static void
gc_round(void)
{
	struct ring	*r = ld->ring;
	uint64_t	 cutoff, wall = (uint64_t)time(NULL) * 1000;
	int		 i, n;

	if (round_on) {
		again = 1;
		return;
	}
	cutoff = wall > ld->trash_ttl_ms ? (wall - ld->trash_ttl_ms) / 1000 : 0;
	if ((n = db_trash_expire(cutoff, GC_EXPIRE_MAX)) > 0)
		log_info("gc: %d trash entries past --trash-ttl purged", n);
	if ((nhashes = db_gc_take(hashes, GC_MAX, &seq)) < 0) {
		nhashes = 0;
		return;
	}
	if (nhashes == 0 && seq == 0)
		return;		/* nothing ever deleted: nothing to fence */
	/* The round's number is durable before any server hears of it. */
	server_sync_now(&ld->srv);
	if (nhashes > 0)
		CRASH_POINT("leader.gc.after_take");
	round_on = 1;
	round_failed = 0;
	open_conns = 0;
	nconns = r->nservers;
	conns = xcalloc((size_t)nconns + 1, sizeof(*conns));
	for (i = 0; i < r->nservers; i++)
		if (r->servers[i].state != SRV_REMOVED)
			round_send(i, &r->servers[i]);
	if (open_conns == 0)
		round_end();
}

static void
gc_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	gc_round();
}

void
gc_soon(void)
{
	struct timeval tv = { 0, 1000 };

	if (gc_kick)
		event_add(gc_kick, &tv);
}

void
gc_start(void)
{
	struct timeval tv = { (time_t)(ld->gc_ms / 1000),
	    (suseconds_t)(ld->gc_ms % 1000) * 1000 };

	gc_timer = event_new(ld->srv.base, -1, EV_PERSIST, gc_tick, NULL);
	event_add(gc_timer, &tv);
	gc_kick = evtimer_new(ld->srv.base, gc_tick, NULL);
}

void
gc_stop(void)
{
	if (gc_timer)
		event_free(gc_timer);
	if (gc_kick)
		event_free(gc_kick);
	gc_timer = gc_kick = NULL;
	conns_free();
}
