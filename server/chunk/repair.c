/*
 * Self-repair and scrubbing, in a thread of their own so that the event
 * loop keeps serving clients; the leader only hands out the ring.
 *
 * Repair: a second after start, whenever the ring epoch moves on
 * (hello.c learns it from each HELLO reply) and at least every
 * --repair-interval, a pass walks every chunk this server holds,
 * REPAIR_SLICE (4096) at a time, on a ring fetched for it.  A
 * chunk's owners are the first `replicas` servers of ring_lookup() at
 * its position.  Each other owner is asked HAS_BATCH which of them it
 * has, and gets the ones it lacks with PUT_PENDING and COMMIT (durable
 * on the target before its OK).  A chunk this server does not own is
 * then dropped (a tombstone), but only when the ring is full, every
 * owner is healthy and confirms with a second HAS_BATCH that it has the
 * chunk, and the ring fetched again just before has the epoch the slice
 * was planned with: two servers with different views of the ring never
 * both give a chunk away.  A pass runs only while this server is
 * healthy in the ring.
 *
 * Scrub: every --scrub-interval a pass reads every chunk and checks its
 * CRC and its SHA-256.  A damaged one is dropped (store_drop) and a good
 * copy fetched with GET_BATCH from the other owners, then the next
 * servers on the ring, checked, and appended again.  A record found
 * damaged at start-up is never indexed; the other owners' repair puts
 * it back.
 *
 * The two passes take turns a slice at a time and share one token
 * bucket of --repair-rate bytes a second.  Every peer connection first
 * checks with PING that the server at that address has the id the ring
 * says, since a wiped server comes back at the same address with a new
 * id.  cd->lock guards the store and the counters in struct chunkd; it
 * is never held across network I/O.
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "banned.h"
#include "chunkd.h"
#include "client.h"
#include "hash.h"
#include "proto.h"
#include "ring.h"
#include "xmalloc.h"

#define REPAIR_SLICE		4096	/* chunks planned at once */
#define REPAIR_TIMEOUT_MS	3000	/* leader and peer exchanges */
#define REPAIR_SOON_MS		1000	/* first pass; retry of one not run */

/* A chunk server of the ring, as the repair thread talks to it. */
struct peer {
	char		id[GFS_MAX_ID + 1];
	char		addr[64];
	int		state;
	struct cconn	c;
	int		checked;	/* answered PING with its own id */
	int		down;		/* failed in this pass: left alone */
	int		failing;	/* failure logged, no success since */
};

/* One walk over the store. */
struct pass {
	int		on;
	size_t		cursor;
	uint64_t	started;
	uint64_t	chunks, copied, dropped, bad, fixed;
	int		again;	/* the ring moved on under it */
};

static pthread_t	 repair_thread;
static int		 repair_running;
static struct gfs	 g;		/* leader connection and ring */
static struct peer	*peers;		/* by ring server index */
static int		 npeers;
static int		 self = -1;	/* our index in g.ring, or -1 */
static struct pass	 rp, sp;	/* repair, scrub */
static double		 bucket;	/* bytes we may move right now */
static uint64_t		 bucket_ms;
static char		 txbase[17];
static uint64_t		 txseq;
static int		 leader_failed;	/* log once per outage */

/* The CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait. */
static struct timespec
deadline(uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/*
 * SHA-256 for this thread: hash_sha256() keeps one context for the
 * whole process, which the event loop uses.
 */
static void
chunk_hash(const uint8_t *buf, size_t len, uint8_t out[GFS_HASH_LEN])
{
	struct hash_ctx *h = hash_ctx_new();

	hash_ctx_update(h, buf, len);
	hash_ctx_final(h, out);
	hash_ctx_free(h);
}

/* Sleep ms, or less when stopping; -1 when stopping. */
static int
nap(uint64_t ms)
{
	struct timespec	ts = deadline(ms);
	int		stop;

	CD_LOCK();
	while (!cd->stopping &&
	    pthread_cond_timedwait(&cd->wake, &cd->lock, &ts) != ETIMEDOUT)
		;
	stop = cd->stopping;
	CD_UNLOCK();
	return stop ? -1 : 0;
}

/* Take n bytes from the bucket, waiting for them; -1 when stopping. */
static int
throttle(size_t n)
{
	double		rate = (double)cd->repair_rate, burst = rate / 10;
	uint64_t	now = now_ms();

	if (burst < 4 * GFS_CHUNK_SIZE)
		burst = 4 * GFS_CHUNK_SIZE;
	bucket += (double)(now - bucket_ms) * rate / 1000;
	bucket_ms = now;
	if (bucket > burst)
		bucket = burst;
	bucket -= (double)n;
	if (bucket >= 0)
		return 0;
	return nap((uint64_t)(-bucket * 1000 / rate) + 1);
}

static void
peer_reset(struct peer *p)
{
	cconn_close(&p->c);
	cconn_init(&p->c, p->addr, REPAIR_TIMEOUT_MS);
	p->checked = 0;
}

/* p failed: close, and leave it alone for the rest of the pass. */
static int
peer_fail(struct peer *p, const char *what)
{
	if (!p->failing)
		log_info("repair: chunk server %s at %s: %s: %s", p->id,
		    p->addr, what, p->c.errmsg[0] ? p->c.errmsg : "bad reply");
	p->failing = 1;
	p->down = 1;
	peer_reset(p);
	return -1;
}

/* Connected to the server the ring names, or -1. */
static int
peer_ready(struct peer *p)
{
	char	*line, c;
	ssize_t	 n;

	if (p->down)
		return -1;
	/*
	 * Every reply on a kept connection has been read, so anything
	 * readable now is the server closing it: it restarted, say.
	 */
	if (p->checked && p->c.fd >= 0 && p->c.in.len == p->c.consumed) {
		n = recv(p->c.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			peer_reset(p);
	}
	if (p->checked)
		return 0;
	cconn_printf(&p->c, "PING\r\n");
	if (cconn_reply(&p->c, &line) < 0)
		return peer_fail(p, "PING");
	if (strncmp(line, "PONG ", 5) != 0 || strcmp(line + 5, p->id) != 0) {
		snprintf(p->c.errmsg, sizeof(p->c.errmsg), "answers as '%.64s'",
		    strncmp(line, "PONG ", 5) == 0 ? line + 5 : line);
		return peer_fail(p, "PING");
	}
	if (p->failing)
		log_info("repair: chunk server %s at %s answers again", p->id,
		    p->addr);
	p->failing = 0;
	p->checked = 1;
	return 0;
}

/* Use the ring g holds: keep connections to servers that stayed. */
static void
peers_update(void)
{
	struct ring	*r = g.ring;
	struct peer	*np = xcalloc((size_t)r->nservers + 1, sizeof(*np));
	int		 i, j;

	self = -1;
	for (i = 0; i < r->nservers; i++) {
		struct peer *p = &np[i];

		snprintf(p->id, sizeof(p->id), "%s", r->servers[i].id);
		snprintf(p->addr, sizeof(p->addr), "%s", r->servers[i].addr);
		p->state = r->servers[i].state;
		if (strcmp(p->id, cd->id) == 0)
			self = i;
		for (j = 0; j < npeers; j++)
			if (strcmp(peers[j].id, p->id) == 0 &&
			    strcmp(peers[j].addr, p->addr) == 0)
				break;
		if (j == npeers) {
			cconn_init(&p->c, p->addr, REPAIR_TIMEOUT_MS);
			continue;
		}
		p->c = peers[j].c;		/* moved: detach the old one */
		cconn_init(&peers[j].c, "", 0);
		p->checked = peers[j].checked;
		p->down = peers[j].down && peers[j].state == p->state;
		p->failing = peers[j].failing;
	}
	for (j = 0; j < npeers; j++)
		cconn_close(&peers[j].c);
	free(peers);
	peers = np;
	npeers = r->nservers;
}

/* Fetch the ring again, whatever its epoch. */
static int
ring_fetch(void)
{
	int rc;

	rc = gfs_ring(&g, g.ring ? g.ring->epoch + 1 : 0);
	if (rc < 0) {
		if (!leader_failed)
			log_warnx("repair: cannot fetch the ring: %s", g.err);
		leader_failed = 1;
		cconn_close(&g.leader);
		cconn_init(&g.leader, cd->leader, REPAIR_TIMEOUT_MS);
		return rc;
	}
	if (leader_failed)
		log_info("repair: ring epoch %llu from the leader again",
		    (unsigned long long)g.ring->epoch);
	leader_failed = 0;
	peers_update();
	return 0;
}

/* Owners of a chunk: the first `replicas` servers on the ring. */
static int
owners(const uint8_t hash[GFS_HASH_LEN], int *out)
{
	return ring_lookup(g.ring, hash_prefix(hash), out, g.ring->replicas);
}

/*
 * HAS_BATCH to p for hashes[idx[0..n)], GFS_MAX_BATCH to a line, every
 * line sent before the first reply is read: have[k] says whether p
 * holds hashes[idx[k]].  -1 when p failed.
 */
static int
peer_has(struct peer *p, uint8_t (*hashes)[GFS_HASH_LEN], const int *idx,
    int n, char *have)
{
	char	hex[GFS_HEX_LEN + 1], *line;
	uint8_t	h[GFS_HASH_LEN];
	int	k, b, end, pos;

	memset(have, 0, (size_t)n);
	if (n == 0)
		return 0;
	if (peer_ready(p) < 0)
		return -1;
	for (k = 0; k < n; k++) {
		hash_hex(hashes[idx[k]], hex);
		cconn_printf(&p->c, "%s%s", k % GFS_MAX_BATCH ? " " :
		    "HAS_BATCH ", hex);
		if (k % GFS_MAX_BATCH == GFS_MAX_BATCH - 1 || k == n - 1)
			cconn_printf(&p->c, "\r\n");
	}
	for (b = 0; b < n; b += GFS_MAX_BATCH) {
		end = b + GFS_MAX_BATCH < n ? b + GFS_MAX_BATCH : n;
		for (pos = b;;) {
			if (cconn_reply(&p->c, &line) < 0)
				return peer_fail(p, "HAS_BATCH");
			if (strcmp(line, "END") == 0)
				break;
			if (strncmp(line, "HAVE ", 5) != 0 ||
			    hash_parse(line + 5, h) < 0)
				return peer_fail(p, "HAS_BATCH");
			/* Replies come in request order. */
			while (pos < end &&
			    memcmp(hashes[idx[pos]], h, GFS_HASH_LEN) != 0)
				pos++;
			if (pos == end)
				return peer_fail(p, "HAS_BATCH");
			have[pos++] = 1;
		}
	}
	return 0;
}

/*
 * Copy hashes[idx[0..n)] to p under one transaction: PUT_PENDING each,
 * then COMMIT.  done[k] is set for each chunk p committed.  Returns how
 * many, or -1 when p failed or we are stopping.
 */
static int
peer_copy(struct peer *p, uint8_t (*hashes)[GFS_HASH_LEN], const int *idx,
    int n, char *done)
{
	static int	 sent[REPAIR_SLICE], stored[REPAIR_SLICE];
	uint8_t		 buf[GFS_MAX_CHUNK], got[GFS_HASH_LEN];
	char		 hex[GFS_HEX_LEN + 1], txid[GFS_MAX_TXID + 1], *line;
	int		 k, len, nsent = 0, count = 0, rc;
	uint64_t	 committed, tag = 0, t, asof;

	memset(done, 0, (size_t)n);
	if (n == 0)
		return 0;
	if (peer_ready(p) < 0)
		return -1;
	/*
	 * Rounds up to asof are carried out here (cmd.c does one under
	 * the lock): a chunk read from now on outlived them.
	 */
	CD_LOCK();
	asof = gc_asof();
	CD_UNLOCK();
	snprintf(txid, sizeof(txid), "repair-%s-%llu", txbase,
	    (unsigned long long)++txseq);
	for (k = 0; k < n && nsent < REPAIR_SLICE; k++) {
		CD_LOCK();
		len = store_read(&cd->st, hashes[idx[k]], buf);
		CD_UNLOCK();
		if (len < 0)
			continue;	/* deleted meanwhile, or the scrub's */
		chunk_hash(buf, (size_t)len, got);
		if (memcmp(got, hashes[idx[k]], GFS_HASH_LEN) != 0)
			continue;	/* damaged: the scrub's */
		if (throttle((size_t)len) < 0) {
			peer_reset(p);	/* drop what is buffered */
			return -1;
		}
		hash_hex(hashes[idx[k]], hex);
		cconn_printf(&p->c, "PUT_PENDING %s %s %d\r\n", txid, hex, len);
		cconn_write(&p->c, buf, (size_t)len);
		cconn_write(&p->c, "\r\n", 2);
		sent[nsent++] = k;
		if ((t = gc_tag(hashes[idx[k]])) > tag)
			tag = t;
		/* On the wire while the bucket refills, not all at the end. */
		if (nsent % GFS_MAX_BATCH == 0)
			(void)cconn_flush(&p->c);
	}
	if (nsent == 0)
		return 0;
	for (k = 0; k < nsent; k++) {
		rc = cconn_reply(&p->c, &line);
		stored[k] = rc == 0 && strcmp(line, "STORED") == 0;
		if (rc == GFS_ESERVER)	/* BUSY, say: the others go on */
			continue;
		if (!stored[k])
			return peer_fail(p, "PUT_PENDING");
	}
	/*
	 * COMMIT only now: sent with the others, its small reply would
	 * wait for our delayed ACK of the STOREDs (Nagle on the server).
	 */
	/* Kept here from a deletion round: so must the copy be there. */
	cconn_printf(&p->c, "COMMIT %s %llu %llu\r\n", txid,
	    (unsigned long long)tag, (unsigned long long)asof);
	rc = cconn_reply(&p->c, &line);
	if (rc == GFS_ENOENT)		/* nothing was stored */
		return 0;
	if (rc < 0 || strncmp(line, "OK ", 3) != 0 ||
	    parse_u64(line + 3, 0, REPAIR_SLICE, &committed) < 0)
		return peer_fail(p, "COMMIT");
	for (k = 0; k < nsent; k++)
		count += stored[k];
	/* Some left out (cmd_commit says why): a later pass looks again. */
	if (committed < (uint64_t)count)
		return 0;
	for (k = 0; k < nsent; k++)
		if (stored[k])
			done[sent[k]] = 1;
	return count;
}

/*
 * GET_BATCH one chunk from p into buf, checked against its hash.
 * Returns its length, GFS_ENOENT when p has no good copy, -1 when p
 * failed.
 */
static int
peer_get(struct peer *p, const uint8_t hash[GFS_HASH_LEN], uint8_t *buf)
{
	char		 hex[GFS_HEX_LEN + 1], *line, *argv[4];
	const uint8_t	*data;
	uint8_t		 got[GFS_HASH_LEN];
	uint64_t	 len;
	int		 ok;

	if (peer_ready(p) < 0)
		return -1;
	hash_hex(hash, hex);
	cconn_printf(&p->c, "GET_BATCH %s\r\n", hex);
	if (cconn_reply(&p->c, &line) < 0)
		return peer_fail(p, "GET_BATCH");
	if (strcmp(line, "END") == 0)
		return GFS_ENOENT;
	if (proto_split(line, argv, 4) != 3 || strcmp(argv[0], "VALUE") != 0 ||
	    strcmp(argv[1], hex) != 0 ||
	    parse_u64(argv[2], 0, GFS_MAX_CHUNK, &len) < 0 ||
	    cconn_read_block(&p->c, (size_t)len, &data) < 0)
		return peer_fail(p, "GET_BATCH");
	memcpy(buf, data, (size_t)len);
	if (cconn_read_line(&p->c, &line) < 0 || strcmp(line, "END") != 0)
		return peer_fail(p, "GET_BATCH");
	chunk_hash(buf, (size_t)len, got);
	ok = memcmp(got, hash, GFS_HASH_LEN) == 0;
	if (!ok)
		log_warnx("repair: chunk server %s sent a damaged copy of %s",
		    p->addr, hex);
	return ok ? (int)len : GFS_ENOENT;
}

/* The ring we hold lets this server repair: it is on it and healthy. */
static int
repair_allowed(void)
{
	return self >= 0 && g.ring->servers[self].state == SRV_HEALTHY;
}

/* Start a pass; 0 when the leader or the ring does not let us. */
static int
repair_begin(void)
{
	int i;

	if (ring_fetch() < 0)
		return 0;
	if (!repair_allowed()) {
		log_debug("repair: not healthy on ring epoch %llu: no pass",
		    (unsigned long long)g.ring->epoch);
		return 0;
	}
	memset(&rp, 0, sizeof(rp));
	rp.on = 1;
	rp.started = now_ms();
	for (i = 0; i < npeers; i++)
		if (peers[i].down || peers[i].c.err) {
			peers[i].down = 0;
			peer_reset(&peers[i]);
		}
	CD_LOCK();
	cd->repair_active = 1;
	cd->repair_epoch = g.ring->epoch;
	CD_UNLOCK();
	return 1;
}

static void
repair_end(int finished)
{
	rp.on = 0;
	CD_LOCK();
	cd->repair_active = 0;
	if (finished)
		cd->repair_passes++;
	CD_UNLOCK();
	if (!finished)
		log_info("repair: pass stopped: this server is not healthy on "
		    "ring epoch %llu", (unsigned long long)g.ring->epoch);
	else if (rp.copied || rp.dropped)
		log_info("repair: pass over %llu chunks on ring epoch %llu: "
		    "%llu copies made, %llu chunks handed over, %.1f s",
		    (unsigned long long)rp.chunks,
		    (unsigned long long)g.ring->epoch,
		    (unsigned long long)rp.copied,
		    (unsigned long long)rp.dropped,
		    (double)(now_ms() - rp.started) / 1000);
	else
		log_debug("repair: pass over %llu chunks on ring epoch %llu: "
		    "all in place, %.1f s", (unsigned long long)rp.chunks,
		    (unsigned long long)g.ring->epoch,
		    (double)(now_ms() - rp.started) / 1000);
}

/* The ring moved on during a pass: use it from now on. */
static void
repair_new_ring(void)
{
	rp.again = 1;
	CD_LOCK();
	cd->repair_epoch = g.ring->epoch;
	CD_UNLOCK();
	if (!repair_allowed())
		repair_end(0);
}

/* Hand over the chunks of cand[] that every owner confirms holding. */
static void
repair_drop(uint8_t (*hashes)[GFS_HASH_LEN], int own[][GFS_MAX_REPLICAS],
    const int *nown, int *cand, int ncand, uint64_t epoch)
{
	static int	 idx[REPAIR_SLICE], okc[REPAIR_SLICE];
	static char	 have[REPAIR_SLICE];
	uint8_t		(*gone)[GFS_HASH_LEN];
	int	 i, k, m, s, n = 0, rc;

	if (ring_fetch() < 0)
		return;
	if (g.ring->epoch != epoch) {
		repair_new_ring();
		return;
	}
	for (i = 0; i < ncand; i++)
		okc[i] = 1;
	for (s = 0; s < npeers; s++) {
		for (m = 0, i = 0; i < ncand; i++)
			for (k = 0; k < nown[cand[i]]; k++)
				if (own[cand[i]][k] == s)
					idx[m++] = cand[i];
		if (m == 0)
			continue;
		rc = peer_has(&peers[s], hashes, idx, m, have);
		for (k = 0, i = 0; i < ncand && k < m; i++)
			if (idx[k] == cand[i]) {
				if (rc < 0 || !have[k])
					okc[i] = 0;
				k++;
			}
	}
	gone = xreallocarray(NULL, (size_t)ncand + 1, GFS_HASH_LEN);
	for (i = 0; i < ncand; i++)
		if (okc[i])
			memcpy(gone[n++], hashes[cand[i]], GFS_HASH_LEN);
	if (n > 0) {
		CD_LOCK();
		rc = store_delete(&cd->st, (const uint8_t (*)[GFS_HASH_LEN])gone,
		    (size_t)n, 0);
		if (rc > 0)
			cd->repair_dropped += (uint64_t)rc;
		CD_UNLOCK();
		if (rc < 0)
			log_warnx("repair: cannot write tombstones");
		else
			rp.dropped += (uint64_t)rc;
	}
	free(gone);
}

/* One slice of a repair pass. */
static void
repair_slice(void)
{
	/* Static: one repair thread, and too big for its stack. */
	static uint8_t	hashes[REPAIR_SLICE][GFS_HASH_LEN];
	static int	own[REPAIR_SLICE][GFS_MAX_REPLICAS], nown[REPAIR_SLICE];
	static char	have[REPAIR_SLICE][GFS_MAX_REPLICAS];
	static char	res[REPAIR_SLICE], done[REPAIR_SLICE];
	static int	idx[REPAIR_SLICE], pos[REPAIR_SLICE], miss[REPAIR_SLICE];
	static int	list[REPAIR_SLICE], cand[REPAIR_SLICE];
	int		i, k, m, nmiss, s, n, ncand = 0, rc, mine;
	uint64_t	epoch = g.ring->epoch;

	CD_LOCK();
	n = (int)store_scan(&cd->st, &rp.cursor, hashes, REPAIR_SLICE);
	CD_UNLOCK();
	if (n == 0) {
		repair_end(1);
		return;
	}
	rp.chunks += (uint64_t)n;
	for (i = 0; i < n; i++) {
		nown[i] = owners(hashes[i], own[i]);
		memset(have[i], 0, sizeof(have[i]));
	}
	/* Per server: which of its chunks has it, then copy the rest. */
	for (s = 0; s < npeers; s++) {
		if (s == self)
			continue;
		for (m = 0, i = 0; i < n; i++)
			for (k = 0; k < nown[i]; k++)
				if (own[i][k] == s) {
					idx[m] = i;
					pos[m++] = k;
				}
		if (m == 0 || peer_has(&peers[s], hashes, idx, m, res) < 0)
			continue;
		for (nmiss = 0, k = 0; k < m; k++) {
			if (res[k])
				have[idx[k]][pos[k]] = 1;
			else
				miss[nmiss++] = k;
		}
		if (nmiss == 0)
			continue;
		for (k = 0; k < nmiss; k++)
			list[k] = idx[miss[k]];
		rc = peer_copy(&peers[s], hashes, list, nmiss, done);
		if (rc <= 0)
			continue;
		for (k = 0; k < nmiss; k++)
			if (done[k])
				have[idx[miss[k]]][pos[miss[k]]] = 1;
		rp.copied += (uint64_t)rc;
		CD_LOCK();
		cd->repair_copied += (uint64_t)rc;
		CD_UNLOCK();
	}
	/* What we do not own and every healthy owner has, we give up. */
	for (i = 0; i < n; i++) {
		if (nown[i] != g.ring->replicas)
			continue;
		for (mine = 0, k = 0; k < nown[i]; k++)
			if (own[i][k] == self || !have[i][k] ||
			    peers[own[i][k]].state != SRV_HEALTHY)
				mine = 1;
		if (!mine)
			cand[ncand++] = i;
	}
	if (ncand > 0)
		repair_drop(hashes, own, nown, cand, ncand, epoch);
}

static void
scrub_begin(void)
{
	memset(&sp, 0, sizeof(sp));
	sp.on = 1;
	sp.started = now_ms();
}

static void
scrub_end(void)
{
	sp.on = 0;
	CD_LOCK();
	cd->scrub_passes++;
	CD_UNLOCK();
	if (sp.bad)
		log_warnx("scrub: %llu chunks checked, %llu damaged, %llu good "
		    "copies fetched, %.1f s", (unsigned long long)sp.chunks,
		    (unsigned long long)sp.bad, (unsigned long long)sp.fixed,
		    (double)(now_ms() - sp.started) / 1000);
	else
		log_debug("scrub: %llu chunks checked, all good, %.1f s",
		    (unsigned long long)sp.chunks,
		    (double)(now_ms() - sp.started) / 1000);
}

/* A good copy of a chunk we dropped, from the servers that should have it. */
static void
scrub_fetch(const uint8_t hash[GFS_HASH_LEN])
{
	uint8_t		buf[GFS_MAX_CHUNK];
	char		hex[GFS_HEX_LEN + 1];
	int		cand[GFS_MAX_REPLICAS + GFS_EXTRA_CANDIDATES];
	int		k, n, len, rc;
	struct chunk_in	in;

	hash_hex(hash, hex);
	if (g.ring == NULL && ring_fetch() < 0)
		return;
	n = ring_lookup(g.ring, hash_prefix(hash), cand,
	    g.ring->replicas + GFS_EXTRA_CANDIDATES);
	for (k = 0; k < n; k++) {
		if (cand[k] == self)
			continue;
		if ((len = peer_get(&peers[cand[k]], hash, buf)) < 0)
			continue;
		in.hash = hash;
		in.data = buf;
		in.len = (size_t)len;
		CD_LOCK();
		rc = store_append(&cd->st, &in, 1, 0);
		if (rc >= 0)
			cd->scrub_fixed++;
		CD_UNLOCK();
		if (rc < 0) {
			log_warnx("scrub: cannot store the good copy of %s", hex);
			return;
		}
		sp.fixed++;
		log_info("scrub: good copy of %s fetched from %s", hex,
		    peers[cand[k]].addr);
		return;
	}
	log_warnx("scrub: no good copy of %s found; the owners' repair will "
	    "bring one back if they have it", hex);
}

/* One slice of a scrub pass. */
static void
scrub_slice(void)
{
	static uint8_t	hashes[REPAIR_SLICE][GFS_HASH_LEN];
	static int	bad[REPAIR_SLICE];
	uint8_t		buf[GFS_MAX_CHUNK], got[GFS_HASH_LEN];
	char		hex[GFS_HEX_LEN + 1];
	int		nbad = 0, i, n, len, rc;

	CD_LOCK();
	n = (int)store_scan(&cd->st, &sp.cursor, hashes, REPAIR_SLICE);
	CD_UNLOCK();
	if (n == 0) {
		scrub_end();
		return;
	}
	sp.chunks += (uint64_t)n;
	for (i = 0; i < n; i++) {
		CD_LOCK();
		len = store_read(&cd->st, hashes[i], buf);
		CD_UNLOCK();
		if (len == GFS_ENOENT)
			continue;	/* deleted meanwhile */
		if (throttle(len < 0 ? GFS_MAX_CHUNK : (size_t)len) < 0)
			return;
		if (len >= 0) {
			chunk_hash(buf, (size_t)len, got);
			if (memcmp(got, hashes[i], GFS_HASH_LEN) == 0)
				continue;
		}
		hash_hex(hashes[i], hex);
		CD_LOCK();
		rc = store_drop(&cd->st, hashes[i]);
		if (rc > 0)
			cd->scrub_bad++;
		CD_UNLOCK();
		if (rc < 0)
			log_warnx("scrub: cannot drop damaged chunk %s", hex);
		if (rc <= 0)
			continue;
		log_warnx("scrub: chunk %s is damaged (%s): dropped", hex,
		    len < 0 ? "record CRC" : "SHA-256");
		sp.bad++;
		bad[nbad++] = i;
	}
	for (i = 0; i < nbad; i++)
		scrub_fetch(hashes[bad[i]]);
}

static void *
repair_main(void *arg)
{
	uint64_t	now, next_repair, next_scrub, epoch, seen = 0;
	uint64_t	soon = cd->repair_ms < REPAIR_SOON_MS ? cd->repair_ms :
			    REPAIR_SOON_MS;
	struct timespec	ts;
	int		stop, i;

	(void)arg;
	random_hex(txbase, 16);
	gfs_init(&g, cd->leader, REPAIR_TIMEOUT_MS);
	bucket_ms = now_ms();
	/* Soon after start: the ring may have changed while we were down. */
	next_repair = bucket_ms + soon;
	next_scrub = bucket_ms + cd->scrub_ms;
	for (;;) {
		CD_LOCK();
		for (;;) {
			now = now_ms();
			stop = cd->stopping;
			epoch = cd->epoch;
			if (stop || rp.on || sp.on || now >= next_repair ||
			    now >= next_scrub || epoch > seen)
				break;
			ts = deadline((next_repair < next_scrub ? next_repair :
			    next_scrub) - now);
			pthread_cond_timedwait(&cd->wake, &cd->lock, &ts);
		}
		CD_UNLOCK();
		if (stop)
			break;
		if (seen == 0 && epoch != 0)	/* the first HELLO: not news */
			seen = epoch;
		if (epoch > seen) {	/* the ring moved on: look now */
			seen = epoch;
			if (!rp.on)
				next_repair = now;
			else if (ring_fetch() == 0)
				repair_new_ring();
		}
		if (!rp.on && now >= next_repair) {
			/* One that could not start is tried again soon. */
			next_repair = now + soon;
			if (repair_begin())
				next_repair = now + cd->repair_ms;
		}
		/*
		 * A HELLO reply naming an epoch the ring we fetched already
		 * had is not news: a server that registered while others were
		 * still joining would otherwise run a second pass.
		 */
		if (g.ring && g.ring->epoch > seen)
			seen = g.ring->epoch;
		if (!sp.on && now >= next_scrub) {
			next_scrub = now + cd->scrub_ms;
			scrub_begin();
		}
		if (rp.on) {
			repair_slice();
			if (!rp.on && rp.again)
				next_repair = now_ms();
		}
		if (sp.on)
			scrub_slice();
	}
	for (i = 0; i < npeers; i++)
		cconn_close(&peers[i].c);
	free(peers);
	peers = NULL;
	npeers = 0;
	gfs_close(&g);
	return NULL;
}

void
repair_init(void)
{
	pthread_condattr_t ca;

	if (pthread_mutex_init(&cd->lock, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&cd->wake, &ca) != 0)
		fatalx("cannot make the repair lock");
	pthread_condattr_destroy(&ca);
}

void
repair_start(void)
{
	sigset_t	all, old;
	uint8_t		h[GFS_HASH_LEN];
	int		rc;

	/* hash.c fetches SHA-256 on first use: do it before the thread. */
	hash_sha256("", 0, h);
	/* Signals are the event loop's: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&repair_thread, NULL, repair_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		fatal("cannot start the repair thread");
	}
	repair_running = 1;
}

void
repair_stop(void)
{
	if (!repair_running)
		return;
	CD_LOCK();
	cd->stopping = 1;
	pthread_cond_broadcast(&cd->wake);
	CD_UNLOCK();
	pthread_join(repair_thread, NULL);
	repair_running = 0;
}
