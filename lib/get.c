/*
 * gfs get: chunks grouped by server, GET_BATCH to every server at
 * once, each chunk checked against its SHA-256 on arrival.  A miss, an
 * error, a bad hash or a dead server moves that chunk to its next
 * replica, then to the next GFS_EXTRA_CANDIDATES servers of the ring.
 * Output goes out in order, one window at a time.
 */
#include <sys/stat.h>

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
	const uint8_t		(*h)[GFS_HASH_LEN];	/* the window's chunks */
	int			*want;	/* their lengths; -1: 1 to GFS_MAX_CHUNK */
	size_t			 base;	/* number of h[0], for messages */
	int			 n;	/* chunks in the window */
	struct gchunk		*ch;
	int			*list;	/* nservers x GET_WINDOW chunk indexes */
	int			*nlist;
	uint8_t			*buf;	/* GET_WINDOW chunks, GFS_MAX_CHUNK apart */
};

/*
 * The length chunk i of f must have: fixed chunks have known lengths;
 * content-defined ones only a bound, -1 (their hash says the rest, and
 * the total is checked at the end).
 */
static int
chunk_want(const struct gfs_file *f, size_t i)
{
	if (f->chunking != CHUNK_FIXED)
		return -1;
	if (i + 1 < f->nchunks)
		return GFS_CHUNK_SIZE;
	return (int)(f->size - (uint64_t)i * GFS_CHUNK_SIZE);
}

static int
chunk_len_ok(const struct get *gt, int i, uint64_t len)
{
	if (gt->want[i] < 0)
		return len > 0 && len <= GFS_MAX_CHUNK;
	return len == (uint64_t)gt->want[i];
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

	n = ring_lookup(g->ring, hash_prefix(gt->h[i]),
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
				if (memcmp(gt->h[list[k]], h, GFS_HASH_LEN) == 0)
					break;
			if (k == batch_end)
				continue;	/* not asked for: ignore */
			for (; at < k; at++)
				gt->ch[list[at]].next++;
			at = k + 1;
			hash_sha256(data, (size_t)len, got);
			if (memcmp(got, h, GFS_HASH_LEN) != 0 ||
			    !chunk_len_ok(gt, list[k], len)) {
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
				hash_hex(gt->h[i], hex);
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
				hash_hex(gt->h[list[k]], hex);
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

static void
get_init(struct get *gt, struct gfs *g)
{
	memset(gt, 0, sizeof(*gt));
	gt->g = g;
	gt->ch = xcalloc(GET_WINDOW, sizeof(*gt->ch));
	gt->want = xcalloc(GET_WINDOW, sizeof(*gt->want));
	gt->list = xcalloc((size_t)g->ring->nservers * GET_WINDOW, sizeof(int));
	gt->nlist = xcalloc((size_t)g->ring->nservers + 1, sizeof(int));
	gt->buf = xmalloc((size_t)GET_WINDOW * GFS_MAX_CHUNK);
}

static void
get_release(struct get *gt)
{
	free(gt->ch);
	free(gt->want);
	free(gt->list);
	free(gt->nlist);
	free(gt->buf);
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
	get_init(&gt, g);
	if (f->has_sha)
		whole = hash_ctx_new();
	for (gt.base = 0; gt.base < f->nchunks; gt.base += (size_t)gt.n) {
		gt.n = (int)(f->nchunks - gt.base < GET_WINDOW ?
		    f->nchunks - gt.base : GET_WINDOW);
		gt.h = (const uint8_t (*)[GFS_HASH_LEN])f->hashes + gt.base;
		for (i = 0; i < gt.n; i++)
			gt.want[i] = chunk_want(f, gt.base + (size_t)i);
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
	get_release(&gt);
	return rc;
}

/*
 * gfs get -r: names looked up TREE_LOOKUPS at a time, pipelined; the
 * chunks of as many small files as fill a window fetched together,
 * every server at once; each file checked whole (size, SHA-256) and
 * written to a temporary file beside its path, renamed into place.
 * Files bigger than a quarter window are streamed one by one.
 */
#define TREE_LOOKUPS	512

struct tree_get {
	struct get		 gt;
	int			 nservers;	/* gt sized for so many */
	const struct gfs_tfile	*tf[GET_WINDOW];
	struct gfs_file		 f[GET_WINDOW];
	int			 first[GET_WINDOW + 1];
	int			 nf;
	uint8_t			(*h)[GFS_HASH_LEN];	/* GET_WINDOW */
	long			 pid;
};

/*
 * mkdir -p of the directory of path (its first n bytes in dir): the
 * deepest first, its parents only when it says ENOENT, so a tree costs
 * one mkdir per directory.
 */
static int
tree_mkdirs(char *dir, size_t n)
{
	char	*p;

	dir[n] = '\0';
	if (mkdir(dir, 0777) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT || (p = strrchr(dir, '/')) == NULL || p == dir)
		return -1;
	if (tree_mkdirs(dir, (size_t)(p - dir)) < 0)
		return -1;
	*p = '/';
	return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/*
 * Open a temporary file beside path, its name in tmp; its directories
 * are made only when the open says they are missing.
 */
static int
tree_open(struct gfs *g, struct tree_get *t, const char *path, char *tmp,
    size_t tmpsz)
{
	const char	*slash;
	char		 dir[4096];
	size_t		 n;
	int		 fd;

	snprintf(tmp, tmpsz, "%s.gfs-tmp-%ld", path, t->pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ENOENT && (slash = strrchr(path, '/')) != NULL &&
	    (n = (size_t)(slash - path)) > 0 && n < sizeof(dir)) {
		memcpy(dir, path, n);
		if (tree_mkdirs(dir, n) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		snprintf(g->err, sizeof(g->err), "cannot create '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	return fd;
}

static int
tree_close(struct gfs *g, int fd, const char *tmp, const char *path, int rc)
{
	if (close(fd) < 0 && rc == 0) {
		snprintf(g->err, sizeof(g->err), "cannot write '%s': %s", path,
		    strerror(errno));
		rc = GFS_EIO;
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		snprintf(g->err, sizeof(g->err), "cannot rename to '%s': %s",
		    path, strerror(errno));
		rc = GFS_EIO;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Fetch the gathered small files' chunks at once, write each file. */
static int
tree_flush(struct gfs *g, struct tree_get *t)
{
	struct get	*gt = &t->gt;
	char		 tmp[4200];
	uint8_t		 sha[GFS_HASH_LEN];
	size_t		 bytes = 0, start;
	int		 i, k, fd, rc = 0;

	if (t->nf == 0)
		return 0;
	gt->n = t->first[t->nf];
	gt->h = (const uint8_t (*)[GFS_HASH_LEN])t->h;
	gt->base = 0;
	if (gt->n > 0 && (rc = get_window(gt)) < 0)
		goto out;
	for (k = 0; k < t->nf && rc == 0; k++) {
		struct gfs_file *f = &t->f[k];

		/* Close the gaps: each chunk moves down, never up. */
		start = bytes;
		for (i = t->first[k]; i < t->first[k + 1]; i++) {
			memmove(gt->buf + bytes, gt->buf + (size_t)i *
			    GFS_MAX_CHUNK, (size_t)gt->ch[i].len);
			bytes += (size_t)gt->ch[i].len;
		}
		if (bytes - start != f->size) {
			snprintf(g->err, sizeof(g->err), "'%s': chunks add up to "
			    "%zu bytes, not %llu", f->name, bytes - start,
			    (unsigned long long)f->size);
			rc = GFS_EPROTO;
			break;
		}
		if (f->has_sha) {
			hash_sha256(gt->buf + start, bytes - start, sha);
			if (memcmp(sha, f->sha, GFS_HASH_LEN) != 0) {
				snprintf(g->err, sizeof(g->err), "'%s': bytes do "
				    "not match its SHA-256", f->name);
				rc = GFS_EHASH;
				break;
			}
		}
		if ((fd = tree_open(g, t, t->tf[k]->path, tmp, sizeof(tmp))) < 0) {
			rc = GFS_EIO;
			break;
		}
		if (write_all(fd, gt->buf + start, bytes - start) < 0) {
			snprintf(g->err, sizeof(g->err), "cannot write '%s': %s",
			    t->tf[k]->path, strerror(errno));
			rc = GFS_EIO;
		}
		rc = tree_close(g, fd, tmp, t->tf[k]->path, rc);
	}
 out:
	for (k = 0; k < t->nf; k++)
		gfs_file_free(&t->f[k]);
	t->nf = 0;
	t->first[0] = 0;
	if (rc == 0)
		CRASH_POINT("client.getr.after_window");
	return rc;
}

/* One looked-up file: gather it, or stream it when it is big. */
static int
tree_one(struct gfs *g, struct tree_get *t, const struct gfs_tfile *tf,
    struct gfs_file *f)
{
	char	tmp[4200];
	size_t	i;
	int	fd, rc, n = t->first[t->nf];

	if (f->nchunks > GET_WINDOW / 4) {
		if ((fd = tree_open(g, t, tf->path, tmp, sizeof(tmp))) < 0) {
			gfs_file_free(f);
			return GFS_EIO;
		}
		rc = gfs_get(g, f, fd);
		gfs_file_free(f);
		return tree_close(g, fd, tmp, tf->path, rc);
	}
	if (n + (int)f->nchunks > GET_WINDOW || t->nf == GET_WINDOW) {
		if ((rc = tree_flush(g, t)) < 0) {
			gfs_file_free(f);
			return rc;
		}
		n = 0;
	}
	for (i = 0; i < f->nchunks; i++) {
		memcpy(t->h[n + (int)i], f->hashes[i], GFS_HASH_LEN);
		t->gt.want[n + (int)i] = chunk_want(f, i);
	}
	t->tf[t->nf] = tf;
	t->f[t->nf++] = *f;
	t->first[t->nf] = n + (int)f->nchunks;
	return 0;
}

int
gfs_get_files(struct gfs *g, const struct gfs_tfile *files, size_t n,
    void (*progress)(void *, size_t, uint64_t), void *arg, size_t *missing)
{
	struct tree_get	*t;
	struct gfs_file	*fs;
	size_t		 i, j, end;
	uint64_t	 epoch, bytes;
	int		 rc = 0, r;

	*missing = 0;
	if ((rc = gfs_ring(g, UINT64_MAX)) < 0)
		return rc;
	t = xcalloc(1, sizeof(*t));
	t->pid = (long)getpid();
	t->h = xcalloc(GET_WINDOW, GFS_HASH_LEN);
	fs = xcalloc(TREE_LOOKUPS, sizeof(*fs));
	get_init(&t->gt, g);
	t->nservers = g->ring->nservers;
	for (i = 0; i < n && rc == 0; i = end) {
		end = n - i < TREE_LOOKUPS ? n : i + TREE_LOOKUPS;
		for (j = i; j < end; j++)
			if ((rc = gfs_lookup_send(g, files[j].name,
			    &fs[j - i])) < 0)
				break;
		epoch = 0;
		for (j = i; j < end && rc == 0; j++) {
			r = gfs_lookup_read(g, &fs[j - i]);
			if (r == GFS_ENOENT) {
				fs[j - i].name[0] = '\0';
				(*missing)++;
			} else if (r < 0)
				rc = r;
			else if (fs[j - i].epoch > epoch)
				epoch = fs[j - i].epoch;
		}
		if (rc == 0 && epoch > 0 && (rc = gfs_ring(g, epoch)) == 0 &&
		    g->ring->nservers != t->nservers) {
			/* The ring grew: size the window's tables again. */
			if ((rc = tree_flush(g, t)) == 0) {
				get_release(&t->gt);
				get_init(&t->gt, g);
				t->nservers = g->ring->nservers;
			}
		}
		for (bytes = 0, j = i; j < end; j++) {
			if (rc == 0 && fs[j - i].name[0] != '\0') {
				bytes += fs[j - i].size;
				rc = tree_one(g, t, &files[j], &fs[j - i]);
			} else
				gfs_file_free(&fs[j - i]);
		}
		if (rc == 0)
			rc = tree_flush(g, t);
		if (rc == 0 && progress)
			progress(arg, end - i, bytes);
	}
	tree_flush(g, t);
	get_release(&t->gt);
	free(t->h);
	free(t);
	free(fs);
	return rc;
}
