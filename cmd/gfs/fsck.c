/*
 * gfs fsck [--json] [-v] [PREFIX]
 *
 * Every committed version of every file (LIST, then LOOKUP NAME@V for
 * V = 1..latest), its distinct chunks, and where they are: every chunk
 * server of the ring is asked HAS_BATCH for all of them, a window at a
 * time, all servers at once.  Removed servers are asked too, but only
 * their answers count, not their silence.  A chunk's owners are the
 * first `replicas` servers ring_lookup gives for it; it is
 *
 *	healthy			every owner holds it (and there are
 *				`replicas` owners),
 *	misplaced		at least `replicas` copies, not all on owners,
 *	under-replicated	fewer copies than `replicas`, at least one,
 *	unreadable		no copy anywhere,
 *
 * and a file version is the worst of its chunks.  A server that does
 * not answer holds nothing.  Exit 0 only when every chunk is healthy
 * and every server not removed answered; 3 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "banned.h"
#include "cli.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

#define FSCK_WINDOW	(GFS_MAX_BATCH * 64)	/* chunks asked per round */

/* Best first; a file takes the largest class of its chunks. */
enum {
	FC_HEALTHY = 0,
	FC_MISPLACED,
	FC_UNDER,
	FC_UNREADABLE,
	FC_NCLASS
};

static const char *const class_name[FC_NCLASS] = {
	"healthy", "misplaced", "under-replicated", "unreadable",
};
static const char *const class_key[FC_NCLASS] = {
	"healthy", "misplaced", "under_replicated", "unreadable",
};
/* Worst first, for listing. */
static const int class_order[FC_NCLASS] = {
	FC_UNREADABLE, FC_UNDER, FC_MISPLACED, FC_HEALTHY,
};

struct fchunk {
	uint8_t	hash[GFS_HASH_LEN];
	int	owners[GFS_MAX_REPLICAS];
	int	nowners;
	int	copies;		/* servers that hold it */
	int	owned;		/* owners that hold it */
	int	cls;
};

struct fversion {
	size_t		 name;		/* index into names */
	uint32_t	 version;
	size_t		 nchunks;
	size_t		*chunks;	/* indexes into fsck.chunks */
	int		 cls;
	size_t		 count[FC_NCLASS];
};

struct fsck {
	struct gfs	*g;
	char		**names;
	uint32_t	*latest;
	size_t		 nnames, names_cap;

	struct fversion	*vers;
	size_t		 nvers, vers_cap;

	struct fchunk	*chunks;
	size_t		 nchunks, chunks_cap;
	size_t		*table;		/* open addressing: chunk index + 1 */
	size_t		 table_cap;

	size_t		**held;		/* per server: chunk indexes it has */
	size_t		*nheld, *held_cap;
};

static int
fsck_add_name(const struct gfs_entry *e, void *arg)
{
	struct fsck *fk = arg;

	if (fk->nnames == fk->names_cap) {
		fk->names_cap = fk->names_cap ? fk->names_cap * 2 : 64;
		fk->names = xreallocarray(fk->names, fk->names_cap,
		    sizeof(*fk->names));
		fk->latest = xreallocarray(fk->latest, fk->names_cap,
		    sizeof(*fk->latest));
	}
	fk->names[fk->nnames] = xstrdup(e->name);
	fk->latest[fk->nnames++] = e->version;
	return 0;
}

static void
fsck_table_grow(struct fsck *fk)
{
	size_t cap = fk->table_cap ? fk->table_cap * 2 : 1024, i, j;

	free(fk->table);
	fk->table = xcalloc(cap, sizeof(*fk->table));
	fk->table_cap = cap;
	for (i = 0; i < fk->nchunks; i++) {
		j = (size_t)hash_prefix(fk->chunks[i].hash) & (cap - 1);
		while (fk->table[j])
			j = (j + 1) & (cap - 1);
		fk->table[j] = i + 1;
	}
}

/* The index of chunk h, added if new. */
static size_t
fsck_chunk(struct fsck *fk, const uint8_t h[GFS_HASH_LEN])
{
	size_t j;

	if (2 * (fk->nchunks + 1) > fk->table_cap)
		fsck_table_grow(fk);
	j = (size_t)hash_prefix(h) & (fk->table_cap - 1);
	while (fk->table[j]) {
		if (memcmp(fk->chunks[fk->table[j] - 1].hash, h,
		    GFS_HASH_LEN) == 0)
			return fk->table[j] - 1;
		j = (j + 1) & (fk->table_cap - 1);
	}
	if (fk->nchunks == fk->chunks_cap) {
		fk->chunks_cap = fk->chunks_cap ? fk->chunks_cap * 2 : 1024;
		fk->chunks = xreallocarray(fk->chunks, fk->chunks_cap,
		    sizeof(*fk->chunks));
	}
	memset(&fk->chunks[fk->nchunks], 0, sizeof(fk->chunks[0]));
	memcpy(fk->chunks[fk->nchunks].hash, h, GFS_HASH_LEN);
	fk->table[j] = fk->nchunks + 1;
	return fk->nchunks++;
}

static void
fsck_add_version(struct fsck *fk, size_t name, const struct gfs_file *f)
{
	struct fversion	*v;
	size_t		 i;

	if (fk->nvers == fk->vers_cap) {
		fk->vers_cap = fk->vers_cap ? fk->vers_cap * 2 : 64;
		fk->vers = xreallocarray(fk->vers, fk->vers_cap,
		    sizeof(*fk->vers));
	}
	v = &fk->vers[fk->nvers++];
	memset(v, 0, sizeof(*v));
	v->name = name;
	v->version = f->version;
	v->nchunks = f->nchunks;
	v->chunks = xreallocarray(NULL, f->nchunks + 1, sizeof(*v->chunks));
	for (i = 0; i < f->nchunks; i++)
		v->chunks[i] = fsck_chunk(fk, f->hashes[i]);
}

/* Every version of every name under prefix, with its chunks. */
static int
fsck_walk(struct fsck *fk, const char *prefix)
{
	struct gfs	*g = fk->g;
	struct gfs_file	 f;
	char		 arg[GFS_MAX_NAME + 16];
	size_t		 i;
	uint32_t	 v;
	int		 rc;

	if ((rc = gfs_list(g, prefix, fsck_add_name, fk)) < 0)
		return error("cannot list: %s", g->err[0] ? g->err :
		    gfs_strerror(rc));
	for (i = 0; i < fk->nnames; i++) {
		for (v = 1; v >= 1 && v <= fk->latest[i]; v++) {
			snprintf(arg, sizeof(arg), "%s@%u", fk->names[i], v);
			rc = gfs_lookup(g, arg, &f);
			if (rc == GFS_ENOENT)
				continue;	/* gone, or removed meanwhile */
			if (rc < 0)
				return error("cannot look up '%s': %s", arg,
				    g->err[0] ? g->err : gfs_strerror(rc));
			fsck_add_version(fk, i, &f);
			gfs_file_free(&f);
		}
	}
	return 0;
}

static void
fsck_held(struct fsck *fk, int s, size_t idx)
{
	if (fk->nheld[s] == fk->held_cap[s]) {
		fk->held_cap[s] = fk->held_cap[s] ? fk->held_cap[s] * 2 : 256;
		fk->held[s] = xreallocarray(fk->held[s], fk->held_cap[s],
		    sizeof(size_t));
	}
	fk->held[s][fk->nheld[s]++] = idx;
}

/* Read server s's answers to the batches of chunks [base, base + n). */
static void
fsck_collect(struct fsck *fk, int s, size_t base, size_t n)
{
	struct cconn	*c = &fk->g->chunk[s];
	char		*line, *argv[4];
	uint8_t		 h[GFS_HASH_LEN];
	size_t		 at, end, k;
	int		 rc;

	for (at = base; at < base + n && !c->err; at = end) {
		end = at + GFS_MAX_BATCH < base + n ? at + GFS_MAX_BATCH :
		    base + n;
		for (;;) {
			if ((rc = cconn_reply(c, &line)) < 0) {
				if (rc == GFS_ENOENT || rc == GFS_ESERVER)
					cconn_fail(c, rc, "HAS_BATCH: %s",
					    c->errmsg);
				return;
			}
			if (strcmp(line, "END") == 0)
				break;
			if (proto_split(line, argv, 4) != 2 ||
			    strcmp(argv[0], "HAVE") != 0 ||
			    hash_parse(argv[1], h) < 0) {
				cconn_fail(c, GFS_EPROTO,
				    "bad HAS_BATCH reply");
				return;
			}
			/* In request order: each asked-for hash at most once. */
			for (k = at; k < end; k++)
				if (memcmp(fk->chunks[k].hash, h,
				    GFS_HASH_LEN) == 0)
					break;
			if (k == end) {
				cconn_fail(c, GFS_EPROTO, "HAS_BATCH reply "
				    "names a chunk not asked for");
				return;
			}
			fsck_held(fk, s, k);
			at = k + 1;
		}
	}
}

/* Ask every server which chunks it holds, a window at a time. */
static void
fsck_ask(struct fsck *fk)
{
	struct gfs	*g = fk->g;
	struct cconn	*cs[GFS_MAX_SERVERS];
	char		 hex[GFS_HEX_LEN + 1], *req;
	size_t		 base, n, k, len;
	int		 nsrv = g->ring->nservers, s;

	req = xmalloc((size_t)FSCK_WINDOW * (GFS_HEX_LEN + 1) +
	    (FSCK_WINDOW / GFS_MAX_BATCH + 1) * 16);
	for (base = 0; base < fk->nchunks; base += n) {
		n = fk->nchunks - base < FSCK_WINDOW ? fk->nchunks - base :
		    FSCK_WINDOW;
		len = 0;
		for (k = 0; k < n; k++) {
			hash_hex(fk->chunks[base + k].hash, hex);
			if (k % GFS_MAX_BATCH == 0) {
				memcpy(req + len, "HAS_BATCH", 9);
				len += 9;
			}
			req[len++] = ' ';
			memcpy(req + len, hex, GFS_HEX_LEN);
			len += GFS_HEX_LEN;
			if (k % GFS_MAX_BATCH == GFS_MAX_BATCH - 1 || k == n - 1) {
				memcpy(req + len, "\r\n", 2);
				len += 2;
			}
		}
		for (s = 0; s < nsrv; s++) {
			cs[s] = NULL;
			if (g->chunk[s].err)
				continue;
			cconn_write(&g->chunk[s], req, len);
			cs[s] = &g->chunk[s];
		}
		cconn_pump(cs, nsrv);
		for (s = 0; s < nsrv; s++)
			if (cs[s])
				fsck_collect(fk, s, base, n);
	}
	free(req);
}

/* Count what the servers that answered hold, then classify. */
static void
fsck_classify(struct fsck *fk)
{
	const struct ring	*r = fk->g->ring;
	struct fchunk		*ch;
	size_t			 i, k;
	int			 s, o;

	for (i = 0; i < fk->nchunks; i++) {
		ch = &fk->chunks[i];
		ch->nowners = ring_lookup(r, hash_prefix(ch->hash), ch->owners,
		    r->replicas);
	}
	for (s = 0; s < r->nservers; s++) {
		if (fk->g->chunk[s].err)
			continue;	/* holds nothing, as far as we know */
		for (k = 0; k < fk->nheld[s]; k++) {
			ch = &fk->chunks[fk->held[s][k]];
			ch->copies++;
			for (o = 0; o < ch->nowners; o++)
				if (ch->owners[o] == s)
					ch->owned++;
		}
	}
	for (i = 0; i < fk->nchunks; i++) {
		ch = &fk->chunks[i];
		if (ch->copies == 0)
			ch->cls = FC_UNREADABLE;
		else if (ch->copies < r->replicas)
			ch->cls = FC_UNDER;
		else if (ch->nowners == r->replicas && ch->owned == ch->nowners)
			ch->cls = FC_HEALTHY;
		else
			ch->cls = FC_MISPLACED;
	}
	for (i = 0; i < fk->nvers; i++) {
		struct fversion *v = &fk->vers[i];

		for (k = 0; k < v->nchunks; k++) {
			int c = fk->chunks[v->chunks[k]].cls;

			v->count[c]++;
			if (c > v->cls)
				v->cls = c;
		}
	}
}

/*
 * "CLASS NAME@V (k of n chunks CLASS, k2 CLASS2)": the file's class, then
 * the other classes of its chunks but healthy, worst first.
 */
static void
print_version(const struct fsck *fk, const struct fversion *v)
{
	int i, c;

	printf("%s %s@%u (%zu of %zu chunks %s", class_name[v->cls],
	    fk->names[v->name], v->version, v->count[v->cls], v->nchunks,
	    class_name[v->cls]);
	for (i = 0; i < FC_NCLASS; i++) {
		c = class_order[i];
		if (c != v->cls && c != FC_HEALTHY && v->count[c] > 0)
			printf(", %zu %s", v->count[c], class_name[c]);
	}
	printf(")\n");
}

static void
print_json(const struct fsck *fk, const size_t *files, const size_t *chunks,
    int unreachable)
{
	cJSON	*o = cJSON_CreateObject(), *probs, *p;
	char	 key[64], *s;
	size_t	 i;
	int	 c;

	cJSON_AddNumberToObject(o, "files", (double)fk->nvers);
	cJSON_AddNumberToObject(o, "chunks", (double)fk->nchunks);
	for (c = 0; c < FC_NCLASS; c++)
		cJSON_AddNumberToObject(o, class_key[c], (double)files[c]);
	for (c = 0; c < FC_NCLASS; c++) {
		snprintf(key, sizeof(key), "chunks_%s", class_key[c]);
		cJSON_AddNumberToObject(o, key, (double)chunks[c]);
	}
	cJSON_AddNumberToObject(o, "servers_unreachable", unreachable);
	probs = cJSON_AddArrayToObject(o, "problems");
	for (i = 0; i < fk->nvers; i++) {
		const struct fversion *v = &fk->vers[i];

		if (v->cls == FC_HEALTHY)
			continue;
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", fk->names[v->name]);
		cJSON_AddNumberToObject(p, "version", v->version);
		cJSON_AddStringToObject(p, "class", class_name[v->cls]);
		cJSON_AddNumberToObject(p, "chunks", (double)v->nchunks);
		for (c = FC_MISPLACED; c < FC_NCLASS; c++) {
			snprintf(key, sizeof(key), "chunks_%s", class_key[c]);
			cJSON_AddNumberToObject(p, key, (double)v->count[c]);
		}
		cJSON_AddItemToArray(probs, p);
	}
	s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

static void
fsck_release(struct fsck *fk)
{
	size_t	i;
	int	s;

	for (i = 0; i < fk->nnames; i++)
		free(fk->names[i]);
	free(fk->names);
	free(fk->latest);
	for (i = 0; i < fk->nvers; i++)
		free(fk->vers[i].chunks);
	free(fk->vers);
	free(fk->chunks);
	free(fk->table);
	if (fk->held) {
		for (s = 0; s < fk->g->ring->nservers; s++)
			free(fk->held[s]);
	}
	free(fk->held);
	free(fk->nheld);
	free(fk->held_cap);
}

int
gfs_cmd_fsck(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck	 fk;
	size_t		 files[FC_NCLASS] = { 0 }, chunks[FC_NCLASS] = { 0 }, i;
	const char	*prefix;
	int		 ch, json = 0, verbose = 0, unreachable = 0, s, rc;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'v': verbose = 1; break;
		default: return usage_error(NULL);
		}
	}
	if (argc - optind > 1)
		return usage_error(NULL);
	prefix = argc > optind ? argv[optind] : NULL;

	if ((rc = gfs_ring(g, UINT64_MAX)) < 0)
		return error("cannot read the ring: %s", g->err[0] ? g->err :
		    gfs_strerror(rc)), EXIT_FAIL;
	memset(&fk, 0, sizeof(fk));
	fk.g = g;
	fk.held = xcalloc((size_t)g->ring->nservers + 1, sizeof(*fk.held));
	fk.nheld = xcalloc((size_t)g->ring->nservers + 1, sizeof(*fk.nheld));
	fk.held_cap = xcalloc((size_t)g->ring->nservers + 1,
	    sizeof(*fk.held_cap));
	if (fsck_walk(&fk, prefix) < 0) {
		fsck_release(&fk);
		return EXIT_FAIL;
	}
	fsck_ask(&fk);
	for (s = 0; s < g->ring->nservers; s++) {
		struct cconn *c = &g->chunk[s];
		const char *why = c->errmsg[0] ? c->errmsg : gfs_strerror(c->err);

		if (c->err == 0)
			continue;
		if (g->ring->servers[s].state != SRV_REMOVED) {
			error("chunk server %s: %s", c->addr, why);
			unreachable++;
		} else if (verbose)
			error("chunk server %s (removed): %s", c->addr, why);
	}
	fsck_classify(&fk);
	for (i = 0; i < fk.nchunks; i++)
		chunks[fk.chunks[i].cls]++;
	for (i = 0; i < fk.nvers; i++) {
		files[fk.vers[i].cls]++;
		if (!json && (verbose || fk.vers[i].cls != FC_HEALTHY))
			print_version(&fk, &fk.vers[i]);
	}
	if (json)
		print_json(&fk, files, chunks, unreachable);
	else
		printf("fsck: %zu files, %zu chunks: %zu healthy, "
		    "%zu under-replicated, %zu misplaced, %zu unreadable\n",
		    fk.nvers, fk.nchunks, files[FC_HEALTHY], files[FC_UNDER],
		    files[FC_MISPLACED], files[FC_UNREADABLE]);
	rc = chunks[FC_HEALTHY] == fk.nchunks && unreachable == 0 ? 0 :
	    EXIT_FAIL;
	fsck_release(&fk);
	return finish_stdout(rc);
}
