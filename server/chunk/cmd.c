/*
 * The chunk server's commands.
 *
 * To add a command: write cmd_<verb>() below with its syntax from
 * gfs-protocol(7) in the comment, add a row to chunk_cmds[] (name, min
 * and max argc with the verb, flags), document it in
 * man/gfs-protocol.7, and test it in t/t1*.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "banned.h"
#include "chunkd.h"
#include "client.h"
#include "crash.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

/*
 * A pending transaction: chunks held in memory until COMMIT, each in
 * the block it was read into (conn_take_data), which goes back to the
 * server's pool after (server_data_free).  Copying them into blocks of
 * the transaction instead made put -r slower: twice the copies, into
 * cold memory.
 */
struct txn_item {
	uint8_t		 hash[GFS_HASH_LEN];
	uint8_t		*data;
	size_t		 len;
	uint64_t	 named;	/* last round that named it meanwhile */
};

struct txn {
	struct txn	*next;
	char		 txid[GFS_MAX_TXID + 1];
	uint64_t	 deadline;
	struct txn_item	*items;
	size_t		 n, cap;
	uint64_t	 bytes;
};

static struct txn *
txn_find(const char *txid, int create)
{
	struct txn *t;

	for (t = cd->txns; t; t = t->next)
		if (strcmp(t->txid, txid) == 0)
			return t;
	if (!create)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	snprintf(t->txid, sizeof(t->txid), "%s", txid);
	t->next = cd->txns;
	cd->txns = t;
	return t;
}

static void
txn_drop(struct txn *t)
{
	struct txn	**pp;
	size_t		  i;

	for (pp = &cd->txns; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	for (i = 0; i < t->n; i++)
		server_data_free(&cd->srv, t->items[i].data,
		    t->items[i].len);
	cd->pending_bytes -= t->bytes;
	cd->pending_chunks -= t->n;
	free(t->items);
	free(t);
}

void
txn_expire(uint64_t now)
{
	struct txn *t, *next;

	for (t = cd->txns; t; t = next) {
		next = t->next;
		if (t->deadline <= now) {
			log_info("pending txid %s expired: %zu chunks dropped",
			    t->txid, t->n);
			cd->expired++;
			txn_drop(t);
		}
	}
}

void
txn_free_all(void)
{
	while (cd->txns)
		txn_drop(cd->txns);
}

static int
parse_hashes(struct conn *c, int argc, char **argv, uint8_t (*out)[GFS_HASH_LEN])
{
	int i;

	for (i = 1; i < argc; i++)
		if (hash_parse(argv[i], out[i - 1]) < 0) {
			reply_error(c, "BAD_HASH", "argument %d is not 64 "
			    "lower-case hex digits", i);
			return -1;
		}
	return 0;
}

/* PING -> PONG <id> */
static void
cmd_ping(struct conn *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(c, "PONG %s", cd->id);
}

/* PUT_PENDING <txid> <hash> <len>\r\n<data>\r\n -> STORED */
static void
cmd_put_pending(struct conn *c, int argc, char **argv)
{
	uint8_t		 hash[GFS_HASH_LEN], got[GFS_HASH_LEN];
	const uint8_t	*data;
	size_t		 len;
	struct txn	*t;
	struct txn_item	*it;

	(void)argc;
	data = conn_data(c, &len);
	if (!txid_valid(argv[1])) {
		reply_error(c, "BAD_ARGS", "txid must be 1 to %d characters of "
		    "[A-Za-z0-9_-]", GFS_MAX_TXID);
		return;
	}
	if (hash_parse(argv[2], hash) < 0) {
		reply_error(c, "BAD_HASH", "hash must be 64 lower-case hex digits");
		return;
	}
	hash_sha256(data, len, got);
	if (memcmp(got, hash, GFS_HASH_LEN) != 0) {
		reply_error(c, "HASH_MISMATCH", "data does not match its hash");
		return;
	}
	if (cd->pending_bytes + len > GFS_MAX_PENDING_BYTES) {
		reply_error(c, "BUSY", "pending bytes over %llu",
		    (unsigned long long)GFS_MAX_PENDING_BYTES);
		return;
	}
	t = txn_find(argv[1], 1);
	t->deadline = now_ms() + cd->pending_ttl_ms;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->items = xreallocarray(t->items, t->cap, sizeof(*t->items));
	}
	it = &t->items[t->n++];
	memcpy(it->hash, hash, GFS_HASH_LEN);
	it->named = 0;
	it->data = conn_take_data(c, &it->len);
	t->bytes += len;
	cd->pending_bytes += len;
	cd->pending_chunks++;
	reply_line(c, "STORED");
}

static int
item_cmp(const void *a, const void *b)
{
	return memcmp(((const struct txn_item *)a)->hash,
	    ((const struct txn_item *)b)->hash, GFS_HASH_LEN);
}

/*
 * COMMIT <txid> [<gcseq> [<asof>]] -> OK <n>; gcseq is the leader's,
 * from the put's PUT_PENDING there: no deletion round up to it removes
 * these.  A chunk that a round numbered above gcseq named while it was
 * held here is left out: that round was decided after the put's
 * references were gone (its mapping expired or was aborted), and a put
 * that took a reference since commits its own copy.  Committed, it
 * would be a chunk nothing refers to and no round names again.
 *
 * asof comes with a repair's copies: the last round the sender had
 * carried out when it read them.  A round after it that we accepted
 * may have deleted them here, and they may be gone from the sender
 * too by now: every chunk is left out, and a later pass copies what
 * is still needed.
 */
static void
cmd_commit(struct conn *c, int argc, char **argv)
{
	struct txn	 *t;
	struct chunk_in	 *in;
	size_t		  i, n = 0, late = 0;
	uint64_t	  tag = 0, asof = 0, upto = UINT64_MAX;
	int		  rc;

	if (argc > 2 && parse_u64(argv[2], 0, UINT64_MAX, &tag) < 0) {
		reply_error(c, "BAD_NUMBER", "bad gcseq");
		return;
	}
	if (argc > 2)
		upto = tag;	/* a chunk named by a round above: late */
	if (argc > 3 && parse_u64(argv[3], 0, UINT64_MAX, &asof) < 0) {
		reply_error(c, "BAD_NUMBER", "bad asof");
		return;
	}
	if (!txid_valid(argv[1]) || (t = txn_find(argv[1], 0)) == NULL) {
		reply_error(c, "NOT_FOUND", "no pending txid '%.64s'", argv[1]);
		return;
	}
	if (argc > 3 && gc_seq() > asof) {
		log_info("txid %s: %zu copies left out, sent before round "
		    "%llu", t->txid, t->n, (unsigned long long)gc_seq());
		reply_line(c, "OK 0");
		txn_drop(t);
		return;
	}
	/* Sorted, a chunk sent twice is appended once. */
	qsort(t->items, t->n, sizeof(*t->items), item_cmp);
	in = xreallocarray(NULL, t->n + 1, sizeof(*in));
	for (i = 0; i < t->n; i++) {
		if (t->items[i].named > upto) {
			late++;
			continue;
		}
		if (n > 0 && memcmp(in[n - 1].hash, t->items[i].hash,
		    GFS_HASH_LEN) == 0)
			continue;
		in[n].hash = t->items[i].hash;
		in[n].data = t->items[i].data;
		in[n].len = t->items[i].len;
		n++;
	}
	CD_LOCK();
	rc = n ? store_append(&cd->st, in, n, STORE_NOSYNC) : 0;
	CD_UNLOCK();
	free(in);
	if (rc < 0) {
		/* Keep the txn: the client may retry until it expires. */
		reply_error(c, "IO", "cannot write chunks to disk");
		return;
	}
	if (late > 0)
		log_info("txid %s: %zu chunks left out, deleted by a round "
		    "after %llu", t->txid, late, (unsigned long long)tag);
	for (i = 0; i < t->n; i++)
		if (t->items[i].named <= upto)
			gc_note(t->items[i].hash, tag);
	/* The reply waits for chunk_sync(), with every other COMMIT's. */
	server_need_sync(&cd->srv);
	if (crash_spec != NULL) {
		server_sync_now(&cd->srv);
		CRASH_POINT("chunk.commit.after_sync");
	}
	reply_line(c, "OK %zu", n);
	txn_drop(t);
}

/*
 * The server's group commit (lib/server.c): one fdatasync per segment
 * written for every COMMIT and DELETE_BATCH of a pass of the loop.
 * Replies are composed already, so a failed sync is fatal; the records
 * not synced are cut or kept by the scan at the next start.
 */
void
chunk_sync(struct server *srv)
{
	int	fds[16], k, i, rc = 0;

	(void)srv;
	do {
		CD_LOCK();
		k = store_dirty(&cd->st, fds, 16);
		CD_UNLOCK();
		/* Not under the lock: repair and compaction go on meanwhile. */
		for (i = 0; i < k; i++) {
			if (fds[i] < 0 || fdatasync(fds[i]) < 0)
				rc = -1;
			if (fds[i] >= 0)
				close(fds[i]);
		}
	} while (k == 16);
	if (rc < 0)
		fatal("cannot make commits durable: fdatasync");
}

/* ABORT <txid> -> OK <n> */
static void
cmd_abort(struct conn *c, int argc, char **argv)
{
	struct txn	*t;
	size_t		 n;

	(void)argc;
	if (!txid_valid(argv[1]) || (t = txn_find(argv[1], 0)) == NULL) {
		reply_error(c, "NOT_FOUND", "no pending txid '%.64s'", argv[1]);
		return;
	}
	n = t->n;
	txn_drop(t);
	reply_line(c, "OK %zu", n);
}

/* GET_BATCH <hash>... -> VALUE <hash> <len>\r\n<data>\r\n ... END */
static void
cmd_get_batch(struct conn *c, int argc, char **argv)
{
	uint8_t	hashes[GFS_MAX_BATCH][GFS_HASH_LEN];
	uint8_t	buf[GFS_MAX_CHUNK];
	int	i, len;

	if (parse_hashes(c, argc, argv, hashes) < 0)
		return;
	for (i = 1; i < argc; i++) {
		CD_LOCK();
		len = store_read(&cd->st, hashes[i - 1], buf);
		CD_UNLOCK();
		if (len >= 0)
			reply_value(c, argv[i], buf, (size_t)len);
	}
	reply_end(c);
}

/* HAS_BATCH <hash>... -> HAVE <hash> ... END */
static void
cmd_has_batch(struct conn *c, int argc, char **argv)
{
	uint8_t	hashes[GFS_MAX_BATCH][GFS_HASH_LEN];
	char	have[GFS_MAX_BATCH];
	int	i;

	if (parse_hashes(c, argc, argv, hashes) < 0)
		return;
	CD_LOCK();
	for (i = 1; i < argc; i++)
		have[i - 1] = (char)store_has(&cd->st, hashes[i - 1]);
	CD_UNLOCK();
	for (i = 1; i < argc; i++)
		if (have[i - 1])
			reply_line(c, "HAVE %s", argv[i]);
	reply_end(c);
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, GFS_HASH_LEN);
}

/*
 * Round s names these n hashes (sorted here): note it on the pending
 * chunks of theirs, for cmd_commit().
 */
static void
txn_named(uint8_t (*hashes)[GFS_HASH_LEN], int n, uint64_t s)
{
	struct txn	*t;
	size_t		 i;

	if (cd->pending_chunks == 0 || n == 0)
		return;
	qsort(hashes, (size_t)n, GFS_HASH_LEN, hash_cmp);
	for (t = cd->txns; t; t = t->next)
		for (i = 0; i < t->n; i++)
			if (t->items[i].named < s && bsearch(t->items[i].hash,
			    hashes, (size_t)n, GFS_HASH_LEN, hash_cmp) != NULL)
				t->items[i].named = s;
}

/*
 * DELETE_BATCH <gcseq> [<hash>...] -> OK <n>: the leader's garbage
 * collection, round gcseq (gcfence.c says which chunks it may take).
 * Without hashes it only tells us the leader's current number.
 */
static void
cmd_delete_batch(struct conn *c, int argc, char **argv)
{
	uint8_t		hashes[GFS_MAX_BATCH][GFS_HASH_LEN];
	uint64_t	s;
	int		i, n = 0, kept = 0;

	if (parse_u64(argv[1], 1, UINT64_MAX, &s) < 0) {
		reply_error(c, "BAD_NUMBER", "gcseq must be 1 or more");
		return;
	}
	if (parse_hashes(c, argc - 1, argv + 1, hashes) < 0)
		return;
	if (argc == 2) {
		/* A fence only: notes below s may go; nothing else to do. */
		(void)gc_round(s);
		reply_line(c, "OK 0");
		return;
	}
	/*
	 * Accepted and carried out under one lock: the repair thread,
	 * which reads gc_seq() under it, sees a round done or not begun.
	 */
	CD_LOCK();
	if (gc_round(s) < 0) {
		CD_UNLOCK();
		cd->gc_stale++;
		reply_error(c, "STALE", "round %llu is older than round %llu "
		    "or than this server's registration",
		    (unsigned long long)s, (unsigned long long)gc_seq());
		return;
	}
	txn_named(hashes, argc - 2, s);
	for (i = 0; i < argc - 2; i++) {
		if (gc_keep(hashes[i], s)) {
			kept++;
			continue;
		}
		if (i != n)
			memcpy(hashes[n], hashes[i], GFS_HASH_LEN);
		n++;
	}
	n = n ? store_delete(&cd->st, (const uint8_t (*)[GFS_HASH_LEN])hashes,
	    (size_t)n, STORE_NOSYNC) : 0;
	CD_UNLOCK();
	if (n < 0) {
		reply_error(c, "IO", "cannot write to disk");
		return;
	}
	if (n > 0)
		server_need_sync(&cd->srv);
	cd->gc_deleted += (uint64_t)n;
	cd->gc_kept += (uint64_t)kept;
	reply_line(c, "OK %d", n);
}

/* STATS -> VALUE stats <len>\r\n<json>\r\nEND */
static void
cmd_stats(struct conn *c, int argc, char **argv)
{
	cJSON	*o = cJSON_CreateObject();
	char	*s;

	(void)argc;
	(void)argv;
	cJSON_AddStringToObject(o, "id", cd->id);
	cJSON_AddStringToObject(o, "addr", cd->addr);
	cJSON_AddStringToObject(o, "version", GFS_VERSION);
	CD_LOCK();
	cJSON_AddNumberToObject(o, "chunks", (double)cd->st.chunks);
	cJSON_AddNumberToObject(o, "bytes", (double)cd->st.bytes);
	cJSON_AddNumberToObject(o, "disk_bytes", (double)cd->st.disk);
	cJSON_AddNumberToObject(o, "zero_bytes", (double)cd->st.ahead);
	cJSON_AddNumberToObject(o, "garbage", (double)(cd->st.disk >
	    cd->st.live + cd->st.ahead ? cd->st.disk - cd->st.live -
	    cd->st.ahead : 0));
	cJSON_AddNumberToObject(o, "segments", (double)cd->st.files);
	cJSON_AddNumberToObject(o, "compactions", (double)cd->st.compactions);
	cJSON_AddNumberToObject(o, "compacted_bytes",
	    (double)cd->st.compacted);
	cJSON_AddNumberToObject(o, "pending", (double)cd->pending_chunks);
	cJSON_AddNumberToObject(o, "pending_bytes", (double)cd->pending_bytes);
	cJSON_AddNumberToObject(o, "pending_expired", (double)cd->expired);
	cJSON_AddNumberToObject(o, "gc_seq", (double)gc_seq());
	cJSON_AddNumberToObject(o, "gc_deleted", (double)cd->gc_deleted);
	cJSON_AddNumberToObject(o, "gc_kept", (double)cd->gc_kept);
	cJSON_AddNumberToObject(o, "syncs", (double)cd->srv.syncs);
	cJSON_AddNumberToObject(o, "data_allocs", (double)cd->srv.data_allocs);
	cJSON_AddNumberToObject(o, "gc_stale", (double)cd->gc_stale);
	cJSON_AddNumberToObject(o, "corrupt", (double)cd->st.corrupt);
	cJSON_AddNumberToObject(o, "truncated_bytes", (double)cd->st.truncated);
	cJSON_AddNumberToObject(o, "index_bytes", (double)index_bytes(&cd->st.idx));
	cJSON_AddNumberToObject(o, "repair_copied", (double)cd->repair_copied);
	cJSON_AddNumberToObject(o, "repair_dropped", (double)cd->repair_dropped);
	cJSON_AddNumberToObject(o, "repair_passes", (double)cd->repair_passes);
	cJSON_AddNumberToObject(o, "repair_epoch", (double)cd->repair_epoch);
	cJSON_AddNumberToObject(o, "repair_active", cd->repair_active);
	cJSON_AddNumberToObject(o, "scrub_passes", (double)cd->scrub_passes);
	cJSON_AddNumberToObject(o, "scrub_bad", (double)cd->scrub_bad);
	cJSON_AddNumberToObject(o, "scrub_fixed", (double)cd->scrub_fixed);
	CD_UNLOCK();
	cJSON_AddNumberToObject(o, "connections", (double)cd->srv.nconns);
	cJSON_AddBoolToObject(o, "registered", cd->registered);
	cJSON_AddNumberToObject(o, "uptime",
	    (double)((now_ms() - cd->started_ms) / 1000));
	s = cJSON_PrintUnformatted(o);
	reply_value(c, "stats", s, strlen(s));
	reply_end(c);
	cJSON_free(s);
	cJSON_Delete(o);
}

const struct cmd chunk_cmds[] = {
	{ "PING",		1, 1, CMD_NOHOLD, cmd_ping, 0 },
	{ "STATS",		1, 1, 0, cmd_stats, 0 },
	{ "PUT_PENDING",	4, 4, CMD_DATA | CMD_NOHOLD, cmd_put_pending, 0 },
	{ "COMMIT",		2, 4, 0, cmd_commit, 0 },
	{ "ABORT",		2, 2, 0, cmd_abort, 0 },
	{ "GET_BATCH",		2, GFS_MAX_BATCH + 1, 0, cmd_get_batch, 0 },
	{ "HAS_BATCH",		2, GFS_MAX_BATCH + 1, 0, cmd_has_batch, 0 },
	{ "DELETE_BATCH",	2, GFS_MAX_BATCH + 2, 0, cmd_delete_batch, 0 },
	{ NULL,			0, 0, 0, NULL, 0 },
};
