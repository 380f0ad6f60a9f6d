/*
 * Berkeley DB storage for the leader (the layout is in db.h).  The
 * process is single-threaded and runs one transaction at a time, so
 * there are no deadlocks to detect.  Returns 0, GFS_ENOENT, or GFS_EIO
 * (logged), and the codes each function names.
 *
 * Reference counts: PUT_PENDING adds one per chunk occurrence, COMMIT
 * moves them from the mapping to the version, ABORT, expiry, prune and
 * purge take them away.  A count that reaches 0 puts the hash in gc.db
 * in the same transaction; one that leaves 0 takes it out.  gc.c
 * deletes what gc.db holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "banned.h"
#include "chunker.h"
#include "db.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

static DB_ENV	*env;
static DB	*names, *versions, *trash, *pending, *refs, *gcq, *servers, *meta;
static struct dbstats cnt, cnt_saved;	/* meta "counters"; saved: at txn start */

#define DB_FORMAT	2

struct nrec {
	uint64_t	fid;
	uint32_t	latest;
	uint32_t	pad;
};

#define VREC_SHA	0x100	/* flags: sha is set; low byte: chunking */

struct vrec {
	uint64_t	size;
	uint64_t	mtime;
	uint32_t	nchunks;
	uint32_t	flags;
	uint8_t		sha[GFS_HASH_LEN];
};

struct trec {
	uint64_t	deleted;
	uint64_t	size;
	uint32_t	latest;
	uint32_t	nversions;
};

struct prec {
	uint64_t	size;
	uint64_t	created;
	uint32_t	nchunks;
	uint32_t	namelen;
	int64_t		if_version;
	uint32_t	flags;		/* as in vrec */
	uint32_t	pad;
	uint8_t		sha[GFS_HASH_LEN];
};

static void
db_errcall(const DB_ENV *e, const char *pfx, const char *msg)
{
	(void)e;
	(void)pfx;
	log_warnx("berkeley db: %s", msg);
}

static int
fail(const char *what, int ret)
{
	log_warnx("%s: %s", what, db_strerror(ret));
	return GFS_EIO;
}

static DBT
dbt(const void *p, size_t n)
{
	DBT d;

	memset(&d, 0, sizeof(d));
	d.data = (void *)(uintptr_t)p;
	d.size = (u_int32_t)n;
	return d;
}

static DBT
dbt_out(void)
{
	DBT d;

	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_MALLOC;
	return d;
}

static int
open_db(DB **db, const char *file)
{
	int ret;

	if ((ret = db_create(db, env, 0)) != 0)
		return fail("db_create", ret);
	if ((ret = (*db)->open(*db, NULL, file, NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT, 0644)) != 0)
		return fail(file, ret);
	return 0;
}

static uint64_t
meta_u64(DB_TXN *txn, const char *key, u_int32_t flags)
{
	DBT		k = dbt(key, strlen(key)), v = dbt_out();
	uint64_t	x = 0;

	if (meta->get(meta, txn, &k, &v, flags) == 0) {
		if (v.size == sizeof(x))
			memcpy(&x, v.data, sizeof(x));
		free(v.data);
	}
	return x;
}

static int
meta_put_u64(DB_TXN *txn, const char *key, uint64_t x)
{
	DBT	k = dbt(key, strlen(key)), v = dbt(&x, sizeof(x));
	int	ret;

	if ((ret = meta->put(meta, txn, &k, &v, 0)) != 0)
		return fail(key, ret);
	return 0;
}

int
db_open(const char *dir)
{
	DBT		k = dbt("counters", 8), v = dbt_out(), nk, nv;
	DBC		*cur;
	uint64_t	format;
	int		ret, used;

	if ((ret = db_env_create(&env, 0)) != 0)
		return fail("db_env_create", ret);
	env->set_errcall(env, db_errcall);
	env->set_cachesize(env, 0, 64 * 1024 * 1024, 1);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	env->log_set_config(env, DB_LOG_ZERO, 1);
	if ((ret = env->open(env, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOG |
	    DB_INIT_LOCK | DB_INIT_MPOOL | DB_RECOVER, 0600)) != 0)
		return fail(dir, ret);
	if (open_db(&names, "names.db") < 0 ||
	    open_db(&versions, "versions.db") < 0 ||
	    open_db(&trash, "trash.db") < 0 ||
	    open_db(&pending, "pending.db") < 0 ||
	    open_db(&refs, "refs.db") < 0 ||
	    open_db(&gcq, "gc.db") < 0 ||
	    open_db(&servers, "servers.db") < 0 ||
	    open_db(&meta, "meta.db") < 0)
		return GFS_EIO;
	format = meta_u64(NULL, "format", 0);
	if (format == 0) {
		/* New, or written before formats: then names.db has keys. */
		used = 0;
		if (names->cursor(names, NULL, &cur, 0) == 0) {
			memset(&nk, 0, sizeof(nk));
			memset(&nv, 0, sizeof(nv));
			nv.flags = nk.flags = DB_DBT_PARTIAL;
			used = cur->get(cur, &nk, &nv, DB_FIRST) == 0;
			cur->close(cur);
		}
		if (used) {
			log_warnx("%s: written by an older gfs-leader (no "
			    "format number); move it away to start afresh", dir);
			return GFS_EIO;
		}
		if (meta_put_u64(NULL, "format", DB_FORMAT) < 0)
			return GFS_EIO;
	} else if (format != DB_FORMAT) {
		log_warnx("%s: database format %llu, this gfs-leader reads %d",
		    dir, (unsigned long long)format, DB_FORMAT);
		return GFS_EIO;
	}
	if (meta->get(meta, NULL, &k, &v, 0) == 0) {
		if (v.size == sizeof(cnt))
			memcpy(&cnt, v.data, sizeof(cnt));
		free(v.data);
	}
	return 0;
}

void
db_close(void)
{
	DB **dbs[] = { &names, &versions, &trash, &pending, &refs, &gcq,
	    &servers, &meta };
	size_t i;

	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if (*dbs[i]) {
			(*dbs[i])->close(*dbs[i], 0);
			*dbs[i] = NULL;
		}
	if (env) {
		env->txn_checkpoint(env, 0, 0, 0);
		env->close(env, 0);
		env = NULL;
	}
}

/* Group commit: see db_group_commit(). */
static void	(*dirty_cb)(void);
static int	 unflushed;

void
db_group_commit(void (*cb)(void))
{
	dirty_cb = cb;
}

int
db_flush(void)
{
	int ret;

	if (db_pass_commit() < 0)
		return GFS_EIO;
	if (!unflushed)
		return 0;
	unflushed = 0;
	if ((ret = env->log_flush(env, NULL)) != 0)
		return fail("log_flush", ret);
	return 0;
}

/*
 * A pass (db_pass_begin/end): the requests one read of a connection
 * brought in.  Within a pass every transaction is a child of the pass's
 * one transaction, begun at the first; a failed command aborts only its
 * child, and db_pass_end() commits them all at once: one log write for
 * a whole pipelined batch of PUT_PENDINGs.  Reads within a pass go
 * through the pass's transaction (rtxn()), or they would wait forever
 * on its locks.
 */
#define PASS_MAX_CHILDREN	256

static uint64_t	 ntxns;		/* top-level commits */
static int	 pass_depth;
static DB_TXN	*pass_txn;
static int	 pass_durable;	/* a child asked for a flushed commit */
static int	 pass_children;	/* committed into pass_txn */

static DB_TXN *
rtxn(void)
{
	return pass_txn;
}

/*
 * And at degree 2 (DB_READ_COMMITTED), so that a read lets go of each
 * page as it moves on rather than holding it to the end of the pass:
 * a LIST of many names would run the lock table out.
 */
static u_int32_t
rflags(void)
{
	return pass_txn ? DB_READ_COMMITTED : 0;
}

static int
txn_begin(DB_TXN **txn)
{
	int ret;

	if (pass_depth > 0 && pass_txn == NULL &&
	    (ret = env->txn_begin(env, NULL, &pass_txn, 0)) != 0) {
		pass_txn = NULL;
		return fail("txn_begin", ret);
	}
	if ((ret = env->txn_begin(env, pass_txn, txn, 0)) != 0)
		return fail("txn_begin", ret);
	cnt_saved = cnt;
	return 0;
}

/*
 * Commit a top-level transaction: lazy, group-committed (with grouped,
 * the log left in memory or written to the system) or synced.
 */
static int
txn_commit_top(DB_TXN *txn, int lazy, u_int32_t grouped)
{
	int ret;

	if ((ret = txn->commit(txn, lazy ? DB_TXN_WRITE_NOSYNC :
	    dirty_cb ? grouped : 0)) != 0)
		return fail("txn commit", ret);
	ntxns++;
	if (dirty_cb && !lazy) {
		unflushed = 1;
		dirty_cb();
	}
	return 0;
}

void
db_pass_begin(void)
{
	pass_depth++;
}

/*
 * Commit what the pass did so far.  Its replies are composed already, so
 * a failure here is fatal to the caller, as a failed log flush is.
 */
int
db_pass_commit(void)
{
	DB_TXN	*txn = pass_txn;
	int	 durable = pass_durable;

	if (txn == NULL)
		return 0;
	pass_txn = NULL;
	pass_durable = 0;
	pass_children = 0;
	/*
	 * Written to the system even when it waits for the group sync:
	 * a lazy reply of this pass may leave before that sync runs, and
	 * must outlive the leader's own death as it does outside passes.
	 */
	return txn_commit_top(txn, !durable, DB_TXN_WRITE_NOSYNC);
}

int
db_pass_end(void)
{
	if (pass_depth > 0)
		pass_depth--;
	return db_pass_commit();
}

/*
 * txn_end_flags(txn, rc, lazy): commit, or abort when rc < 0.  A lazy
 * transaction's log is written to the operating system but not flushed:
 * it survives the leader's own death, and the next flushed commit (or
 * group sync) makes it durable with everything before it.  Only for
 * records whose loss in a machine crash is harmless (pending mappings:
 * the put then fails at its COMMIT).
 */
static int
txn_end_flags(DB_TXN *txn, int rc, int lazy)
{
	int ret;

	if (rc >= 0 && memcmp(&cnt, &cnt_saved, sizeof(cnt)) != 0) {
		DBT k = dbt("counters", 8), v = dbt(&cnt, sizeof(cnt));

		if ((ret = meta->put(meta, txn, &k, &v, 0)) != 0)
			rc = fail("counters put", ret);
	}
	if (rc < 0) {
		txn->abort(txn);
		cnt = cnt_saved;
		return rc;
	}
	if (pass_txn != NULL) {
		/* A child: durable with its pass.  Hold its reply now. */
		if ((ret = txn->commit(txn, 0)) != 0) {
			cnt = cnt_saved;
			return fail("txn commit", ret);
		}
		if (!lazy) {
			pass_durable = 1;
			if (dirty_cb)
				dirty_cb();
		}
		/* Bound the locks a pass holds: commit it every so often. */
		if (++pass_children >= PASS_MAX_CHILDREN && db_pass_commit() < 0)
			fatalx("cannot commit a pass's transaction");
		return rc;
	}
	if ((ret = txn_commit_top(txn, lazy, DB_TXN_NOSYNC)) < 0) {
		cnt = cnt_saved;
		return ret;
	}
	return rc;
}

static int
txn_end(DB_TXN *txn, int rc)
{
	return txn_end_flags(txn, rc, 0);
}

uint64_t
db_epoch(void)
{
	return meta_u64(rtxn(), "epoch", rflags());
}

struct srec {
	char		addr[64];
	uint32_t	removed;
	uint32_t	ntokens;
};

int
db_epoch_put(uint64_t epoch)
{
	DB_TXN	*txn;
	DBT	 ek = dbt("epoch", 5), ev = dbt(&epoch, sizeof(epoch));
	int	 ret, rc = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((ret = meta->put(meta, txn, &ek, &ev, 0)) != 0)
		rc = fail("epoch put", ret);
	return txn_end(txn, rc);
}

int
db_server_put(const char *id, const char *addr, int removed, uint32_t ntokens,
    const uint64_t *tokens, uint64_t epoch)
{
	DB_TXN		*txn;
	struct srec	 r;
	size_t		 len = sizeof(r) + (size_t)ntokens * sizeof(uint64_t);
	uint8_t		*buf = xmalloc(len);
	DBT		 k = dbt(id, strlen(id)), v = dbt(buf, len);
	DBT		 ek = dbt("epoch", 5), ev = dbt(&epoch, sizeof(epoch));
	int		 ret, rc = 0;

	memset(&r, 0, sizeof(r));
	snprintf(r.addr, sizeof(r.addr), "%s", addr);
	r.removed = (uint32_t)removed;
	r.ntokens = ntokens;
	memcpy(buf, &r, sizeof(r));
	if (ntokens)
		memcpy(buf + sizeof(r), tokens, (size_t)ntokens * sizeof(uint64_t));
	if (txn_begin(&txn) < 0) {
		free(buf);
		return GFS_EIO;
	}
	if ((ret = servers->put(servers, txn, &k, &v, 0)) != 0 ||
	    (ret = meta->put(meta, txn, &ek, &ev, 0)) != 0)
		rc = fail("server put", ret);
	free(buf);
	return txn_end(txn, rc);
}

int
db_servers(int (*cb)(const char *, const char *, int, uint32_t,
    const uint64_t *, void *), void *arg)
{
	DBC		*cur;
	DBT		 k, v;
	char		 id[GFS_MAX_ID + 1];
	struct srec	 r;
	uint64_t	*tokens;
	int		 rc = 0;

	if (servers->cursor(servers, rtxn(), &cur, rflags()) != 0)
		return GFS_EIO;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (rc == 0 && cur->get(cur, &k, &v, DB_NEXT) == 0) {
		if (k.size == 0 || k.size > GFS_MAX_ID || v.size < sizeof(r))
			continue;
		memcpy(&r, v.data, sizeof(r));
		if (r.ntokens > GFS_MAX_TOKENS || v.size != sizeof(r) +
		    (size_t)r.ntokens * sizeof(uint64_t) ||
		    memchr(r.addr, '\0', sizeof(r.addr)) == NULL) {
			log_warnx("servers.db: bad record, skipped");
			continue;
		}
		memcpy(id, k.data, k.size);
		id[k.size] = '\0';
		tokens = xreallocarray(NULL, (size_t)r.ntokens + 1,
		    sizeof(*tokens));
		memcpy(tokens, (uint8_t *)v.data + sizeof(r),
		    (size_t)r.ntokens * sizeof(uint64_t));
		rc = cb(id, r.addr, (int)r.removed, r.ntokens, tokens, arg);
		free(tokens);
	}
	cur->close(cur);
	return rc;
}

static void
be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Key of one version: be64(file id), be32(version). */
#define VKEY_LEN	12

static void
vkey(uint8_t *key, uint64_t fid, uint32_t version)
{
	be64(key, fid);
	key[8] = (uint8_t)(version >> 24);
	key[9] = (uint8_t)(version >> 16);
	key[10] = (uint8_t)(version >> 8);
	key[11] = (uint8_t)version;
}

static uint32_t
vkey_version(const uint8_t *key)
{
	return (uint32_t)key[8] << 24 | (uint32_t)key[9] << 16 |
	    (uint32_t)key[10] << 8 | key[11];
}

/* Key of a trash entry: name, NUL, be64(file id). */
static size_t
tkey(uint8_t *key, const char *name, uint64_t fid)
{
	size_t nl = strlen(name);

	memcpy(key, name, nl);
	key[nl] = '\0';
	be64(key + nl + 1, fid);
	return nl + 9;
}

/*
 * Add delta (+1 or -1) to the reference count of each hash, moving a
 * hash into gc.db when its count reaches 0 and out when it leaves 0.
 * A hash in gc.db carries the last GC number handed out when it went
 * in, so that a round numbered before then does not take it out.
 */
static int
ref_add(DB_TXN *txn, const uint8_t (*hashes)[GFS_HASH_LEN], uint32_t n,
    int delta)
{
	uint32_t	i, count;
	uint64_t	queued = 0;
	int		ret, have_queued = 0, gcq_empty = 0;
	DBC		*cur;

	/* Taking references: with the queue empty, no lookups in it. */
	if (delta > 0 && n > 1 && gcq->cursor(gcq, txn, &cur, 0) == 0) {
		DBT ck, cv;

		memset(&ck, 0, sizeof(ck));
		memset(&cv, 0, sizeof(cv));
		ck.flags = cv.flags = DB_DBT_PARTIAL;
		gcq_empty = cur->get(cur, &ck, &cv, DB_FIRST) == DB_NOTFOUND;
		cur->close(cur);
	}
	for (i = 0; i < n; i++) {
		DBT k = dbt(hashes[i], GFS_HASH_LEN), v;
		DBT e = dbt(&queued, sizeof(queued)), nv;

		/* The count straight into place: no allocation per chunk. */
		count = 0;
		memset(&v, 0, sizeof(v));
		v.data = &count;
		v.ulen = sizeof(count);
		v.flags = DB_DBT_USERMEM;
		ret = refs->get(refs, txn, &k, &v, DB_RMW);
		if (ret == 0 && v.size != sizeof(count))
			count = 0;
		else if (ret != 0 && ret != DB_NOTFOUND)
			return fail("refs get", ret);
		if (delta < 0 && count == 0) {
			log_warnx("refs: count of a chunk already 0");
			continue;
		}
		/* A chunk coming back to life leaves the GC queue, if queued. */
		if (count == 0 && gcq_empty)
			cnt.chunks++;
		else if (count == 0) {
			cnt.chunks++;
			ret = gcq->del(gcq, txn, &k, 0);
			if (ret == 0)
				cnt.gcq--;
			else if (ret != DB_NOTFOUND)
				return fail("gc del", ret);
		}
		count = (uint32_t)((int64_t)count + delta);
		if (count == 0) {
			cnt.chunks--;
			if ((ret = refs->del(refs, txn, &k, 0)) != 0)
				return fail("refs del", ret);
			if (!have_queued) {
				queued = meta_u64(txn, "gcseq", 0);
				have_queued = 1;
			}
			if ((ret = gcq->put(gcq, txn, &k, &e, 0)) != 0)
				return fail("gc put", ret);
			cnt.gcq++;
			continue;
		}
		nv = dbt(&count, sizeof(count));
		if ((ret = refs->put(refs, txn, &k, &nv, 0)) != 0)
			return fail("refs put", ret);
	}
	return 0;
}

static int
name_get(DB_TXN *txn, const char *name, struct nrec *nr, u_int32_t flags)
{
	DBT	k = dbt(name, strlen(name)), v = dbt_out();
	int	ret;

	memset(nr, 0, sizeof(*nr));
	ret = names->get(names, txn, &k, &v, flags);
	if (ret == DB_NOTFOUND)
		return GFS_ENOENT;
	if (ret != 0)
		return fail("names get", ret);
	if (v.size == sizeof(*nr))
		memcpy(nr, v.data, sizeof(*nr));
	free(v.data);
	if (nr->fid == 0)
		return fail("names record", DB_NOTFOUND);
	return 0;
}

static int
name_put(DB_TXN *txn, const char *name, const struct nrec *nr)
{
	DBT	k = dbt(name, strlen(name)), v = dbt(nr, sizeof(*nr));
	int	ret;

	if ((ret = names->put(names, txn, &k, &v, 0)) != 0)
		return fail("names put", ret);
	return 0;
}

/* Decode a version record; hashes too when vi->hashes is wanted. */
static int
vrec_decode(const DBT *v, struct vinfo *vi, int want_hashes)
{
	struct vrec r;

	if (v->size < sizeof(r))
		return fail("version record", DB_NOTFOUND);
	memcpy(&r, v->data, sizeof(r));
	if (v->size != sizeof(r) + (size_t)r.nchunks * GFS_HASH_LEN ||
	    chunking_name((int)(r.flags & 0xff)) == NULL)
		return fail("version record", DB_NOTFOUND);
	vi->size = r.size;
	vi->mtime = r.mtime;
	vi->nchunks = r.nchunks;
	vi->chunking = r.flags & 0xff;
	vi->has_sha = (r.flags & VREC_SHA) != 0;
	memcpy(vi->sha, r.sha, GFS_HASH_LEN);
	vi->hashes = NULL;
	if (want_hashes) {
		vi->hashes = xreallocarray(NULL, (size_t)r.nchunks + 1,
		    GFS_HASH_LEN);
		memcpy(vi->hashes, (const uint8_t *)v->data + sizeof(r),
		    (size_t)r.nchunks * GFS_HASH_LEN);
	}
	return 0;
}

static int
version_get(DB_TXN *txn, uint64_t fid, uint32_t version, struct vinfo *vi,
    int want_hashes, u_int32_t flags)
{
	uint8_t	key[VKEY_LEN];
	DBT	k = dbt(key, VKEY_LEN), v = dbt_out();
	int	ret, rc;

	memset(vi, 0, sizeof(*vi));
	vkey(key, fid, version);
	ret = versions->get(versions, txn, &k, &v, flags);
	if (ret == DB_NOTFOUND)
		return GFS_ENOENT;
	if (ret != 0)
		return fail("versions get", ret);
	rc = vrec_decode(&v, vi, want_hashes);
	free(v.data);
	vi->version = version;
	return rc;
}

/* Drop the version the cursor is on: its references, its bytes. */
static int
version_drop_at(DB_TXN *txn, DBC *cur, const DBT *v)
{
	struct vrec	r;
	int		ret, rc;

	if (v->size < sizeof(r))
		return fail("version record", DB_NOTFOUND);
	memcpy(&r, v->data, sizeof(r));
	if (v->size != sizeof(r) + (size_t)r.nchunks * GFS_HASH_LEN)
		return fail("version record", DB_NOTFOUND);
	if ((rc = ref_add(txn, (const uint8_t (*)[GFS_HASH_LEN])
	    ((const uint8_t *)v->data + sizeof(r)), r.nchunks, -1)) < 0)
		return rc;
	if ((ret = cur->del(cur, 0)) != 0)
		return fail("versions del", ret);
	cnt.versions--;
	cnt.logical -= r.size;
	return 0;
}

/*
 * Walk the versions of fid oldest first; drop the first ndrop of them
 * (all with ndrop UINT64_MAX).  *seen counts every version walked.
 */
static int
versions_drop(DB_TXN *txn, uint64_t fid, uint64_t ndrop, uint64_t *seen,
    uint64_t *dropped)
{
	DBC	*cur;
	uint8_t	 key[VKEY_LEN];
	DBT	 k, v;
	int	 ret, rc = 0;

	*seen = *dropped = 0;
	if ((ret = versions->cursor(versions, txn, &cur, 0)) != 0)
		return fail("cursor", ret);
	vkey(key, fid, 0);
	k = dbt(key, VKEY_LEN);
	k.ulen = VKEY_LEN;
	k.flags = DB_DBT_USERMEM;
	v = dbt_out();
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | DB_RMW);
	while (ret == 0 && k.size == VKEY_LEN && get_be64(key) == fid) {
		(*seen)++;
		if (*dropped < ndrop) {
			if ((rc = version_drop_at(txn, cur, &v)) < 0)
				break;
			(*dropped)++;
		}
		free(v.data);
		v = dbt_out();
		ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW);
	}
	free(v.data);
	if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
		rc = fail("versions walk", ret);
	cur->close(cur);
	return rc;
}

/* Count the versions of fid. */
static int
versions_count(DB_TXN *txn, uint64_t fid, uint64_t *n)
{
	uint64_t dropped;

	return versions_drop(txn, fid, 0, n, &dropped);
}

int
db_pending_put(const char *txid, const struct pinfo *pi)
{
	struct prec	 p;
	size_t		 nl = strlen(pi->name), len;
	uint8_t		*buf;
	DB_TXN		*txn;
	DBT		 k = dbt(txid, strlen(txid)), v;
	int		 ret, rc = 0;

	memset(&p, 0, sizeof(p));
	p.size = pi->size;
	p.created = (uint64_t)time(NULL);
	p.nchunks = pi->nchunks;
	p.namelen = (uint32_t)nl;
	p.if_version = pi->if_version;
	p.flags = pi->chunking | (pi->has_sha ? VREC_SHA : 0);
	memcpy(p.sha, pi->sha, GFS_HASH_LEN);
	len = sizeof(p) + nl + (size_t)pi->nchunks * GFS_HASH_LEN;
	buf = xmalloc(len);
	memcpy(buf, &p, sizeof(p));
	memcpy(buf + sizeof(p), pi->name, nl);
	if (pi->nchunks)
		memcpy(buf + sizeof(p) + nl, pi->hashes,
		    (size_t)pi->nchunks * GFS_HASH_LEN);
	v = dbt(buf, len);
	if (txn_begin(&txn) < 0) {
		free(buf);
		return GFS_EIO;
	}
	ret = pending->put(pending, txn, &k, &v, DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST) {
		DBT old = dbt_out();

		rc = GFS_EINVAL;
		if (pending->get(pending, txn, &k, &old, 0) == 0) {
			/* The same mapping again; created may differ. */
			if (old.size == len && memcmp((uint8_t *)old.data +
			    sizeof(p), buf + sizeof(p), len - sizeof(p)) == 0 &&
			    ((struct prec *)old.data)->size == p.size &&
			    ((struct prec *)old.data)->nchunks == p.nchunks)
				rc = 1;
			free(old.data);
		}
	} else if (ret != 0)
		rc = fail("pending put", ret);
	else
		rc = ref_add(txn, pi->hashes, pi->nchunks, +1);
	free(buf);
	if (rc == 1)
		return txn_end_flags(txn, 0, 1) == 0 ? 1 : GFS_EIO;
	return txn_end_flags(txn, rc, 1);
}

/* Drop a pending mapping and its references, in txn. */
static int
pending_drop(DB_TXN *txn, const DBT *k, const DBT *v)
{
	struct prec	p;
	int		ret, rc;

	if (v->size < sizeof(p))
		return fail("pending record", DB_NOTFOUND);
	memcpy(&p, v->data, sizeof(p));
	if (p.namelen > GFS_MAX_NAME || v->size != sizeof(p) + p.namelen +
	    (size_t)p.nchunks * GFS_HASH_LEN)
		return fail("pending record", DB_NOTFOUND);
	if ((rc = ref_add(txn, (const uint8_t (*)[GFS_HASH_LEN])
	    ((const uint8_t *)v->data + sizeof(p) + p.namelen), p.nchunks,
	    -1)) < 0)
		return rc;
	if ((ret = pending->del(pending, txn, (DBT *)(uintptr_t)k, 0)) != 0)
		return fail("pending del", ret);
	return 0;
}

int
db_pending_del(const char *txid)
{
	DB_TXN	*txn;
	DBT	 k = dbt(txid, strlen(txid)), v = dbt_out();
	int	 ret, rc;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	ret = pending->get(pending, txn, &k, &v, DB_RMW);
	if (ret == DB_NOTFOUND)
		return txn_end(txn, GFS_ENOENT);
	if (ret != 0)
		return txn_end(txn, fail("pending get", ret));
	rc = pending_drop(txn, &k, &v);
	free(v.data);
	return txn_end(txn, rc);
}

int
db_pending_each(int (*cb)(const char *, void *), void *arg)
{
	DBC	*cur;
	DBT	 k, v;
	char	 txid[GFS_MAX_TXID + 1];
	int	 rc = 0;

	if (pending->cursor(pending, rtxn(), &cur, rflags()) != 0)
		return GFS_EIO;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL;
	while (rc == 0 && cur->get(cur, &k, &v, DB_NEXT) == 0) {
		if (k.size > GFS_MAX_TXID)
			continue;
		memcpy(txid, k.data, k.size);
		txid[k.size] = '\0';
		rc = cb(txid, arg);
	}
	cur->close(cur);
	return rc;
}

static uint64_t
next_fid(DB_TXN *txn, int *rc)
{
	uint64_t fid = meta_u64(txn, "fid", DB_RMW) + 1;

	*rc = meta_put_u64(txn, "fid", fid);
	return fid;
}

/*
 * Commit the pending mapping txid as the name's next version, in txn.
 * GFS_ECONFLICT: its if-version is not the current version (*curv);
 * with drop_conflict the mapping is then dropped in txn.
 */
static int
commit_one(DB_TXN *txn, const char *txid, uint32_t keep, uint32_t *version,
    uint32_t *curv, int drop_conflict)
{
	DBT		 k = dbt(txid, strlen(txid)), v = dbt_out(), vk, vv;
	struct prec	 p;
	struct vrec	 r;
	struct nrec	 nr;
	char		 name[GFS_MAX_NAME + 1];
	uint8_t		 key[VKEY_LEN], *rec;
	uint64_t	 seen, dropped;
	size_t		 hlen;
	int		 ret, rc = 0;

	*curv = 0;
	ret = pending->get(pending, txn, &k, &v, DB_RMW);
	if (ret == DB_NOTFOUND)
		return GFS_ENOENT;
	if (ret != 0)
		return fail("pending get", ret);
	memcpy(&p, v.data, v.size < sizeof(p) ? v.size : sizeof(p));
	hlen = (size_t)p.nchunks * GFS_HASH_LEN;
	if (v.size < sizeof(p) || p.namelen > GFS_MAX_NAME ||
	    v.size != sizeof(p) + p.namelen + hlen) {
		free(v.data);
		return fail("pending record", DB_NOTFOUND);
	}
	memcpy(name, (uint8_t *)v.data + sizeof(p), p.namelen);
	name[p.namelen] = '\0';
	rc = name_get(txn, name, &nr, DB_RMW);
	if (rc < 0 && rc != GFS_ENOENT) {
		free(v.data);
		return rc;
	}
	*curv = nr.latest;
	if (p.if_version >= 0 && (int64_t)nr.latest != p.if_version) {
		/* It can never succeed: drop it, and say so durably. */
		rc = drop_conflict ? pending_drop(txn, &k, &v) : 0;
		free(v.data);
		return rc < 0 ? rc : GFS_ECONFLICT;
	}
	if (rc == GFS_ENOENT) {
		nr.fid = next_fid(txn, &rc);
		nr.latest = 0;
		cnt.files++;
		if (rc < 0) {
			free(v.data);
			return rc;
		}
	}
	rc = 0;
	*version = nr.latest + 1;
	memset(&r, 0, sizeof(r));
	r.size = p.size;
	r.mtime = (uint64_t)time(NULL);
	r.nchunks = p.nchunks;
	r.flags = p.flags;
	memcpy(r.sha, p.sha, GFS_HASH_LEN);
	rec = xmalloc(sizeof(r) + hlen);
	memcpy(rec, &r, sizeof(r));
	memcpy(rec + sizeof(r), (uint8_t *)v.data + sizeof(p) + p.namelen, hlen);
	free(v.data);
	vkey(key, nr.fid, *version);
	vk = dbt(key, VKEY_LEN);
	vv = dbt(rec, sizeof(r) + hlen);
	nr.latest = *version;
	/* The references move from the mapping to the version as they are. */
	if ((ret = versions->put(versions, txn, &vk, &vv, 0)) != 0 ||
	    (ret = pending->del(pending, txn, &k, 0)) != 0)
		rc = fail("commit", ret);
	free(rec);
	if (rc == 0)
		rc = name_put(txn, name, &nr);
	if (rc == 0) {
		cnt.versions++;
		cnt.logical += p.size;
	}
	if (rc == 0 && keep > 0 && *version > keep &&
	    (rc = versions_count(txn, nr.fid, &seen)) == 0 && seen > keep)
		rc = versions_drop(txn, nr.fid, seen - keep, &seen, &dropped);
	return rc;
}

int
db_commit(const char *txid, uint32_t keep, uint32_t *version, uint32_t *curv)
{
	DB_TXN	*txn;
	int	 rc;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	rc = commit_one(txn, txid, keep, version, curv, 1);
	if (rc == GFS_ECONFLICT)
		return (rc = txn_end(txn, 0)) < 0 ? rc : GFS_ECONFLICT;
	return txn_end(txn, rc);
}

int
db_commit_group(const char *base, uint32_t n, uint32_t keep, char *failed,
    size_t failedsz, uint32_t *curv)
{
	DB_TXN		*txn;
	char		 txid[GFS_MAX_TXID + 1];
	uint32_t	 i, version;
	int		 rc = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(txid, sizeof(txid), "%s-%u", base, i);
		rc = commit_one(txn, txid, keep, &version, curv, 0);
		if (rc < 0)
			snprintf(failed, failedsz, "%s", txid);
	}
	return txn_end(txn, rc);
}

int
db_pending_del_group(const char *base, uint32_t n, uint32_t *dropped)
{
	DB_TXN	*txn;
	char	 txid[GFS_MAX_TXID + 1];
	DBT	 k, v;
	uint32_t i;
	int	 ret, rc = 0;

	*dropped = 0;
	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(txid, sizeof(txid), "%s-%u", base, i);
		k = dbt(txid, strlen(txid));
		v = dbt_out();
		ret = pending->get(pending, txn, &k, &v, DB_RMW);
		if (ret == DB_NOTFOUND)
			continue;
		if (ret != 0) {
			rc = fail("pending get", ret);
			break;
		}
		rc = pending_drop(txn, &k, &v);
		free(v.data);
		if (rc == 0)
			(*dropped)++;
	}
	return txn_end(txn, rc);
}

int
db_lookup(const char *name, uint32_t version, struct vinfo *vi)
{
	struct nrec	nr;
	int		rc;

	memset(vi, 0, sizeof(*vi));
	if ((rc = name_get(rtxn(), name, &nr, rflags())) < 0)
		return rc;
	return version_get(rtxn(), nr.fid, version ? version : nr.latest, vi, 1,
	    rflags());
}

int
db_versions(const char *name, int (*cb)(const struct vinfo *, void *),
    void *arg)
{
	DBC		*cur;
	struct nrec	 nr;
	struct vinfo	 vi;
	uint8_t		 key[VKEY_LEN];
	DBT		 k, v;
	int		 ret, rc;

	if ((rc = name_get(rtxn(), name, &nr, rflags())) < 0)
		return rc;
	if ((ret = versions->cursor(versions, rtxn(), &cur, rflags())) != 0)
		return fail("cursor", ret);
	/* Newest first: from the key past the last version, backwards. */
	vkey(key, nr.fid + 1, 0);
	k = dbt(key, VKEY_LEN);
	k.ulen = VKEY_LEN;
	k.flags = DB_DBT_USERMEM;
	v = dbt_out();
	ret = cur->get(cur, &k, &v, DB_SET_RANGE);
	if (ret == 0) {
		free(v.data);
		v = dbt_out();
		ret = cur->get(cur, &k, &v, DB_PREV);
	} else if (ret == DB_NOTFOUND)
		ret = cur->get(cur, &k, &v, DB_LAST);
	while (rc == 0 && ret == 0 && k.size == VKEY_LEN &&
	    get_be64(key) == nr.fid) {
		memset(&vi, 0, sizeof(vi));
		if ((rc = vrec_decode(&v, &vi, 0)) == 0) {
			vi.version = vkey_version(key);
			rc = cb(&vi, arg);
		}
		free(v.data);
		v = dbt_out();
		ret = cur->get(cur, &k, &v, DB_PREV);
	}
	if (ret == 0)
		free(v.data);
	cur->close(cur);
	return rc;
}

int
db_list(const char *prefix, int (*cb)(const char *, const struct vinfo *,
    void *), void *arg)
{
	DBC		*cur;
	DBT		 k, v;
	size_t		 pl = strlen(prefix);
	char		 name[GFS_MAX_NAME + 1];
	struct vinfo	 vi;
	u_int32_t	 op = DB_SET_RANGE;
	int		 rc = 0, r, ret = DB_NOTFOUND;

	if (names->cursor(names, rtxn(), &cur, rflags()) != 0)
		return GFS_EIO;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)(uintptr_t)prefix;
	k.size = (u_int32_t)pl;
	if (pl == 0)
		op = DB_FIRST;
	k.flags = DB_DBT_MALLOC;
	v.flags = DB_DBT_PARTIAL;
	while (rc == 0 && (ret = cur->get(cur, &k, &v, op)) == 0) {
		op = DB_NEXT;
		if (k.size < pl || memcmp(k.data, prefix, pl) != 0 ||
		    k.size > GFS_MAX_NAME) {
			free(k.data);
			break;
		}
		memcpy(name, k.data, k.size);
		name[k.size] = '\0';
		free(k.data);
		k.data = NULL;
		if ((r = db_lookup(name, 0, &vi)) == 0) {
			rc = cb(name, &vi, arg);
			free(vi.hashes);
		} else if (r != GFS_ENOENT)
			rc = r;
	}
	/* An error is never the end of the list. */
	if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
		rc = fail("names walk", ret);
	cur->close(cur);
	return rc;
}

int
db_delete(const char *name)
{
	DB_TXN		*txn;
	DBT		 k = dbt(name, strlen(name)), tk, tv;
	struct nrec	 nr;
	struct trec	 t;
	struct vinfo	 vi;
	uint8_t		 key[GFS_MAX_NAME + 9];
	uint64_t	 n;
	int		 ret, rc;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((rc = name_get(txn, name, &nr, DB_RMW)) < 0)
		return txn_end(txn, rc);
	memset(&t, 0, sizeof(t));
	t.deleted = (uint64_t)time(NULL);
	t.latest = nr.latest;
	if ((rc = versions_count(txn, nr.fid, &n)) < 0)
		return txn_end(txn, rc);
	t.nversions = (uint32_t)n;
	if (version_get(txn, nr.fid, nr.latest, &vi, 0, 0) == 0)
		t.size = vi.size;
	tk = dbt(key, tkey(key, name, nr.fid));
	tv = dbt(&t, sizeof(t));
	if ((ret = names->del(names, txn, &k, 0)) != 0 ||
	    (ret = trash->put(trash, txn, &tk, &tv, 0)) != 0)
		return txn_end(txn, fail("delete", ret));
	cnt.files--;
	cnt.trash++;
	return txn_end(txn, 0);
}

/*
 * Walk the trash entries of name (key order: by file id); cb gets each
 * with the cursor on it and may delete it.
 */
static int
trash_each(DB_TXN *txn, const char *name,
    int (*cb)(DB_TXN *, DBC *, uint64_t, const struct trec *, void *),
    void *arg)
{
	DBC		*cur;
	uint8_t		 key[GFS_MAX_NAME + 9];
	size_t		 kl = tkey(key, name, 0);
	struct trec	 t;
	DBT		 k, v;
	int		 ret, rc = 0;

	if ((ret = trash->cursor(trash, txn, &cur, 0)) != 0)
		return fail("cursor", ret);
	k = dbt(key, kl);
	k.ulen = sizeof(key);
	k.flags = DB_DBT_USERMEM;
	v = dbt_out();
	ret = cur->get(cur, &k, &v, DB_SET_RANGE | (txn ? DB_RMW : 0));
	while (rc == 0 && ret == 0 && k.size == kl &&
	    memcmp(key, name, kl - 8) == 0) {
		if (v.size == sizeof(t)) {
			memcpy(&t, v.data, sizeof(t));
			rc = cb(txn, cur, get_be64(key + kl - 8), &t, arg);
		}
		free(v.data);
		v = dbt_out();
		ret = cur->get(cur, &k, &v, DB_NEXT | (txn ? DB_RMW : 0));
	}
	if (ret == 0)
		free(v.data);
	if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
		rc = fail("trash walk", ret);
	cur->close(cur);
	return rc;
}

/* Purge the trash entry the cursor is on. */
static int
trash_purge_at(DB_TXN *txn, DBC *cur, uint64_t fid, const struct trec *t,
    void *arg)
{
	uint64_t	*n = arg, seen, dropped;
	int		 ret, rc;

	(void)t;
	if ((rc = versions_drop(txn, fid, UINT64_MAX, &seen, &dropped)) < 0)
		return rc;
	if ((ret = cur->del(cur, 0)) != 0)
		return fail("trash del", ret);
	cnt.trash--;
	*n += dropped;
	return 0;
}

int
db_purge(const char *name, uint64_t *n)
{
	DB_TXN		*txn;
	DBT		 k = dbt(name, strlen(name));
	struct nrec	 nr;
	uint64_t	 seen, dropped, ntrash0;
	int		 ret, rc, live;

	*n = 0;
	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((rc = name_get(txn, name, &nr, DB_RMW)) < 0 && rc != GFS_ENOENT)
		return txn_end(txn, rc);
	live = rc == 0;
	if (live) {
		if ((rc = versions_drop(txn, nr.fid, UINT64_MAX, &seen,
		    &dropped)) < 0)
			return txn_end(txn, rc);
		if ((ret = names->del(names, txn, &k, 0)) != 0)
			return txn_end(txn, fail("names del", ret));
		cnt.files--;
		*n += dropped;
	}
	ntrash0 = cnt.trash;
	if ((rc = trash_each(txn, name, trash_purge_at, n)) < 0)
		return txn_end(txn, rc);
	if (!live && cnt.trash == ntrash0)
		return txn_end(txn, GFS_ENOENT);
	return txn_end(txn, 0);
}

int
db_prune(const char *name, uint32_t keep, uint64_t *n)
{
	DB_TXN		*txn;
	struct nrec	 nr;
	uint64_t	 seen;
	int		 rc;

	*n = 0;
	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((rc = name_get(txn, name, &nr, DB_RMW)) < 0)
		return txn_end(txn, rc);
	if ((rc = versions_count(txn, nr.fid, &seen)) == 0 && seen > keep)
		rc = versions_drop(txn, nr.fid, seen - keep, &seen, n);
	return txn_end(txn, rc);
}

int
db_trash_list(const char *prefix, int (*cb)(const char *,
    const struct tinfo *, void *), void *arg)
{
	DBC		*cur;
	DBT		 k, v;
	size_t		 pl = strlen(prefix), nl;
	char		 name[GFS_MAX_NAME + 1];
	struct trec	 t;
	struct tinfo	 ti;
	u_int32_t	 op = pl ? DB_SET_RANGE : DB_FIRST;
	int		 rc = 0, ret = DB_NOTFOUND;

	if (trash->cursor(trash, rtxn(), &cur, rflags()) != 0)
		return GFS_EIO;
	memset(&k, 0, sizeof(k));
	k.data = (void *)(uintptr_t)prefix;
	k.size = (u_int32_t)pl;
	k.flags = DB_DBT_MALLOC;
	v = dbt_out();
	while (rc == 0 && (ret = cur->get(cur, &k, &v, op)) == 0) {
		op = DB_NEXT;
		nl = k.size >= 9 ? k.size - 9 : 0;
		if (k.size < pl || memcmp(k.data, prefix, pl) != 0) {
			free(k.data);
			free(v.data);
			break;
		}
		if (k.size >= 9 && nl <= GFS_MAX_NAME &&
		    ((char *)k.data)[nl] == '\0' && v.size == sizeof(t)) {
			memcpy(name, k.data, nl);
			name[nl] = '\0';
			memcpy(&t, v.data, sizeof(t));
			ti.fid = get_be64((uint8_t *)k.data + nl + 1);
			ti.deleted = t.deleted;
			ti.latest = t.latest;
			ti.nversions = t.nversions;
			ti.size = t.size;
			rc = cb(name, &ti, arg);
		}
		free(k.data);
		free(v.data);
		k.data = NULL;
		v = dbt_out();
	}
	if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
		rc = fail("trash walk", ret);
	cur->close(cur);
	return rc;
}

struct newest {
	uint64_t	fid, deleted;
	struct trec	t;
	int		found;
};

static int
trash_newest(DB_TXN *txn, DBC *cur, uint64_t fid, const struct trec *t,
    void *arg)
{
	struct newest *nw = arg;

	(void)txn;
	(void)cur;
	if (!nw->found || t->deleted >= nw->deleted) {
		nw->found = 1;
		nw->fid = fid;
		nw->deleted = t->deleted;
		nw->t = *t;
	}
	return 0;
}

int
db_undelete(const char *name, const char *newname, uint32_t *version)
{
	DB_TXN		*txn;
	struct newest	 nw;
	struct nrec	 nr;
	uint8_t		 key[GFS_MAX_NAME + 9];
	DBT		 tk;
	int		 ret, rc;

	if (newname == NULL)
		newname = name;
	memset(&nw, 0, sizeof(nw));
	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((rc = trash_each(txn, name, trash_newest, &nw)) < 0)
		return txn_end(txn, rc);
	if (!nw.found)
		return txn_end(txn, GFS_ENOENT);
	if ((rc = name_get(txn, newname, &nr, DB_RMW)) == 0)
		return txn_end(txn, GFS_EEXIST);
	if (rc != GFS_ENOENT)
		return txn_end(txn, rc);
	memset(&nr, 0, sizeof(nr));
	nr.fid = nw.fid;
	nr.latest = nw.t.latest;
	tk = dbt(key, tkey(key, name, nw.fid));
	if ((rc = name_put(txn, newname, &nr)) < 0)
		return txn_end(txn, rc);
	if ((ret = trash->del(trash, txn, &tk, 0)) != 0)
		return txn_end(txn, fail("trash del", ret));
	cnt.files++;
	cnt.trash--;
	*version = nr.latest;
	return txn_end(txn, 0);
}

int
db_trash_expire(uint64_t cutoff, int max)
{
	DB_TXN		*txn;
	DBC		*cur;
	DBT		 k, v;
	struct trec	 t;
	uint64_t	 n = 0;
	int		 ret, rc = 0, done = 0;

	if (cnt.trash == 0)
		return 0;
	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	if ((ret = trash->cursor(trash, txn, &cur, 0)) != 0)
		return txn_end(txn, fail("cursor", ret));
	k = dbt_out();
	v = dbt_out();
	ret = cur->get(cur, &k, &v, DB_FIRST | DB_RMW);
	while (rc == 0 && ret == 0 && done < max) {
		if (k.size >= 9 && v.size == sizeof(t)) {
			memcpy(&t, v.data, sizeof(t));
			if (t.deleted < cutoff) {
				rc = trash_purge_at(txn, cur, get_be64(
				    (uint8_t *)k.data + k.size - 8), &t, &n);
				done++;
			}
		}
		free(k.data);
		free(v.data);
		k = dbt_out();
		v = dbt_out();
		if (rc == 0)
			ret = cur->get(cur, &k, &v, DB_NEXT | DB_RMW);
	}
	if (ret == 0) {
		free(k.data);
		free(v.data);
	}
	if (rc == 0 && ret != 0 && ret != DB_NOTFOUND)
		rc = fail("trash walk", ret);
	cur->close(cur);
	rc = txn_end(txn, rc);
	return rc < 0 ? rc : done;
}

int
db_gc_take(uint8_t (*hashes)[GFS_HASH_LEN], int max, uint64_t *seq)
{
	DB_TXN	*txn;
	DBC	*cur;
	DBT	 k, v;
	int	 ret, rc = 0, n = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	*seq = meta_u64(txn, "gcseq", DB_RMW);
	if ((ret = gcq->cursor(gcq, txn, &cur, 0)) != 0)
		return txn_end(txn, fail("cursor", ret));
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = hashes[0];
	k.ulen = GFS_HASH_LEN;
	k.flags = DB_DBT_USERMEM;
	v.flags = DB_DBT_PARTIAL;
	while (n < max && (ret = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		if (k.size == GFS_HASH_LEN)
			n++;
		if (n < max)
			k.data = hashes[n];
	}
	if (n < max && ret != DB_NOTFOUND)
		rc = fail("gc walk", ret);
	cur->close(cur);
	/* A new number only for a round that deletes something. */
	if (rc == 0 && n > 0)
		rc = meta_put_u64(txn, "gcseq", ++*seq);
	rc = txn_end(txn, rc);
	return rc < 0 ? rc : n;
}

int
db_gc_done(const uint8_t (*hashes)[GFS_HASH_LEN], int n, uint64_t seq)
{
	DB_TXN		*txn;
	uint64_t	 queued;
	int		 i, ret, rc = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	for (i = 0; i < n && rc == 0; i++) {
		DBT k = dbt(hashes[i], GFS_HASH_LEN), v = dbt_out();

		ret = gcq->get(gcq, txn, &k, &v, DB_RMW);
		if (ret == DB_NOTFOUND)
			continue;	/* referenced again meanwhile */
		if (ret != 0) {
			rc = fail("gc get", ret);
			break;
		}
		queued = 0;
		if (v.size == sizeof(queued))
			memcpy(&queued, v.data, sizeof(queued));
		free(v.data);
		/*
		 * Queued again after round seq was numbered (a put took it
		 * and gave it back meanwhile): a later round deletes it.
		 */
		if (queued >= seq)
			continue;
		if ((ret = gcq->del(gcq, txn, &k, 0)) != 0)
			rc = fail("gc del", ret);
		else
			cnt.gcq--;
	}
	return txn_end(txn, rc);
}

uint64_t
db_gcseq(void)
{
	return meta_u64(rtxn(), "gcseq", rflags());
}

void
db_stats(struct dbstats *st)
{
	*st = cnt;
}

uint64_t
db_txns(void)
{
	return ntxns;
}

uint64_t
db_files(void)
{
	return cnt.files;
}
