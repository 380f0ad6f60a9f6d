/*
 * The leader's commands.
 *
 * To add a command: write cmd_<verb>() below with its syntax from
 * gfs-protocol(7) in the comment, add a row to leader_cmds[] (name, min
 * and max argc with the verb, flags), document it in
 * man/gfs-protocol.7, and test it in t/t2*.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "banned.h"
#include "chunker.h"
#include "client.h"
#include "crash.h"
#include "db.h"
#include "hash.h"
#include "leader.h"
#include "proto.h"
#include "xmalloc.h"

#define SHA_HEX(vi, buf)	((vi)->has_sha ? (hash_hex((vi)->sha, buf), buf) : "-")

/*
 * Group commit (lib/server.c, db.c): every transaction commits without
 * a log flush and holds every reply until leader_sync() has flushed the
 * log once for the whole pass of the loop.
 */
void
leader_dirty(void)
{
	server_need_sync(&ld->srv);
}

void
leader_sync(struct server *srv)
{
	(void)srv;
	if (db_flush() < 0)
		fatalx("cannot make transactions durable: log flush failed");
}

/* One transaction per pass: see db_pass_begin(). */
void
leader_pass_begin(struct server *srv)
{
	(void)srv;
	db_pass_begin();
}

void
leader_pass_end(struct server *srv)
{
	(void)srv;
	if (db_pass_end() < 0)
		fatalx("cannot commit a pass's transaction");
}

/* A crash point "after the transaction": after it is durable, then. */
#define CRASH_AFTER_TXN(name) do {			\
	if (crash_spec != NULL) {			\
		if (db_pass_commit() < 0)		\
			fatalx("cannot commit a pass");	\
		server_sync_now(&ld->srv);		\
		CRASH_POINT(name);			\
	}						\
} while (0)

static int
load_pending(const char *txid, void *arg)
{
	(void)arg;
	pending_track(txid, now_ms() + ld->pending_ttl_ms);
	return 0;
}

/* Servers, ring and pending mappings from the database. */
int
leader_load(void)
{
	if (member_load() < 0 || db_pending_each(load_pending, NULL) < 0)
		return -1;
	return 0;
}

void
pending_track(const char *txid, uint64_t deadline)
{
	struct lpending *p = xcalloc(1, sizeof(*p));

	snprintf(p->txid, sizeof(p->txid), "%s", txid);
	p->deadline = deadline;
	p->next = ld->pending;
	ld->pending = p;
	ld->npending++;
}

void
pending_untrack(const char *txid)
{
	struct lpending **pp, *p;

	for (pp = &ld->pending; (p = *pp) != NULL; pp = &p->next)
		if (strcmp(p->txid, txid) == 0) {
			*pp = p->next;
			free(p);
			ld->npending--;
			return;
		}
}

void
pending_expire(uint64_t now)
{
	struct lpending **pp = &ld->pending, *p;

	while ((p = *pp) != NULL) {
		if (p->deadline > now) {
			pp = &p->next;
			continue;
		}
		if (db_pending_del(p->txid) == GFS_EIO) {
			pp = &p->next;	/* try again next tick */
			continue;
		}
		log_info("pending txid %s expired", p->txid);
		*pp = p->next;
		free(p);
		ld->npending--;
		ld->expired++;
	}
}

void
pending_free_all(void)
{
	struct lpending *p;

	while ((p = ld->pending) != NULL) {
		ld->pending = p->next;
		free(p);
	}
}

/* Decode and check a name argument; replies on failure. */
static int
arg_name(struct conn *c, char *arg)
{
	const char	*why;
	int		 n = name_decode(arg);

	if (n < 0) {
		reply_error(c, "BAD_NAME", "bad percent-encoding");
		return -1;
	}
	if ((why = name_check(arg, (size_t)n)) != NULL) {
		reply_error(c, "BAD_NAME", "%s", why);
		return -1;
	}
	return 0;
}

static int
arg_txid(struct conn *c, const char *arg)
{
	if (txid_valid(arg))
		return 0;
	reply_error(c, "BAD_ARGS", "txid must be 1 to %d characters of "
	    "[A-Za-z0-9_-]", GFS_MAX_TXID);
	return -1;
}

static void
reply_dberr(struct conn *c, int rc, const char *what)
{
	if (rc == GFS_ENOENT)
		reply_error(c, "NOT_FOUND", "%s", what);
	else
		reply_error(c, "IO", "database failure");
}

/* PING -> PONG leader */
static void
cmd_ping(struct conn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(c, "PONG leader");
}

/* HELLO <id> <host:port> -> OK <epoch> <gcseq> */
static void
cmd_hello(struct conn *c, int argc, char **argv)
{
	char		 host[64];
	uint16_t	 port;
	int		 rc;

	(void)argc;
	if (!txid_valid(argv[1])) {
		reply_error(c, "BAD_ARGS", "id must be 1 to %d characters of "
		    "[A-Za-z0-9_-]", GFS_MAX_ID);
		return;
	}
	if (strlen(argv[2]) >= sizeof(ld->ring->servers[0].addr) ||
	    parse_hostport(argv[2], host, sizeof(host), &port) < 0 || port == 0) {
		reply_error(c, "BAD_ARGS", "address must be HOST:PORT");
		return;
	}
	rc = member_hello(argv[1], argv[2]);
	if (rc == GFS_ETOOBIG) {
		reply_error(c, "BUSY", "ring is full (%d servers)", GFS_MAX_SERVERS);
		return;
	}
	if (rc < 0) {
		reply_error(c, "IO", "database failure");
		return;
	}
	reply_line(c, "OK %llu %llu", (unsigned long long)ld->ring->epoch,
	    (unsigned long long)db_gcseq());
}

#define TOKENS_PER_LINE	128

/*
 * RING -> RING <epoch> <replicas> <n> <chunking>
 *         SERVER <id> <addr> <state> <ntokens> <misses> <seen-ms-ago>
 *         TOKENS <16 hex digits>... (up to 128 a line, ntokens in all)
 *         ... END
 */
static void
cmd_ring(struct conn *c, int argc, char **argv)
{
	struct ring	*r = ld->ring;
	uint64_t	 now = now_ms();
	uint32_t	 k;
	int		 i;

	(void)argc;
	(void)argv;
	reply_line(c, "RING %llu %d %d %s", (unsigned long long)r->epoch,
	    ld->replicas, r->nservers, chunking_name(ld->chunking));
	for (i = 0; i < r->nservers; i++) {
		struct ring_server *rs = &r->servers[i];

		reply_line(c, "SERVER %s %s %s %u %u %llu", rs->id, rs->addr,
		    ring_state_name(rs->state), rs->ntokens, rs->misses,
		    (unsigned long long)(now - ld->last_seen[i]));
		for (k = 0; k < rs->ntokens; k++) {
			char tok[24];

			snprintf(tok, sizeof(tok), "%s%016llx",
			    k % TOKENS_PER_LINE ? " " : "TOKENS ",
			    (unsigned long long)rs->tokens[k]);
			reply_raw(c, tok, strlen(tok));
			if (k % TOKENS_PER_LINE == TOKENS_PER_LINE - 1 ||
			    k + 1 == rs->ntokens)
				reply_raw(c, "\r\n", 2);
		}
	}
	reply_end(c);
}

/*
 * LOOKUP <name>[@<version>] -> FILE <name> <version> <size> <nchunks>
 *     <mtime> <epoch> <sha256|-> <chunking>, hash lines, END
 */
static void
cmd_lookup(struct conn *c, int argc, char **argv)
{
	char		*at = strrchr(argv[1], '@'), hex[GFS_HEX_LEN + 1];
	char		 sha[GFS_HEX_LEN + 1];
	char		 enc[GFS_MAX_NAME * 3 + 1];
	uint64_t	 v = 0;
	struct vinfo	 vi;
	uint32_t	 i;
	int		 rc;

	(void)argc;
	if (at) {
		*at = '\0';
		if (parse_u64(at + 1, 1, UINT32_MAX, &v) < 0) {
			reply_error(c, "BAD_NUMBER", "bad version");
			return;
		}
	}
	if (arg_name(c, argv[1]) < 0)
		return;
	if ((rc = db_lookup(argv[1], (uint32_t)v, &vi)) < 0) {
		reply_dberr(c, rc, "no such file");
		return;
	}
	name_encode(argv[1], strlen(argv[1]), enc, sizeof(enc));
	reply_line(c, "FILE %s %u %llu %u %llu %llu %s %s", enc, vi.version,
	    (unsigned long long)vi.size, vi.nchunks,
	    (unsigned long long)vi.mtime, (unsigned long long)ld->ring->epoch,
	    SHA_HEX(&vi, sha), chunking_name((int)vi.chunking));
	for (i = 0; i < vi.nchunks; i++) {
		hash_hex(vi.hashes[i], hex);
		hex[GFS_HEX_LEN] = '\r';
		reply_raw(c, hex, GFS_HEX_LEN + 1);
		reply_raw(c, "\n", 1);
	}
	reply_end(c);
	free(vi.hashes);
}

/*
 * PUT_PENDING <txid> <name> <size> <nchunks> [<sha256>|- [<chunking>
 *     [<if-version>|-]]] + nchunks hash lines -> OK <gcseq> <epoch>
 * gcseq is the last garbage-collection sequence number handed out; the
 * client passes it on with its COMMIT to the chunk servers, which keep
 * what it committed from every deletion decided before.  epoch is the
 * ring's: a client that placed the chunks on another ring (one it kept
 * from an earlier request) starts again on the new one.
 */
static void
cmd_put_pending(struct conn *c, int argc, char **argv)
{
	struct pinfo	  pi;
	size_t		  n;
	uint64_t	  size, nchunks, v, lo, hi;
	int		  rc, mode = CHUNK_FIXED;

	memset(&pi, 0, sizeof(pi));
	pi.hashes = conn_hashes(c, &n);
	pi.nchunks = (uint32_t)n;
	pi.if_version = -1;
	if (arg_txid(c, argv[1]) < 0 || arg_name(c, argv[2]) < 0)
		return;
	pi.name = argv[2];
	if (parse_u64(argv[3], 0, GFS_MAX_FILE_SIZE, &size) < 0) {
		reply_error(c, "BAD_NUMBER", "size must be 0 to %llu",
		    (unsigned long long)GFS_MAX_FILE_SIZE);
		return;
	}
	pi.size = size;
	if (argc > 5 && strcmp(argv[5], "-") != 0) {
		if (hash_parse(argv[5], pi.sha) < 0) {
			reply_error(c, "BAD_HASH", "file hash must be 64 hex "
			    "digits or -");
			return;
		}
		pi.has_sha = 1;
	}
	if (argc > 6 && (mode = chunking_parse(argv[6])) < 0) {
		reply_error(c, "BAD_ARGS", "chunking must be fixed or cdc");
		return;
	}
	pi.chunking = (uint32_t)mode;
	if (argc > 7 && strcmp(argv[7], "-") != 0) {
		if (parse_u64(argv[7], 0, UINT32_MAX, &v) < 0) {
			reply_error(c, "BAD_NUMBER", "bad if-version");
			return;
		}
		pi.if_version = (int64_t)v;
	}
	/* Fixed chunks: exactly so many; others: between the bounds. */
	lo = (size + GFS_MAX_CHUNK - 1) / GFS_MAX_CHUNK;
	hi = mode == CHUNK_FIXED ? (size + GFS_CHUNK_SIZE - 1) / GFS_CHUNK_SIZE :
	    size;
	if (mode == CHUNK_FIXED)
		lo = hi;
	if (hi > GFS_MAX_FILE_CHUNKS)
		hi = GFS_MAX_FILE_CHUNKS;
	if (parse_u64(argv[4], 0, GFS_MAX_FILE_CHUNKS, &nchunks) < 0 ||
	    nchunks < lo || nchunks > hi) {
		reply_error(c, "BAD_NUMBER", "%llu bytes make %llu to %llu "
		    "chunks", (unsigned long long)size, (unsigned long long)lo,
		    (unsigned long long)hi);
		return;
	}
	rc = db_pending_put(argv[1], &pi);
	if (rc == GFS_EINVAL) {
		reply_error(c, "CONFLICT", "txid already pending");
		return;
	}
	if (rc < 0) {
		reply_dberr(c, rc, "pending");
		return;
	}
	if (rc == 0)
		pending_track(argv[1], now_ms() + ld->pending_ttl_ms);
	CRASH_AFTER_TXN("leader.pending.after_txn");
	reply_line(c, "OK %llu %llu", (unsigned long long)db_gcseq(),
	    (unsigned long long)ld->ring->epoch);
}

/*
 * COMMIT <txid> -> OK <version>; ERROR CONFLICT when the mapping's
 * if-version is not the current version (the mapping is dropped).
 */
static void
cmd_commit(struct conn *c, int argc, char **argv)
{
	uint32_t	version, cur;
	int		rc;

	(void)argc;
	if (arg_txid(c, argv[1]) < 0)
		return;
	rc = db_commit(argv[1], ld->keep_versions, &version, &cur);
	if (rc == GFS_ECONFLICT) {
		pending_untrack(argv[1]);
		reply_error(c, "CONFLICT", "current version is %u", cur);
		return;
	}
	if (rc < 0) {
		reply_dberr(c, rc, "no pending txid");
		return;
	}
	pending_untrack(argv[1]);
	CRASH_AFTER_TXN("leader.commit.after_txn");
	reply_line(c, "OK %u", version);
}

/*
 * A group is the pending mappings <base>-0 to <base>-(n-1), the files
 * of one gfs put -r.  The base leaves room for "-<n>" in a txid.
 */
static int
arg_group(struct conn *c, char **argv, uint32_t *n)
{
	uint64_t v;

	if (!txid_valid(argv[1]) || strlen(argv[1]) > GFS_MAX_TXID - 11) {
		reply_error(c, "BAD_ARGS", "group must be 1 to %d characters "
		    "of [A-Za-z0-9_-]", GFS_MAX_TXID - 11);
		return -1;
	}
	if (parse_u64(argv[2], 1, GFS_MAX_GROUP, &v) < 0) {
		reply_error(c, "BAD_NUMBER", "count must be 1 to %d",
		    GFS_MAX_GROUP);
		return -1;
	}
	*n = (uint32_t)v;
	return 0;
}

static void
untrack_group(const char *base, uint32_t n)
{
	char		txid[GFS_MAX_TXID + 1];
	uint32_t	i;

	/* Newest first: the list is a stack, so each is near its head. */
	for (i = n; i-- > 0; ) {
		snprintf(txid, sizeof(txid), "%s-%u", base, i);
		pending_untrack(txid);
	}
}

/*
 * COMMIT_GROUP <base> <n> -> OK <n>: every pending mapping <base>-0 to
 * <base>-(n-1) becomes a version in one transaction, or none does
 * (ERROR NOT_FOUND or CONFLICT naming the first missing or failing).
 */
static void
cmd_commit_group(struct conn *c, int argc, char **argv)
{
	char		failed[GFS_MAX_TXID + 1] = "";
	uint32_t	n, cur;
	int		rc;

	(void)argc;
	if (arg_group(c, argv, &n) < 0)
		return;
	rc = db_commit_group(argv[1], n, ld->keep_versions, failed,
	    sizeof(failed), &cur);
	if (rc == GFS_ECONFLICT) {
		reply_error(c, "CONFLICT", "%s: current version is %u", failed,
		    cur);
		return;
	}
	if (rc == GFS_ENOENT) {
		reply_error(c, "NOT_FOUND", "no pending txid '%s'", failed);
		return;
	}
	if (rc < 0) {
		reply_dberr(c, rc, "commit");
		return;
	}
	untrack_group(argv[1], n);
	CRASH_AFTER_TXN("leader.commit.after_txn");
	reply_line(c, "OK %u", n);
}

/* ABORT_GROUP <base> <n> -> OK <dropped> */
static void
cmd_abort_group(struct conn *c, int argc, char **argv)
{
	uint32_t	n, dropped;
	int		rc;

	(void)argc;
	if (arg_group(c, argv, &n) < 0)
		return;
	if ((rc = db_pending_del_group(argv[1], n, &dropped)) < 0) {
		reply_dberr(c, rc, "abort");
		return;
	}
	untrack_group(argv[1], n);
	reply_line(c, "OK %u", dropped);
}

/* ABORT <txid> -> OK */
static void
cmd_abort(struct conn *c, int argc, char **argv)
{
	int rc;

	(void)argc;
	if (arg_txid(c, argv[1]) < 0)
		return;
	if ((rc = db_pending_del(argv[1])) < 0) {
		reply_dberr(c, rc, "no pending txid");
		return;
	}
	pending_untrack(argv[1]);
	reply_ok(c);
}

static int
list_one(const char *name, const struct vinfo *vi, void *arg)
{
	char enc[GFS_MAX_NAME * 3 + 1];

	name_encode(name, strlen(name), enc, sizeof(enc));
	reply_line(arg, "ENTRY %s %u %llu %llu", enc, vi->version,
	    (unsigned long long)vi->size, (unsigned long long)vi->mtime);
	return 0;
}

/* LIST [<prefix>] -> ENTRY <name> <version> <size> <mtime> ... END */
static void
cmd_list(struct conn *c, int argc, char **argv)
{
	char	*prefix = argc > 1 ? argv[1] : "";

	if (argc > 1 && name_decode(prefix) < 0) {
		reply_error(c, "BAD_NAME", "bad percent-encoding");
		return;
	}
	if (db_list(prefix, list_one, c) < 0) {
		reply_error(c, "IO", "database failure");
		return;
	}
	reply_end(c);
}

/* DELETE <name> -> OK: the name and every version go to the trash. */
static void
cmd_delete(struct conn *c, int argc, char **argv)
{
	int rc;

	(void)argc;
	if (arg_name(c, argv[1]) < 0)
		return;
	if ((rc = db_delete(argv[1])) < 0) {
		reply_dberr(c, rc, "no such file");
		return;
	}
	reply_ok(c);
}

/* PURGE <name> -> OK <versions>: the name and its trash entries, now. */
static void
cmd_purge(struct conn *c, int argc, char **argv)
{
	uint64_t	n;
	int		rc;

	(void)argc;
	if (arg_name(c, argv[1]) < 0)
		return;
	if ((rc = db_purge(argv[1], &n)) < 0) {
		reply_dberr(c, rc, "no such file, live or in the trash");
		return;
	}
	gc_soon();
	reply_line(c, "OK %llu", (unsigned long long)n);
}

/* PRUNE <name> <keep> -> OK <versions dropped> */
static void
cmd_prune(struct conn *c, int argc, char **argv)
{
	uint64_t	keep, n;
	int		rc;

	(void)argc;
	if (arg_name(c, argv[1]) < 0)
		return;
	if (parse_u64(argv[2], 1, UINT32_MAX, &keep) < 0) {
		reply_error(c, "BAD_NUMBER", "keep must be 1 or more");
		return;
	}
	if ((rc = db_prune(argv[1], (uint32_t)keep, &n)) < 0) {
		reply_dberr(c, rc, "no such file");
		return;
	}
	if (n > 0)
		gc_soon();
	reply_line(c, "OK %llu", (unsigned long long)n);
}

static int
version_one(const struct vinfo *vi, void *arg)
{
	char sha[GFS_HEX_LEN + 1];

	reply_line(arg, "VERSION %u %llu %llu %s %s %u", vi->version,
	    (unsigned long long)vi->size, (unsigned long long)vi->mtime,
	    SHA_HEX(vi, sha), chunking_name((int)vi->chunking), vi->nchunks);
	return 0;
}

/*
 * VERSIONS <name> -> VERSION <version> <size> <mtime> <sha256|->
 *     <chunking> <nchunks> ..., newest first, END
 */
static void
cmd_versions(struct conn *c, int argc, char **argv)
{
	int rc;

	(void)argc;
	if (arg_name(c, argv[1]) < 0)
		return;
	if ((rc = db_versions(argv[1], version_one, c)) < 0) {
		reply_dberr(c, rc, "no such file");
		return;
	}
	reply_end(c);
}

static int
trash_one(const char *name, const struct tinfo *ti, void *arg)
{
	char enc[GFS_MAX_NAME * 3 + 1];

	name_encode(name, strlen(name), enc, sizeof(enc));
	reply_line(arg, "TRASHED %s %llu %u %u %llu", enc,
	    (unsigned long long)ti->deleted, ti->latest, ti->nversions,
	    (unsigned long long)ti->size);
	return 0;
}

/*
 * TRASH [<prefix>] -> TRASHED <name> <deleted> <latest> <nversions>
 *     <size> ... END
 */
static void
cmd_trash(struct conn *c, int argc, char **argv)
{
	char	*prefix = argc > 1 ? argv[1] : "";

	if (argc > 1 && name_decode(prefix) < 0) {
		reply_error(c, "BAD_NAME", "bad percent-encoding");
		return;
	}
	if (db_trash_list(prefix, trash_one, c) < 0) {
		reply_error(c, "IO", "database failure");
		return;
	}
	reply_end(c);
}

/* UNDELETE <name> [<newname>] -> OK <version> */
static void
cmd_undelete(struct conn *c, int argc, char **argv)
{
	uint32_t	version;
	int		rc;

	if (arg_name(c, argv[1]) < 0 || (argc > 2 && arg_name(c, argv[2]) < 0))
		return;
	rc = db_undelete(argv[1], argc > 2 ? argv[2] : NULL, &version);
	if (rc == GFS_EEXIST) {
		reply_error(c, "EXISTS", "a file of that name exists");
		return;
	}
	if (rc < 0) {
		reply_dberr(c, rc, "not in the trash");
		return;
	}
	reply_line(c, "OK %u", version);
}

/* STATS -> VALUE stats <len>\r\n<json>\r\nEND */
static void
cmd_stats(struct conn *c, int argc, char **argv)
{
	cJSON		*o = cJSON_CreateObject();
	char		*s;
	struct dbstats	 st;

	(void)argc;
	(void)argv;
	cJSON_AddStringToObject(o, "version", GFS_VERSION);
	db_stats(&st);
	cJSON_AddNumberToObject(o, "files", (double)st.files);
	cJSON_AddNumberToObject(o, "versions", (double)st.versions);
	cJSON_AddNumberToObject(o, "logical_bytes", (double)st.logical);
	cJSON_AddNumberToObject(o, "trash", (double)st.trash);
	cJSON_AddNumberToObject(o, "chunks", (double)st.chunks);
	cJSON_AddNumberToObject(o, "gc_queue", (double)st.gcq);
	cJSON_AddNumberToObject(o, "gc_seq", (double)db_gcseq());
	cJSON_AddNumberToObject(o, "gc_rounds", (double)ld->gc_rounds);
	cJSON_AddNumberToObject(o, "syncs", (double)ld->srv.syncs);
	cJSON_AddNumberToObject(o, "txns", (double)db_txns());
	cJSON_AddNumberToObject(o, "gc_deleted", (double)ld->gc_deleted);
	cJSON_AddNumberToObject(o, "gc_failed", (double)ld->gc_failed);
	cJSON_AddNumberToObject(o, "keep_versions", ld->keep_versions);
	cJSON_AddStringToObject(o, "chunking", chunking_name(ld->chunking));
	cJSON_AddNumberToObject(o, "servers", ld->ring->nservers);
	cJSON_AddNumberToObject(o, "servers_active", ring_active(ld->ring));
	cJSON_AddNumberToObject(o, "epoch", (double)ld->ring->epoch);
	cJSON_AddNumberToObject(o, "replicas", ld->replicas);
	cJSON_AddNumberToObject(o, "tokens", ld->tokens);
	cJSON_AddNumberToObject(o, "pending", (double)ld->npending);
	cJSON_AddNumberToObject(o, "pending_expired", (double)ld->expired);
	cJSON_AddNumberToObject(o, "connections", ld->srv.nconns);
	cJSON_AddNumberToObject(o, "uptime",
	    (double)((now_ms() - ld->started_ms) / 1000));
	s = cJSON_PrintUnformatted(o);
	reply_value(c, "stats", s, strlen(s));
	reply_end(c);
	cJSON_free(s);
	cJSON_Delete(o);
}

const struct cmd leader_cmds[] = {
	{ "PING",		1, 1, CMD_NOHOLD, cmd_ping, 0 },
	{ "STATS",		1, 1, 0, cmd_stats, 0 },
	{ "HELLO",		3, 3, 0, cmd_hello, 0 },
	{ "RING",		1, 1, 0, cmd_ring, 0 },
	{ "LOOKUP",		2, 2, 0, cmd_lookup, 0 },
	{ "PUT_PENDING",	5, 8, CMD_HASHES | CMD_NOHOLD, cmd_put_pending, 4 },
	{ "COMMIT",		2, 2, 0, cmd_commit, 0 },
	{ "COMMIT_GROUP",	3, 3, 0, cmd_commit_group, 0 },
	{ "ABORT_GROUP",	3, 3, 0, cmd_abort_group, 0 },
	{ "ABORT",		2, 2, 0, cmd_abort, 0 },
	{ "LIST",		1, 2, 0, cmd_list, 0 },
	{ "DELETE",		2, 2, 0, cmd_delete, 0 },
	{ "PURGE",		2, 2, 0, cmd_purge, 0 },
	{ "PRUNE",		3, 3, 0, cmd_prune, 0 },
	{ "VERSIONS",		2, 2, 0, cmd_versions, 0 },
	{ "TRASH",		1, 2, 0, cmd_trash, 0 },
	{ "UNDELETE",		2, 3, 0, cmd_undelete, 0 },
	{ NULL,			0, 0, 0, NULL, 0 },
};
