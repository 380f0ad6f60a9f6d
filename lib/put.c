/*
 * gfs put: the two-phase commit of DESIGN.md.
 *
 *   1. chunk and hash the data, place each chunk on its replicas;
 *   2. PUT_PENDING every chunk to its replicas, pipelined per server;
 *   3. PUT_PENDING the name mapping at the leader;
 *   4. COMMIT on the chunk servers (durable there first);
 *   5. COMMIT at the leader: the version becomes visible.
 * Steps 2 and 3 overlap: the mapping goes out with the last window of
 * chunks, so a file of one window (most) costs three round trips.
 *
 * A server that the leader finds unhealthy, or that cannot be reached,
 * is skipped: its chunks go to the next servers on the ring; unhealthy
 * servers are used only when too few healthy ones answer.  A server
 * that fails or does not answer in time after it was sent chunks fails
 * that attempt; the put starts again from the top with a new txid and
 * without that server, up to PUT_ATTEMPTS times, so input that cannot
 * be read twice (a pipe) is first spooled to an unlinked temporary file.
 * Nothing of a failed attempt becomes visible.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "banned.h"
#include "chunker.h"
#include "crash.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

#define PUT_WINDOW	4096	/* chunks per pipelined round */
#define PUT_ATTEMPTS	3

struct put {
	struct gfs	  *g;
	char		   txid[33];
	int		   touched[GFS_MAX_SERVERS];	/* holds chunks of txid */
	int		   sent[GFS_MAX_SERVERS];	/* replies owed this round */
	int		   owed[GFS_MAX_SERVERS];	/* replies not read yet */
	uint8_t		 (*hashes)[GFS_HASH_LEN];
	size_t		   nchunks, cap;
	uint8_t		   sha[GFS_HASH_LEN];	/* of the whole input */
	int		   retry;	/* a chunk server failed: try again */
	int		   stale;	/* the ring changed: fetch it again */
	const struct gfs_putopt *opt;
	const char	  *name;
	int		   pending_owed;	/* the mapping went out, its reply
						   is unread */
	struct cconn	  *also;	/* flushed along with a window */
};

static int	pending_queue(struct put *, uint64_t size);

/* A chunk server failed this put: say why, and leave it out from now on. */
static int
chunk_err(struct put *p, int s, int r)
{
	struct gfs	*g = p->g;
	struct cconn	*c = &g->chunk[s];

	g->down[s] = 1;
	p->retry = 1;

	snprintf(g->err, sizeof(g->err), "chunk server %s: %s", c->addr,
	    c->errmsg[0] ? c->errmsg : gfs_strerror(r));
	return r;
}

/*
 * Pick `replicas` reachable servers for a chunk: the first healthy ones
 * along the ring, and only when too few of those answer, the first
 * unhealthy ones.  The leader's word is a hint: a server that missed a
 * health check on a busy machine may answer us well, and a put that can
 * go to two servers should not fail for want of a second.
 */
static int
put_place(struct put *p, const uint8_t *hash, int *out)
{
	struct gfs	*g = p->g;
	int		 cand[GFS_MAX_SERVERS], n, i, k = 0, pass;

	n = ring_lookup(g->ring, hash_prefix(hash), cand, GFS_MAX_SERVERS);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n && k < g->ring->replicas; i++) {
			int s = cand[i], st = g->ring->servers[s].state;

			if (g->down[s] || st != (pass ? SRV_UNHEALTHY :
			    SRV_HEALTHY))
				continue;
			if (!p->touched[s] && cconn_open(&g->chunk[s]) < 0) {
				g->down[s] = 1;
				continue;
			}
			out[k++] = s;
		}
	return k == g->ring->replicas ? 0 : GFS_ENOSERVERS;
}

/* Send one window of chunks and collect every STORED. */
static int
put_window(struct put *p, const uint8_t *data, const int *lens, int n)
{
	struct gfs	*g = p->g;
	struct cconn	*cs[GFS_MAX_SERVERS + 1];
	char		 hex[GFS_HEX_LEN + 1], *line;
	char		 cmd[GFS_MAX_TXID + GFS_HEX_LEN + 40];
	int		 i, j, s, nsrv = g->ring->nservers, rc, ll;
	int		 where[GFS_MAX_REPLICAS];

	memset(p->sent, 0, sizeof(int) * (size_t)nsrv);
	for (i = 0; i < n; i++) {
		const uint8_t *hash = p->hashes[p->nchunks - (size_t)n + (size_t)i];

		if (put_place(p, hash, where) < 0) {
			snprintf(g->err, sizeof(g->err), "need %d reachable "
			    "chunk servers", g->ring->replicas);
			return GFS_ENOSERVERS;
		}
		hash_hex(hash, hex);
		/* One line for every replica: formatting is a hot spot. */
		ll = snprintf(cmd, sizeof(cmd), "PUT_PENDING %s %s %d\r\n",
		    p->txid, hex, lens[i]);
		for (j = 0; j < g->ring->replicas; j++) {
			s = where[j];
			cconn_write(&g->chunk[s], cmd, (size_t)ll);
			cconn_write(&g->chunk[s], data + (size_t)i * GFS_MAX_CHUNK,
			    (size_t)lens[i]);
			cconn_write(&g->chunk[s], "\r\n", 2);
			p->sent[s]++;
			/*
			 * Owed once queued: an ABORT after a failed
			 * placement goes out behind it and reads it.
			 */
			p->owed[s]++;
			p->touched[s] = 1;
		}
	}
	for (s = 0; s < nsrv; s++)
		cs[s] = p->sent[s] ? &g->chunk[s] : NULL;
	cs[nsrv] = p->also;
	cconn_pump(cs, nsrv + 1);
	for (s = 0; s < nsrv; s++)
		for (i = 0; i < p->sent[s]; i++) {
			rc = cconn_reply(&g->chunk[s], &line);
			p->owed[s]--;
			if (rc < 0)
				return chunk_err(p, s, rc);
			if (strcmp(line, "STORED") != 0)
				return chunk_err(p, s, cconn_fail(&g->chunk[s],
				    GFS_EPROTO, "unexpected reply '%.40s'", line));
		}
	return 0;
}

/* Record a chunk's hash, and feed it to the whole file's. */
static void
put_hash(struct put *p, struct hash_ctx *whole, const uint8_t *buf, int len)
{
	if (p->nchunks == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->hashes = xreallocarray(p->hashes, p->cap, GFS_HASH_LEN);
	}
	hash_sha256(buf, (size_t)len, p->hashes[p->nchunks++]);
	hash_ctx_update(whole, buf, (size_t)len);
}

static int
put_chunks(struct put *p, int fd, uint64_t *size)
{
	struct chunker	 ck;
	struct hash_ctx	*whole = hash_ctx_new();
	uint8_t		*win = xmalloc((size_t)PUT_WINDOW * GFS_MAX_CHUNK), *buf;
	int		 lens[PUT_WINDOW], n, len = 1, rc = 0;

	chunker_init(&ck, fd, p->g->chunking);
	*size = 0;
	while (len > 0) {
		for (n = 0; n < PUT_WINDOW; n++) {
			buf = win + (size_t)n * GFS_MAX_CHUNK;
			len = chunker_next(&ck, buf);
			if (len < 0) {
				snprintf(p->g->err, sizeof(p->g->err),
				    "cannot read input: %m");
				rc = GFS_EIO;
				goto out;
			}
			if (len == 0)
				break;
			if (*size + (uint64_t)len > GFS_MAX_FILE_SIZE) {
				snprintf(p->g->err, sizeof(p->g->err),
				    "file is larger than %llu bytes",
				    (unsigned long long)GFS_MAX_FILE_SIZE);
				rc = GFS_ETOOBIG;
				goto out;
			}
			*size += (uint64_t)len;
			put_hash(p, whole, buf, len);
			lens[n] = len;
		}
		if (len == 0) {
			hash_ctx_final(whole, p->sha);
			/* The last window: the mapping goes along. */
			if (n > 0 && p->name) {
				if ((rc = pending_queue(p, *size)) < 0)
					goto out;
				p->also = &p->g->leader;
			}
		}
		if (n > 0)
			rc = put_window(p, win, lens, n);
		p->also = NULL;
		if (rc < 0)
			goto out;
	}
 out:
	hash_ctx_free(whole);
	free(win);
	return rc;
}

/*
 * Send COMMIT or ABORT to every server that holds chunks of the txid.
 * A failed COMMIT fails the attempt; ABORT is best effort, and first
 * reads the replies a failed window left unread, to keep in step.
 */
static int
put_finish(struct put *p, const char *verb, const char *arg)
{
	struct gfs	*g = p->g;
	struct cconn	*cs[GFS_MAX_SERVERS];
	char		*line;
	int		 s, nsrv = g->ring->nservers, rc, first = 0;
	int		 abort = strcmp(verb, "ABORT") == 0;

	for (s = 0; s < nsrv; s++) {
		cs[s] = NULL;
		if (!p->touched[s] || g->chunk[s].err)
			continue;
		cconn_printf(&g->chunk[s], "%s %s%s%s\r\n", verb, p->txid,
		    arg ? " " : "", arg ? arg : "");
		p->owed[s]++;
		cs[s] = &g->chunk[s];
	}
	cconn_pump(cs, nsrv);
	for (s = 0; s < nsrv; s++) {
		if (!p->touched[s] || g->chunk[s].err)
			continue;
		for (rc = 0; rc == 0 && p->owed[s] > 1; p->owed[s]--)
			rc = cconn_read_line(&g->chunk[s], &line);
		if (rc == 0 && (rc = cconn_reply(&g->chunk[s], &line)) == 0 &&
		    strncmp(line, "OK ", 3) != 0)
			rc = cconn_fail(&g->chunk[s], GFS_EPROTO,
			    "unexpected reply '%.40s'", line);
		p->owed[s] = 0;
		if (rc < 0 && !abort && first == 0)
			first = chunk_err(p, s, rc);
	}
	return first;
}

/* Queue a pending name mapping at the leader (enc: the encoded name). */
static void
pending_send(struct gfs *g, const char *txid, const char *enc, uint64_t size,
    const uint8_t (*hashes)[GFS_HASH_LEN], size_t n,
    const uint8_t sha[GFS_HASH_LEN], const char *cond)
{
	char	hex[GFS_HEX_LEN + 1];
	size_t	i;

	hash_hex(sha, hex);
	cconn_printf(&g->leader, "PUT_PENDING %s %s %llu %zu %s %s %s\r\n",
	    txid, enc, (unsigned long long)size, n, hex,
	    chunking_name(g->chunking), cond);
	for (i = 0; i < n; i++) {
		hash_hex(hashes[i], hex);
		hex[GFS_HEX_LEN] = '\r';
		cconn_write(&g->leader, hex, GFS_HEX_LEN + 1);
		cconn_write(&g->leader, "\n", 1);
	}
}

/*
 * Read the leader's "OK <gcseq> <epoch>" to a PUT_PENDING; *epoch is 0
 * from a leader that does not say.
 */
static int
pending_reply(struct gfs *g, uint64_t *gcseq, uint64_t *epoch)
{
	char	*line, *argv[4];
	int	 rc, argc;

	if ((rc = cconn_reply(&g->leader, &line)) < 0)
		return gfs_leader_err(g, rc);
	*epoch = 0;
	argc = proto_split(line, argv, 4);
	if ((argc != 2 && argc != 3) || strcmp(argv[0], "OK") != 0 ||
	    parse_u64(argv[1], 0, UINT64_MAX, gcseq) < 0 ||
	    (argc == 3 && parse_u64(argv[2], 0, UINT64_MAX, epoch) < 0))
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "unexpected reply '%.40s'", line));
	return 0;
}

/* Queue the name mapping of the whole input at the leader. */
static int
pending_queue(struct put *p, uint64_t size)
{
	char	enc[GFS_MAX_NAME * 3 + 1], cond[24];

	if (name_encode(p->name, strlen(p->name), enc, sizeof(enc)) < 0)
		return GFS_ETOOBIG;
	if (p->opt && p->opt->if_version >= 0)
		snprintf(cond, sizeof(cond), "%lld",
		    (long long)p->opt->if_version);
	else
		snprintf(cond, sizeof(cond), "-");
	pending_send(p->g, p->txid, enc, size, p->hashes, p->nchunks, p->sha,
	    cond);
	p->pending_owed = 1;
	return 0;
}

static int
put_leader(struct put *p, uint64_t size, uint32_t *version)
{
	struct gfs	*g = p->g;
	char		*line, cond[24], *argv[4];
	uint64_t	 v, gcseq, epoch;
	int		 rc;

	/* Not gone out with the last window (no chunks): send it now. */
	if (!p->pending_owed && (rc = pending_queue(p, size)) < 0)
		return rc;
	p->pending_owed = 0;
	if ((rc = pending_reply(g, &gcseq, &epoch)) < 0)
		return rc;
	CRASH_POINT("client.put.after_pending");
	if (epoch != 0 && epoch != g->ring->epoch) {
		int moved;

		/*
		 * Placed on a ring kept from before.  A change of health
		 * alone (a busy server missing a check) moves no chunk;
		 * otherwise, again, on the new ring.
		 */
		if ((rc = gfs_ring_check(g, &moved)) < 0)
			return rc;
		if (moved) {
			snprintf(g->err, sizeof(g->err), "ring epoch %llu "
			    "changed to %llu meanwhile",
			    (unsigned long long)g->ring->epoch,
			    (unsigned long long)epoch);
			p->retry = p->stale = 1;
			return GFS_ESTALE;
		}
	}

	/* The chunk servers keep these from deletions decided before. */
	snprintf(cond, sizeof(cond), "%llu", (unsigned long long)gcseq);
	if ((rc = put_finish(p, "COMMIT", cond)) < 0)
		return rc;
	CRASH_POINT("client.put.after_commit");

	cconn_printf(&g->leader, "COMMIT %s\r\n", p->txid);
	if ((rc = cconn_reply(&g->leader, &line)) < 0) {
		if (rc == GFS_ESERVER &&
		    strncmp(g->leader.errmsg, "CONFLICT ", 9) == 0) {
			snprintf(g->err, sizeof(g->err), "%s, not %lld "
			    "(--if-version)", g->leader.errmsg + 9,
			    (long long)p->opt->if_version);
			return GFS_ECONFLICT;
		}
		return gfs_leader_err(g, rc);
	}
	if (proto_split(line, argv, 4) != 2 || strcmp(argv[0], "OK") != 0 ||
	    parse_u64(argv[1], 1, UINT32_MAX, &v) < 0)
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "bad COMMIT reply"));
	*version = (uint32_t)v;
	return 0;
}

/* A fresh attempt: a new chunk txid, nothing sent yet. */
static void
put_reset(struct put *p)
{
	random_hex(p->txid, 32);
	memset(p->touched, 0, sizeof(int) * (size_t)p->g->ring->nservers);
	memset(p->owed, 0, sizeof(int) * (size_t)p->g->ring->nservers);
	p->nchunks = 0;
	p->retry = 0;
	p->pending_owed = 0;
}

/* One attempt: a new txid, every step; on failure, undo what it can. */
static int
put_attempt(struct put *p, int fd, const char *name, uint32_t *version,
    uint64_t *size)
{
	struct gfs	*g = p->g;
	int		 rc;

	put_reset(p);
	p->name = name;
	rc = put_chunks(p, fd, size);
	if (rc == 0) {
		CRASH_POINT("client.put.after_chunks");
		rc = put_leader(p, *size, version);
	}
	if (rc < 0) {
		char saved[sizeof(g->err)];

		/* Best effort: pending state also expires by itself. */
		memcpy(saved, g->err, sizeof(saved));
		put_finish(p, "ABORT", NULL);
		if (g->leader.err == 0) {
			char *line;
			uint64_t gcseq, epoch;

			/* The mapping's reply first, to keep in step. */
			if (p->pending_owed)
				pending_reply(g, &gcseq, &epoch);

			cconn_printf(&g->leader, "ABORT %s\r\n", p->txid);
			cconn_reply(&g->leader, &line);
		}
		memcpy(g->err, saved, sizeof(saved));
	}
	return rc;
}

/*
 * A ring with enough chunk servers to place a chunk: the one kept from
 * an earlier request unless fresh (PUT_PENDING tells if it changed).
 */
static int
put_ring(struct gfs *g, int fresh)
{
	int rc;

	if (fresh || g->ring == NULL) {
		if ((rc = gfs_ring(g, UINT64_MAX)) < 0)
			return rc;
	} else
		gfs_renew(g);
	if (ring_active(g->ring) < g->ring->replicas) {
		snprintf(g->err, sizeof(g->err), "%d chunk servers for %d "
		    "replicas", ring_active(g->ring), g->ring->replicas);
		return GFS_ENOSERVERS;
	}
	return 0;
}

/* A descriptor we can read from *start again, or -1. */
static int
put_rewindable(struct gfs *g, int fd, int *spooled, off_t *start)
{
	char		buf[65536];
	const char	*dir = getenv("TMPDIR");
	ssize_t		n;
	int		tmp;

	*spooled = 0;
	if ((*start = lseek(fd, 0, SEEK_CUR)) >= 0)
		return fd;
	*start = 0;
	if ((tmp = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR |
	    O_CLOEXEC, 0600)) < 0) {
		snprintf(g->err, sizeof(g->err), "cannot spool input: %s",
		    strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(tmp, buf, (size_t)n) != n) {
			snprintf(g->err, sizeof(g->err), "cannot spool input: "
			    "%s", strerror(errno));
			close(tmp);
			return -1;
		}
	}
	*spooled = 1;
	return tmp;
}

int
gfs_put(struct gfs *g, int fd, const char *name, const struct gfs_putopt *opt,
    uint32_t *version, uint64_t *size)
{
	struct put	p;
	const char	*why;
	off_t		 start;
	int		 rc, attempt, spooled;

	if ((why = name_check(name, strlen(name))) != NULL) {
		snprintf(g->err, sizeof(g->err), "%s", why);
		return GFS_EINVAL;
	}
	if ((rc = put_ring(g, 0)) < 0)
		return rc;
	if ((fd = put_rewindable(g, fd, &spooled, &start)) < 0)
		return GFS_EIO;
	memset(&p, 0, sizeof(p));
	p.g = g;
	p.opt = opt;
	for (attempt = 1; ; attempt++) {
		/* A first attempt on fd as given reads from where it is. */
		if ((attempt > 1 || spooled) && lseek(fd, start, SEEK_SET) < 0) {
			snprintf(g->err, sizeof(g->err), "cannot read input: %s",
			    strerror(errno));
			rc = GFS_EIO;
			break;
		}
		rc = put_attempt(&p, fd, name, version, size);
		if (rc == 0 || !p.retry || attempt == PUT_ATTEMPTS)
			break;
		if (p.stale && (rc = put_ring(g, 1)) < 0)
			break;
		p.stale = 0;
	}
	if (spooled)
		close(fd);
	free(p.hashes);
	return rc;
}

/*
 * gfs put -r: the files [lo, hi) of a tree, as pending mappings
 * <base>-<i> at the leader, their chunks committed on the chunk
 * servers; nothing is visible until gfs_commit_group().  Files go in
 * batches: the chunks of many files share one pipelined window per
 * server and one chunk txid, the leader gets their mappings pipelined
 * and makes them durable with one log flush, and one COMMIT per server
 * covers the batch.  A chunk server that fails a batch is left out and
 * the batch sent again (the same mappings again are accepted).
 */
#define TREE_BATCH_CHUNKS	PUT_WINDOW	/* a batch is one window, mostly */
#define TREE_BATCH_FILES	2048

struct tree_put {
	struct put		 p;
	const struct gfs_tfile	*files;
	const char		*base;
	size_t			*first;		/* per file of the batch */
	uint64_t		*size;
	uint8_t			(*sha)[GFS_HASH_LEN];
	uint8_t			*win;
	int			 lens[PUT_WINDOW];
	int			 nwin;
};

/* Chunk one file into the window, sending it whenever it fills. */
static int
tree_file(struct tree_put *t, size_t k, const struct gfs_tfile *f)
{
	struct put	*p = &t->p;
	struct chunker	 ck;
	struct hash_ctx	*whole;
	int		 fd, len, rc = 0;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(p->g->err, sizeof(p->g->err), "cannot open '%s': %s",
		    f->path, strerror(errno));
		return GFS_EIO;
	}
	whole = hash_ctx_new();
	chunker_init(&ck, fd, p->g->chunking);
	t->first[k] = p->nchunks;
	t->size[k] = 0;
	for (;;) {
		uint8_t *buf = t->win + (size_t)t->nwin * GFS_MAX_CHUNK;

		if ((len = chunker_next(&ck, buf)) < 0) {
			snprintf(p->g->err, sizeof(p->g->err), "cannot read "
			    "'%s': %s", f->path, strerror(errno));
			rc = GFS_EIO;
			break;
		}
		if (len == 0)
			break;
		if (t->size[k] + (uint64_t)len > GFS_MAX_FILE_SIZE) {
			snprintf(p->g->err, sizeof(p->g->err), "'%s' is larger "
			    "than %llu bytes", f->path,
			    (unsigned long long)GFS_MAX_FILE_SIZE);
			rc = GFS_ETOOBIG;
			break;
		}
		t->size[k] += (uint64_t)len;
		put_hash(p, whole, buf, len);
		t->lens[t->nwin++] = len;
		if (t->nwin == PUT_WINDOW) {
			if ((rc = put_window(p, t->win, t->lens, t->nwin)) < 0)
				break;
			t->nwin = 0;
		}
	}
	hash_ctx_final(whole, t->sha[k]);
	hash_ctx_free(whole);
	close(fd);
	return rc;
}

/* One attempt at the batch [lo, hi). */
static int
tree_batch(struct tree_put *t, size_t lo, size_t hi)
{
	struct put	*p = &t->p;
	struct gfs	*g = p->g;
	char		 txid[GFS_MAX_TXID + 1], enc[GFS_MAX_NAME * 3 + 1];
	char		 arg[24];
	uint64_t	 gcseq, epoch, max = 0;
	size_t		 i;
	int		 rc, r;

	put_reset(p);
	t->nwin = 0;
	for (i = lo; i < hi; i++)
		if ((rc = tree_file(t, i - lo, &t->files[i])) < 0)
			return rc;
	/* The mappings go out with the last window, not after it. */
	for (i = lo; i < hi; i++) {
		const char *name = t->files[i].name;

		if (name_encode(name, strlen(name), enc, sizeof(enc)) < 0)
			return GFS_ETOOBIG;
		snprintf(txid, sizeof(txid), "%s-%zu", t->base, i);
		pending_send(g, txid, enc, t->size[i - lo],
		    (const uint8_t (*)[GFS_HASH_LEN])p->hashes + t->first[i - lo],
		    (i + 1 < hi ? t->first[i + 1 - lo] : p->nchunks) -
		    t->first[i - lo], t->sha[i - lo], "-");
	}
	p->also = &g->leader;
	rc = t->nwin > 0 ? put_window(p, t->win, t->lens, t->nwin) :
	    cconn_flush(&g->leader);
	p->also = NULL;
	if (rc < 0 && rc == g->leader.err)
		return gfs_leader_err(g, rc);
	/*
	 * Every mapping's reply is read, even after a chunk server failed
	 * the window: the next attempt at the batch finds the stream in
	 * step (and the leader takes the same mappings again).
	 */
	for (i = lo; i < hi; i++) {
		/* A ring change meanwhile is left to repair. */
		if ((r = pending_reply(g, &gcseq, &epoch)) < 0) {
			if (rc == 0 || g->leader.err)
				snprintf(g->err + strlen(g->err), sizeof(g->err) -
				    strlen(g->err), " (for '%s')",
				    t->files[i].name);
			if (g->leader.err)
				return r;
			if (rc == 0)
				rc = r;
			continue;
		}
		if (gcseq > max)
			max = gcseq;
	}
	if (rc < 0)
		return rc;
	snprintf(arg, sizeof(arg), "%llu", (unsigned long long)max);
	return put_finish(p, "COMMIT", arg);
}

int
gfs_put_files(struct gfs *g, const char *base, const struct gfs_tfile *files,
    size_t lo, size_t hi, void (*progress)(void *, size_t, uint64_t),
    void *arg)
{
	struct tree_put	 t;
	size_t		 end, i, nc, cap = TREE_BATCH_FILES;
	uint64_t	 bytes;
	int		 rc = 0, attempt;

	if ((rc = put_ring(g, 1)) < 0)
		return rc;
	memset(&t, 0, sizeof(t));
	t.p.g = g;
	t.files = files;
	t.base = base;
	t.first = xcalloc(cap, sizeof(*t.first));
	t.size = xcalloc(cap, sizeof(*t.size));
	t.sha = xcalloc(cap, sizeof(*t.sha));
	t.win = xmalloc((size_t)PUT_WINDOW * GFS_MAX_CHUNK);
	for (i = lo; i < hi && rc == 0; i = end) {
		/* A batch: files up to about TREE_BATCH_CHUNKS chunks. */
		for (end = i, nc = 0; end < hi && end - i < TREE_BATCH_FILES &&
		    (end == i || nc < TREE_BATCH_CHUNKS); end++)
			nc += files[end].size / GFS_CHUNK_SIZE + 1;
		for (attempt = 1; ; attempt++) {
			rc = tree_batch(&t, i, end);
			if (rc == 0)
				break;
			/* Its chunk holds go; its mappings wait for a retry. */
			put_finish(&t.p, "ABORT", NULL);
			if (!t.p.retry || attempt == PUT_ATTEMPTS)
				break;
		}
		if (rc == 0)
			CRASH_POINT("client.putr.after_batch");
		if (rc == 0 && progress) {
			for (bytes = 0, nc = 0; nc < end - i; nc++)
				bytes += t.size[nc];
			progress(arg, end - i, bytes);
		}
	}
	free(t.p.hashes);
	free(t.first);
	free(t.size);
	free(t.sha);
	free(t.win);
	return rc;
}
