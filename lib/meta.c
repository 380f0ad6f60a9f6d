/*
 * Metadata at the leader: RING, LOOKUP, LIST, DELETE, STATS.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "banned.h"
#include "chunker.h"
#include "proto.h"
#include "xmalloc.h"

void
gfs_init(struct gfs *g, const char *leader, int timeout_ms)
{
	memset(g, 0, sizeof(*g));
	cconn_init(&g->leader, leader, timeout_ms);
	g->timeout_ms = timeout_ms;
}

static void
gfs_drop_ring(struct gfs *g)
{
	int i;

	if (g->ring == NULL)
		return;
	for (i = 0; i < g->ring->nservers; i++)
		cconn_close(&g->chunk[i]);
	free(g->chunk);
	free(g->down);
	ring_free(g->ring);
	g->chunk = NULL;
	g->down = NULL;
	g->ring = NULL;
}

void
gfs_close(struct gfs *g)
{
	gfs_drop_ring(g);
	cconn_close(&g->leader);
}

int
gfs_leader_err(struct gfs *g, int r)
{
	snprintf(g->err, sizeof(g->err), "leader %s: %s", g->leader.addr,
	    g->leader.errmsg[0] ? g->leader.errmsg : gfs_strerror(r));
	return r;
}

/* The TOKENS lines of one server: ntokens 16-hex-digit tokens in all. */
static int
read_tokens(struct gfs *g, uint64_t *tokens, uint32_t ntokens)
{
	char		*line, *argv[GFS_MAX_ARGS];
	uint32_t	 have = 0;
	int		 argc, k, rc;

	while (have < ntokens) {
		if ((rc = cconn_read_line(&g->leader, &line)) < 0)
			return rc;
		argc = proto_split(line, argv, GFS_MAX_ARGS);
		if (argc < 2 || strcmp(argv[0], "TOKENS") != 0 ||
		    have + (uint32_t)argc - 1 > ntokens)
			return cconn_fail(&g->leader, GFS_EPROTO,
			    "bad TOKENS line");
		for (k = 1; k < argc; k++) {
			char *end;

			if (strlen(argv[k]) != 16 ||
			    strspn(argv[k], "0123456789abcdef") != 16)
				return cconn_fail(&g->leader, GFS_EPROTO,
				    "bad token");
			tokens[have++] = strtoull(argv[k], &end, 16);
		}
	}
	return 0;
}

/* The reply to a RING sent before, into *out. */
static int
ring_recv(struct gfs *g, struct ring **out)
{
	char		*line, *argv[8];
	uint64_t	 e, rep, n, ntok, misses, seen, i, *tokens;
	struct ring	*r;
	int		 rc, argc, state = 0, idx;

	if ((rc = cconn_reply(&g->leader, &line)) < 0)
		return gfs_leader_err(g, rc);
	argc = proto_split(line, argv, 8);
	if ((argc != 4 && argc != 5) || strcmp(argv[0], "RING") != 0 ||
	    parse_u64(argv[1], 0, UINT64_MAX, &e) < 0 ||
	    parse_u64(argv[2], 1, GFS_MAX_REPLICAS, &rep) < 0 ||
	    parse_u64(argv[3], 0, GFS_MAX_SERVERS, &n) < 0 ||
	    (g->chunking = argc == 5 ? chunking_parse(argv[4]) :
	    CHUNK_FIXED) < 0)
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "bad RING reply"));
	r = ring_new(e, (int)rep);
	tokens = xreallocarray(NULL, GFS_MAX_TOKENS, sizeof(*tokens));
	for (i = 0; i < n; i++) {
		rc = cconn_read_line(&g->leader, &line);
		argc = rc < 0 ? 0 : proto_split(line, argv, 8);
		if (rc == 0 && (argc != 7 || strcmp(argv[0], "SERVER") != 0 ||
		    strlen(argv[1]) > GFS_MAX_ID || strlen(argv[2]) >= 64 ||
		    (state = ring_state_parse(argv[3])) < 0 ||
		    parse_u64(argv[4], 0, GFS_MAX_TOKENS, &ntok) < 0 ||
		    parse_u64(argv[5], 0, UINT32_MAX, &misses) < 0 ||
		    parse_u64(argv[6], 0, UINT64_MAX, &seen) < 0))
			rc = cconn_fail(&g->leader, GFS_EPROTO,
			    "bad SERVER line");
		if (rc == 0) {
			idx = ring_add_server(r, argv[1], argv[2], state,
			    (uint32_t)ntok, NULL);
			r->servers[idx].misses = (uint32_t)misses;
			r->servers[idx].seen_ms = seen;
			rc = read_tokens(g, tokens, (uint32_t)ntok);
			memcpy(r->servers[idx].tokens, tokens,
			    (size_t)ntok * sizeof(*tokens));
		}
		if (rc < 0) {
			free(tokens);
			ring_free(r);
			return gfs_leader_err(g, rc);
		}
	}
	free(tokens);
	if ((rc = cconn_read_line(&g->leader, &line)) < 0 ||
	    strcmp(line, "END") != 0) {
		ring_free(r);
		return gfs_leader_err(g, rc < 0 ? rc : cconn_fail(&g->leader,
		    GFS_EPROTO, "RING reply without END"));
	}
	ring_build(r);
	*out = r;
	return 0;
}

/* The reply to a RING sent before: the ring, in use from now on. */
static int
ring_read(struct gfs *g)
{
	struct ring	*r;
	int		 rc;

	if ((rc = ring_recv(g, &r)) < 0)
		return rc;
	gfs_set_ring(g, r);
	return 0;
}

/*
 * The ring again, after the leader named a newer epoch: *moved is 1 if
 * it places chunks otherwise (the ring in use stays then, for the
 * caller to undo its work on), 0 if only health changed (the new ring
 * is in use, with the same connections).
 */
int
gfs_ring_check(struct gfs *g, int *moved)
{
	struct ring	*r;
	int		 rc;

	cconn_printf(&g->leader, "RING\r\n");
	if ((rc = ring_recv(g, &r)) < 0)
		return rc;
	if ((*moved = !ring_same_placement(g->ring, r))) {
		ring_free(r);
		return 0;
	}
	ring_free(g->ring);	/* same servers: keep their connections */
	g->ring = r;
	return 0;
}

int
gfs_ring(struct gfs *g, uint64_t epoch)
{
	/* A ring newer than the LOOKUP that named epoch serves as well. */
	if (g->ring && g->ring->epoch >= epoch && epoch != UINT64_MAX)
		return 0;
	cconn_printf(&g->leader, "RING\r\n");
	return ring_read(g);
}

void
gfs_set_ring(struct gfs *g, struct ring *r)
{
	int i;

	gfs_drop_ring(g);
	g->ring = r;
	g->chunk = xcalloc((size_t)r->nservers + 1, sizeof(*g->chunk));
	g->down = xcalloc((size_t)r->nservers + 1, sizeof(*g->down));
	for (i = 0; i < r->nservers; i++)
		cconn_init(&g->chunk[i], r->servers[i].addr, g->timeout_ms);
}

/*
 * A kept connection must be idle: one that failed, has bytes unsent or
 * unread, has anything to read (the server closed it, or restarted at
 * the same address) or was idle so long the server may drop it is
 * dropped, and the next use connects again.  One poll() for them all.
 */
void
gfs_renew(struct gfs *g)
{
	struct pollfd	 pfd[GFS_MAX_SERVERS + 1];
	struct cconn	*cs[GFS_MAX_SERVERS + 1];
	uint64_t	 now = now_ms();
	int		 i, n = 0, nsrv = g->ring ? g->ring->nservers : 0;

	for (i = 0; i <= nsrv && i <= GFS_MAX_SERVERS; i++) {
		struct cconn *c = i < nsrv ? &g->chunk[i] : &g->leader;

		if (i < nsrv)
			g->down[i] = 0;
		if (c->err || (c->fd >= 0 && (c->out.len > 0 ||
		    c->in.len > c->consumed ||
		    now - c->used_ms > GFS_IDLE_TIMEOUT * 1000 / 2))) {
			cconn_reset(c);
			continue;
		}
		if (c->fd < 0)
			continue;
		pfd[n].fd = c->fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		cs[n++] = c;
	}
	if (n == 0 || poll(pfd, (nfds_t)n, 0) <= 0)
		return;
	for (i = 0; i < n; i++)
		if (pfd[i].revents)
			cconn_reset(cs[i]);
}

int
gfs_split_version(const char *arg, char *name, size_t namesz,
    uint32_t *version)
{
	const char	*at = strrchr(arg, '@');
	uint64_t	 v;
	size_t		 n = strlen(arg);

	*version = 0;
	if (at && at != arg && parse_u64(at + 1, 1, UINT32_MAX, &v) == 0) {
		*version = (uint32_t)v;
		n = (size_t)(at - arg);
	}
	if (n >= namesz)
		return GFS_ETOOBIG;
	memcpy(name, arg, n);
	name[n] = '\0';
	return 0;
}

int
gfs_lookup_send(struct gfs *g, const char *arg, struct gfs_file *f)
{
	char		 enc[GFS_MAX_NAME * 3 + 1];
	uint32_t	 want;

	memset(f, 0, sizeof(*f));
	if (gfs_split_version(arg, f->name, sizeof(f->name), &want) < 0 ||
	    name_encode(f->name, strlen(f->name), enc, sizeof(enc)) < 0)
		return GFS_ETOOBIG;
	if (want)
		cconn_printf(&g->leader, "LOOKUP %s@%u\r\n", enc, want);
	else
		cconn_printf(&g->leader, "LOOKUP %s\r\n", enc);
	return 0;
}

int
gfs_lookup(struct gfs *g, const char *arg, struct gfs_file *f)
{
	int rc;

	if ((rc = gfs_lookup_send(g, arg, f)) < 0)
		return rc;
	return gfs_lookup_read(g, f);
}

int
gfs_lookup_ring(struct gfs *g, const char *arg, struct gfs_file *f)
{
	int	rc, r, ring = g->ring == NULL;

	if ((rc = gfs_lookup_send(g, arg, f)) < 0)
		return rc;
	if (ring)
		cconn_printf(&g->leader, "RING\r\n");
	rc = gfs_lookup_read(g, f);
	/* Read the RING reply whatever LOOKUP said, to stay in step. */
	if (ring && (r = ring_read(g)) < 0 && rc == 0) {
		gfs_file_free(f);
		rc = r;
	}
	return rc;
}

int
gfs_lookup_read(struct gfs *g, struct gfs_file *f)
{
	char		*line, *argv[10];
	uint64_t	 ver, size, n, mtime, epoch, i;
	int		 rc, argc, mode = CHUNK_FIXED, bad;

	if ((rc = cconn_reply(&g->leader, &line)) < 0)
		return gfs_leader_err(g, rc);
	argc = proto_split(line, argv, 10);
	bad = (argc != 7 && argc != 9) || strcmp(argv[0], "FILE") != 0 ||
	    parse_u64(argv[2], 1, UINT32_MAX, &ver) < 0 ||
	    parse_u64(argv[3], 0, GFS_MAX_FILE_SIZE, &size) < 0 ||
	    parse_u64(argv[4], 0, GFS_MAX_FILE_CHUNKS, &n) < 0 ||
	    parse_u64(argv[5], 0, UINT64_MAX, &mtime) < 0 ||
	    parse_u64(argv[6], 0, UINT64_MAX, &epoch) < 0;
	if (!bad && argc == 9) {
		f->has_sha = strcmp(argv[7], "-") != 0;
		bad = (f->has_sha && hash_parse(argv[7], f->sha) < 0) ||
		    (mode = chunking_parse(argv[8])) < 0;
	}
	/* Fixed chunks: exactly so many; others: 1 byte at least each. */
	if (!bad)
		bad = mode == CHUNK_FIXED ?
		    n != (size + GFS_CHUNK_SIZE - 1) / GFS_CHUNK_SIZE :
		    n > size || n < (size + GFS_MAX_CHUNK - 1) / GFS_MAX_CHUNK;
	if (bad)
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "bad FILE reply"));
	f->chunking = mode;
	f->version = (uint32_t)ver;
	f->size = size;
	f->mtime = mtime;
	f->epoch = epoch;
	f->nchunks = (size_t)n;
	f->hashes = xreallocarray(NULL, f->nchunks + 1, GFS_HASH_LEN);
	for (i = 0; i < n; i++) {
		if ((rc = cconn_read_line(&g->leader, &line)) < 0 ||
		    hash_parse(line, f->hashes[i]) < 0) {
			gfs_file_free(f);
			return gfs_leader_err(g, rc < 0 ? rc : cconn_fail(&g->leader,
			    GFS_EPROTO, "bad hash line"));
		}
	}
	if ((rc = cconn_read_line(&g->leader, &line)) < 0 ||
	    strcmp(line, "END") != 0) {
		gfs_file_free(f);
		return gfs_leader_err(g, rc < 0 ? rc : cconn_fail(&g->leader,
		    GFS_EPROTO, "LOOKUP reply without END"));
	}
	return 0;
}

void
gfs_file_free(struct gfs_file *f)
{
	free(f->hashes);
	f->hashes = NULL;
}

int
gfs_list(struct gfs *g, const char *prefix,
    int (*cb)(const struct gfs_entry *, void *), void *arg)
{
	char		 enc[GFS_MAX_NAME * 3 + 1], *line, *argv[8];
	struct gfs_entry e;
	uint64_t	 v, size, mtime;
	int		 rc, argc, stop = 0;

	if (prefix && *prefix) {
		if (name_encode(prefix, strlen(prefix), enc, sizeof(enc)) < 0)
			return GFS_ETOOBIG;
		cconn_printf(&g->leader, "LIST %s\r\n", enc);
	} else
		cconn_printf(&g->leader, "LIST\r\n");
	for (;;) {
		if ((rc = cconn_reply(&g->leader, &line)) < 0)
			return gfs_leader_err(g, rc);
		if (strcmp(line, "END") == 0)
			return stop;
		argc = proto_split(line, argv, 8);
		if (argc != 5 || strcmp(argv[0], "ENTRY") != 0 ||
		    name_decode(argv[1]) < 0 ||
		    parse_u64(argv[2], 1, UINT32_MAX, &v) < 0 ||
		    parse_u64(argv[3], 0, UINT64_MAX, &size) < 0 ||
		    parse_u64(argv[4], 0, UINT64_MAX, &mtime) < 0)
			return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
			    "bad ENTRY line"));
		if (stop)
			continue;
		e.name = argv[1];
		e.version = (uint32_t)v;
		e.size = size;
		e.mtime = mtime;
		stop = cb(&e, arg);
	}
}

/*
 * Send a command about one name (percent-encoded into it where the
 * format has %s) and read "OK" or "OK <n>".
 */
static int
leader_ok(struct gfs *g, uint64_t *n, const char *verb, const char *name,
    const char *rest)
{
	char	 enc[GFS_MAX_NAME * 3 + 1], *line, *argv[4];
	int	 rc, argc;

	if (name_encode(name, strlen(name), enc, sizeof(enc)) < 0)
		return GFS_ETOOBIG;
	cconn_printf(&g->leader, "%s %s%s%s\r\n", verb, enc, rest ? " " : "",
	    rest ? rest : "");
	if ((rc = cconn_reply(&g->leader, &line)) < 0) {
		if (rc == GFS_ESERVER &&
		    strncmp(g->leader.errmsg, "EXISTS ", 7) == 0)
			rc = GFS_EEXIST;
		return gfs_leader_err(g, rc);
	}
	argc = proto_split(line, argv, 4);
	*n = 0;
	if (argc < 1 || argc > 2 || strcmp(argv[0], "OK") != 0 ||
	    (argc == 2 && parse_u64(argv[1], 0, UINT64_MAX, n) < 0))
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "bad %s reply", verb));
	return 0;
}

int
gfs_delete(struct gfs *g, const char *name, int purge)
{
	uint64_t n;

	return leader_ok(g, &n, purge ? "PURGE" : "DELETE", name, NULL);
}

int
gfs_prune(struct gfs *g, const char *name, uint32_t keep, uint64_t *n)
{
	char rest[16];

	snprintf(rest, sizeof(rest), "%u", keep);
	return leader_ok(g, n, "PRUNE", name, rest);
}

int
gfs_undelete(struct gfs *g, const char *name, const char *newname,
    uint32_t *version)
{
	char		enc[GFS_MAX_NAME * 3 + 1];
	uint64_t	v;
	int		rc;

	if (newname && name_encode(newname, strlen(newname), enc,
	    sizeof(enc)) < 0)
		return GFS_ETOOBIG;
	rc = leader_ok(g, &v, "UNDELETE", name, newname ? enc : NULL);
	*version = (uint32_t)v;
	return rc;
}

int
gfs_versions(struct gfs *g, const char *name,
    int (*cb)(const struct gfs_version *, void *), void *arg)
{
	char		   enc[GFS_MAX_NAME * 3 + 1], *line, *argv[8];
	struct gfs_version v;
	uint64_t	   ver, n;
	int		   rc, stop = 0;

	if (name_encode(name, strlen(name), enc, sizeof(enc)) < 0)
		return GFS_ETOOBIG;
	cconn_printf(&g->leader, "VERSIONS %s\r\n", enc);
	for (;;) {
		if ((rc = cconn_reply(&g->leader, &line)) < 0)
			return gfs_leader_err(g, rc);
		if (strcmp(line, "END") == 0)
			return stop;
		memset(&v, 0, sizeof(v));
		if (proto_split(line, argv, 8) != 7 ||
		    strcmp(argv[0], "VERSION") != 0 ||
		    parse_u64(argv[1], 1, UINT32_MAX, &ver) < 0 ||
		    parse_u64(argv[2], 0, UINT64_MAX, &v.size) < 0 ||
		    parse_u64(argv[3], 0, UINT64_MAX, &v.mtime) < 0 ||
		    ((v.has_sha = strcmp(argv[4], "-") != 0) &&
		    hash_parse(argv[4], v.sha) < 0) ||
		    (v.chunking = chunking_parse(argv[5])) < 0 ||
		    parse_u64(argv[6], 0, UINT64_MAX, &n) < 0)
			return gfs_leader_err(g, cconn_fail(&g->leader,
			    GFS_EPROTO, "bad VERSION line"));
		v.version = (uint32_t)ver;
		v.nchunks = (size_t)n;
		if (!stop)
			stop = cb(&v, arg);
	}
}

int
gfs_trash(struct gfs *g, const char *prefix,
    int (*cb)(const struct gfs_trashed *, void *), void *arg)
{
	char		   enc[GFS_MAX_NAME * 3 + 1], *line, *argv[8];
	struct gfs_trashed t;
	uint64_t	   latest, nv;
	int		   rc, stop = 0;

	if (prefix && *prefix) {
		if (name_encode(prefix, strlen(prefix), enc, sizeof(enc)) < 0)
			return GFS_ETOOBIG;
		cconn_printf(&g->leader, "TRASH %s\r\n", enc);
	} else
		cconn_printf(&g->leader, "TRASH\r\n");
	for (;;) {
		if ((rc = cconn_reply(&g->leader, &line)) < 0)
			return gfs_leader_err(g, rc);
		if (strcmp(line, "END") == 0)
			return stop;
		if (proto_split(line, argv, 8) != 6 ||
		    strcmp(argv[0], "TRASHED") != 0 ||
		    name_decode(argv[1]) < 0 ||
		    parse_u64(argv[2], 0, UINT64_MAX, &t.deleted) < 0 ||
		    parse_u64(argv[3], 0, UINT32_MAX, &latest) < 0 ||
		    parse_u64(argv[4], 0, UINT32_MAX, &nv) < 0 ||
		    parse_u64(argv[5], 0, UINT64_MAX, &t.size) < 0)
			return gfs_leader_err(g, cconn_fail(&g->leader,
			    GFS_EPROTO, "bad TRASHED line"));
		t.name = argv[1];
		t.latest = (uint32_t)latest;
		t.nversions = (uint32_t)nv;
		if (!stop)
			stop = cb(&t, arg);
	}
}

int
gfs_stats(struct cconn *c, char **json)
{
	char		*line, *argv[4];
	const uint8_t	*data;
	uint64_t	 len;
	int		 rc;

	cconn_printf(c, "STATS\r\n");
	if ((rc = cconn_reply(c, &line)) < 0)
		return rc;
	if (proto_split(line, argv, 4) != 3 || strcmp(argv[0], "VALUE") != 0 ||
	    parse_u64(argv[2], 0, 1 << 20, &len) < 0)
		return cconn_fail(c, GFS_EPROTO, "bad STATS reply");
	if ((rc = cconn_read_block(c, (size_t)len, &data)) < 0)
		return rc;
	*json = xstrndup((const char *)data, (size_t)len);
	if ((rc = cconn_read_line(c, &line)) < 0 || strcmp(line, "END") != 0) {
		free(*json);
		return rc < 0 ? rc : cconn_fail(c, GFS_EPROTO, "STATS without END");
	}
	return 0;
}

/* COMMIT_GROUP or ABORT_GROUP of the n mappings <base>-<i>. */
static int
group_verb(struct gfs *g, const char *verb, const char *base, size_t n)
{
	char	*line;
	int	 rc;

	cconn_printf(&g->leader, "%s %s %zu\r\n", verb, base, n);
	if ((rc = cconn_reply(&g->leader, &line)) < 0)
		return gfs_leader_err(g, rc);
	if (strncmp(line, "OK", 2) != 0)
		return gfs_leader_err(g, cconn_fail(&g->leader, GFS_EPROTO,
		    "unexpected reply '%.40s'", line));
	return 0;
}

int
gfs_commit_group(struct gfs *g, const char *base, size_t n)
{
	return group_verb(g, "COMMIT_GROUP", base, n);
}

int
gfs_abort_group(struct gfs *g, const char *base, size_t n)
{
	return group_verb(g, "ABORT_GROUP", base, n);
}
