/*
 * gfs get: chunks grouped by server, GET_BATCH to every server at
 * once, each chunk checked against its SHA-256 on arrival.  A miss, an
 * error, a bad hash or a dead server moves that chunk to its next
 * replica, then to the next GFS_EXTRA_CANDIDATES servers of the ring.
 * Output goes out in order, one window at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "banned.h"
#include "chunker.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

#define GET_WINDOW	2048	/* chunks per round */

struct gchunk {
	int	cand[GFS_MAX_REPLICAS + GFS_EXTRA_CANDIDATES];
	int	ncand;
	int	next;		/* index into cand of the server to ask */
	int	ok;
	int	len;		/* of the good copy */
};

struct get {
	struct gfs		*g;
	const struct gfs_file	*f;
	size_t			 base;	/* first chunk of the window */
	int			 n;	/* chunks in the window */
	struct gchunk		*ch;
	int			*list;	/* nservers x GET_WINDOW chunk indexes */
	int			*nlist;
	uint8_t			*buf;	/* GET_WINDOW chunks, GFS_MAX_CHUNK apart */
};

/*
 * Whether a chunk of len bytes may be chunk i: fixed chunks have known
 * lengths; content-defined ones only a bound (their hash says the rest,
 * and the total is checked at the end).
 */
static int
chunk_len_ok(const struct gfs_file *f, size_t i, uint64_t len)
{
	if (f->chunking != CHUNK_FIXED)
		return len > 0 && len <= GFS_MAX_CHUNK;
	if (i + 1 < f->nchunks)
		return len == GFS_CHUNK_SIZE;
	return len == f->size - (uint64_t)i * GFS_CHUNK_SIZE;
}

/* Servers that failed in this run, or that the leader finds unhealthy. */
static int
get_last(const struct gfs *g, int s)
{
	return g->down[s] || g->ring->servers[s].state != SRV_HEALTHY;
}

/* Candidates for a chunk: ring order, servers down or unhealthy last. */
static void
get_candidates(struct get *gt, int i)
{
	struct gfs	*g = gt->g;
	struct gchunk	*c = &gt->ch[i];
	int		 all[GFS_MAX_REPLICAS + GFS_EXTRA_CANDIDATES], n, k;

	n = ring_lookup(g->ring, hash_prefix(gt->f->hashes[gt->base + (size_t)i]),
	    all, g->ring->replicas + GFS_EXTRA_CANDIDATES);
	c->ncand = 0;
	for (k = 0; k < n; k++)
		if (!get_last(g, all[k]))
			c->cand[c->ncand++] = all[k];
	for (k = 0; k < n; k++)
		if (get_last(g, all[k]))
			c->cand[c->ncand++] = all[k];
	c->next = 0;
	c->ok = 0;
}

/* Read one server's replies to its batches; misses move on. */
static void
get_collect(struct get *gt, int s)
{
	struct gfs	*g = gt->g;
	struct cconn	*c = &g->chunk[s];
	int		*list = gt->list + (size_t)s * GET_WINDOW;
	int		 at = 0, batch_end, k, argc;
	char		*line, *argv[4];
	const uint8_t	*data;
	uint8_t		 h[GFS_HASH_LEN], got[GFS_HASH_LEN];
	uint64_t	 len;

	for (batch_end = 0; batch_end < gt->nlist[s] && !c->err; ) {
		batch_end += GFS_MAX_BATCH;
		if (batch_end > gt->nlist[s])
			batch_end = gt->nlist[s];
		for (;;) {
			if (cconn_reply(c, &line) < 0)
				break;
			if (strcmp(line, "END") == 0)
				break;
			argc = proto_split(line, argv, 4);
			if (argc != 3 || strcmp(argv[0], "VALUE") != 0 ||
			    hash_parse(argv[1], h) < 0 ||
			    parse_u64(argv[2], 0, GFS_MAX_CHUNK, &len) < 0) {
				cconn_fail(c, GFS_EPROTO, "bad GET_BATCH reply");
				break;
			}
			if (cconn_read_block(c, (size_t)len, &data) < 0)
				break;
			/* Replies come in request order, misses left out. */
			for (k = at; k < batch_end; k++)
				if (memcmp(gt->f->hashes[gt->base +
				    (size_t)list[k]], h, GFS_HASH_LEN) == 0)
					break;
			if (k == batch_end)
				continue;	/* not asked for: ignore */
			for (; at < k; at++)
				gt->ch[list[at]].next++;
			at = k + 1;
			hash_sha256(data, (size_t)len, got);
			if (memcmp(got, h, GFS_HASH_LEN) != 0 ||
			    !chunk_len_ok(gt->f, gt->base + (size_t)list[k], len)) {
				gt->ch[list[k]].next++;
				continue;
			}
			memcpy(gt->buf + (size_t)list[k] * GFS_MAX_CHUNK, data,
			    (size_t)len);
			gt->ch[list[k]].ok = 1;
			gt->ch[list[k]].len = (int)len;
		}
		for (; at < batch_end; at++)
			gt->ch[list[at]].next++;
	}
	if (c->err) {
		g->down[s] = 1;
		for (; at < gt->nlist[s]; at++)
			gt->ch[list[at]].next++;
	}
}

static int
get_window(struct get *gt)
{
	struct gfs	*g = gt->g;
	struct cconn	*cs[GFS_MAX_SERVERS];
	char		 hex[GFS_HEX_LEN + 1];
	int		 nsrv = g->ring->nservers, i, s, k, pending;

	for (i = 0; i < gt->n; i++)
		get_candidates(gt, i);
	for (;;) {
		pending = 0;
		memset(gt->nlist, 0, sizeof(int) * (size_t)nsrv);
		for (i = 0; i < gt->n; i++) {
			struct gchunk *c = &gt->ch[i];

			if (c->ok)
				continue;
			while (c->next < c->ncand && g->chunk[c->cand[c->next]].err)
				c->next++;
			if (c->next >= c->ncand) {
				hash_hex(gt->f->hashes[gt->base + (size_t)i], hex);
				snprintf(g->err, sizeof(g->err), "chunk %zu (%s): "
				    "no replica could serve it", gt->base +
				    (size_t)i, hex);
				return GFS_EUNAVAIL;
			}
			s = c->cand[c->next];
			gt->list[(size_t)s * GET_WINDOW + (size_t)gt->nlist[s]++] = i;
			pending++;
		}
		if (pending == 0)
			return 0;
		for (s = 0; s < nsrv; s++) {
			int *list = gt->list + (size_t)s * GET_WINDOW;

			cs[s] = NULL;
			if (gt->nlist[s] == 0)
				continue;
			for (k = 0; k < gt->nlist[s]; k++) {
				hash_hex(gt->f->hashes[gt->base + (size_t)list[k]],
				    hex);
				cconn_printf(&g->chunk[s], "%s%s",
				    k % GFS_MAX_BATCH ? " " : "GET_BATCH ", hex);
				if (k % GFS_MAX_BATCH == GFS_MAX_BATCH - 1 ||
				    k == gt->nlist[s] - 1)
					cconn_write(&g->chunk[s], "\r\n", 2);
			}
			cs[s] = &g->chunk[s];
		}
		cconn_pump(cs, nsrv);
		for (s = 0; s < nsrv; s++)
			if (gt->nlist[s])
				get_collect(gt, s);
	}
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
gfs_get(struct gfs *g, const struct gfs_file *f, int fd)
{
	struct get	 gt;
	struct hash_ctx	*whole = NULL;
	uint8_t		 sha[GFS_HASH_LEN];
	int		 rc = 0, i;
	size_t		 bytes;
	uint64_t	 total = 0;

	if ((rc = gfs_ring(g, f->epoch)) < 0)
		return rc;
	memset(&gt, 0, sizeof(gt));
	gt.g = g;
	gt.f = f;
	gt.ch = xcalloc(GET_WINDOW, sizeof(*gt.ch));
	gt.list = xcalloc((size_t)g->ring->nservers * GET_WINDOW, sizeof(int));
	gt.nlist = xcalloc((size_t)g->ring->nservers + 1, sizeof(int));
	gt.buf = xmalloc((size_t)GET_WINDOW * GFS_MAX_CHUNK);
	if (f->has_sha)
		whole = hash_ctx_new();
	for (gt.base = 0; gt.base < f->nchunks; gt.base += (size_t)gt.n) {
		gt.n = (int)(f->nchunks - gt.base < GET_WINDOW ?
		    f->nchunks - gt.base : GET_WINDOW);
		if (g->ring->nservers == 0) {
			snprintf(g->err, sizeof(g->err), "no chunk servers");
			rc = GFS_EUNAVAIL;
			break;
		}
		if ((rc = get_window(&gt)) < 0)
			break;
		/* Close the gaps: each chunk moves down, never up. */
		for (bytes = 0, i = 0; i < gt.n; i++) {
			memmove(gt.buf + bytes, gt.buf + (size_t)i * GFS_MAX_CHUNK,
			    (size_t)gt.ch[i].len);
			bytes += (size_t)gt.ch[i].len;
		}
		total += bytes;
		if (total > f->size) {
			snprintf(g->err, sizeof(g->err), "chunks add up to more "
			    "than the file's %llu bytes",
			    (unsigned long long)f->size);
			rc = GFS_EPROTO;
			break;
		}
		if (whole)
			hash_ctx_update(whole, gt.buf, bytes);
		if (write_all(fd, gt.buf, bytes) < 0) {
			snprintf(g->err, sizeof(g->err), "write: %s",
			    strerror(errno));
			rc = GFS_EIO;
			break;
		}
	}
	if (rc == 0 && total != f->size) {
		snprintf(g->err, sizeof(g->err), "chunks add up to %llu "
		    "bytes, not the file's %llu", (unsigned long long)total,
		    (unsigned long long)f->size);
		rc = GFS_EPROTO;
	}
	/* Every chunk was right; so must be the list of them. */
	if (whole) {
		hash_ctx_final(whole, sha);
		hash_ctx_free(whole);
		if (rc == 0 && memcmp(sha, f->sha, GFS_HASH_LEN) != 0) {
			snprintf(g->err, sizeof(g->err), "the file's bytes do "
			    "not match its SHA-256");
			rc = GFS_EHASH;
		}
	}
	free(gt.ch);
	free(gt.list);
	free(gt.nlist);
	free(gt.buf);
	return rc;
}
