/*
 * Berkeley DB storage for the leader.  The process is single-threaded
 * and runs one transaction at a time, so there are no deadlocks to
 * detect.  Returns 0, GFS_ENOENT, or GFS_EIO (logged).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <db.h>

#include "banned.h"
#include "db.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

static DB_ENV	*env;
static DB	*names, *versions, *pending, *servers, *meta;
static uint64_t	 nfiles;

struct vrec {
	uint64_t	size;
	uint64_t	mtime;
	uint32_t	nchunks;
	uint32_t	flags;
};

struct prec {
	uint64_t	size;
	uint64_t	created;
	uint32_t	nchunks;
	uint32_t	namelen;
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
count_keys(DB *db)
{
	DBC		*cur;
	DBT		 k, v;
	uint64_t	 n = 0;

	if (db->cursor(db, NULL, &cur, 0) != 0)
		return 0;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL;	/* keys only */
	while (cur->get(cur, &k, &v, DB_NEXT) == 0)
		n++;
	cur->close(cur);
	return n;
}

int
db_open(const char *dir)
{
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0)
		return fail("db_env_create", ret);
	env->set_errcall(env, db_errcall);
	env->set_cachesize(env, 0, 64 * 1024 * 1024, 1);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	if ((ret = env->open(env, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOG |
	    DB_INIT_LOCK | DB_INIT_MPOOL | DB_RECOVER, 0600)) != 0)
		return fail(dir, ret);
	if (open_db(&names, "names.db") < 0 ||
	    open_db(&versions, "versions.db") < 0 ||
	    open_db(&pending, "pending.db") < 0 ||
	    open_db(&servers, "servers.db") < 0 ||
	    open_db(&meta, "meta.db") < 0)
		return GFS_EIO;
	nfiles = count_keys(names);
	return 0;
}

void
db_close(void)
{
	DB **dbs[] = { &names, &versions, &pending, &servers, &meta };
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

static int
txn_begin(DB_TXN **txn)
{
	int ret;

	if ((ret = env->txn_begin(env, NULL, txn, 0)) != 0)
		return fail("txn_begin", ret);
	return 0;
}

static int
txn_end(DB_TXN *txn, int rc)
{
	int ret;

	if (rc < 0) {
		txn->abort(txn);
		return rc;
	}
	if ((ret = txn->commit(txn, 0)) != 0)
		return fail("txn commit", ret);
	return 0;
}

uint64_t
db_epoch(void)
{
	DBT		k = dbt("epoch", 5), v = dbt_out();
	uint64_t	e = 0;

	if (meta->get(meta, NULL, &k, &v, 0) == 0) {
		if (v.size == sizeof(e))
			memcpy(&e, v.data, sizeof(e));
		free(v.data);
	}
	return e;
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

	if (servers->cursor(servers, NULL, &cur, 0) != 0)
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

int
db_pending_put(const char *txid, const char *name, uint64_t size,
    uint32_t nchunks, const uint8_t (*hashes)[GFS_HASH_LEN])
{
	struct prec	 p;
	size_t		 nl = strlen(name), len;
	uint8_t		*buf;
	DB_TXN		*txn;
	DBT		 k = dbt(txid, strlen(txid)), v;
	int		 ret, rc = 0;

	p.size = size;
	p.created = (uint64_t)time(NULL);
	p.nchunks = nchunks;
	p.namelen = (uint32_t)nl;
	len = sizeof(p) + nl + (size_t)nchunks * GFS_HASH_LEN;
	buf = xmalloc(len);
	memcpy(buf, &p, sizeof(p));
	memcpy(buf + sizeof(p), name, nl);
	if (nchunks)
		memcpy(buf + sizeof(p) + nl, hashes,
		    (size_t)nchunks * GFS_HASH_LEN);
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
			if (old.size == len && memcmp((uint8_t *)old.data +
			    sizeof(p), buf + sizeof(p), len - sizeof(p)) == 0 &&
			    ((struct prec *)old.data)->size == p.size &&
			    ((struct prec *)old.data)->nchunks == p.nchunks)
				rc = 1;	/* the same mapping again */
			free(old.data);
		}
	}
	else if (ret != 0)
		rc = fail("pending put", ret);
	free(buf);
	if (rc == 1)
		return txn_end(txn, 0) == 0 ? 1 : GFS_EIO;
	return txn_end(txn, rc);
}

int
db_pending_del(const char *txid)
{
	DB_TXN	*txn;
	DBT	 k = dbt(txid, strlen(txid));
	int	 ret, rc = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	ret = pending->del(pending, txn, &k, 0);
	if (ret == DB_NOTFOUND)
		rc = GFS_ENOENT;
	else if (ret != 0)
		rc = fail("pending del", ret);
	return txn_end(txn, rc);
}

int
db_pending_each(int (*cb)(const char *, void *), void *arg)
{
	DBC	*cur;
	DBT	 k, v;
	char	 txid[GFS_MAX_TXID + 1];
	int	 rc = 0;

	if (pending->cursor(pending, NULL, &cur, 0) != 0)
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

/* Key of one version: name, NUL, big-endian version. */
static size_t
vkey(uint8_t *key, const char *name, uint32_t version)
{
	size_t nl = strlen(name);

	memcpy(key, name, nl);
	key[nl] = '\0';
	key[nl + 1] = (uint8_t)(version >> 24);
	key[nl + 2] = (uint8_t)(version >> 16);
	key[nl + 3] = (uint8_t)(version >> 8);
	key[nl + 4] = (uint8_t)version;
	return nl + 5;
}

static int
latest(DB_TXN *txn, const char *name, uint32_t *version, u_int32_t flags)
{
	DBT	k = dbt(name, strlen(name)), v = dbt_out();
	int	ret;

	*version = 0;
	ret = names->get(names, txn, &k, &v, flags);
	if (ret == DB_NOTFOUND)
		return GFS_ENOENT;
	if (ret != 0)
		return fail("names get", ret);
	if (v.size == sizeof(*version))
		memcpy(version, v.data, sizeof(*version));
	free(v.data);
	return 0;
}

int
db_commit(const char *txid, uint32_t *version)
{
	DB_TXN		*txn;
	DBT		 k = dbt(txid, strlen(txid)), v = dbt_out(), nk, nv, vk, vv;
	struct prec	 p;
	struct vrec	 r;
	char		 name[GFS_MAX_NAME + 1];
	uint8_t		 key[GFS_MAX_NAME + 5], *rec;
	uint32_t	 cur;
	size_t		 hlen;
	int		 ret, rc = 0, isnew;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	ret = pending->get(pending, txn, &k, &v, DB_RMW);
	if (ret == DB_NOTFOUND)
		return txn_end(txn, GFS_ENOENT);
	if (ret != 0)
		return txn_end(txn, fail("pending get", ret));
	memcpy(&p, v.data, sizeof(p));
	hlen = (size_t)p.nchunks * GFS_HASH_LEN;
	if (p.namelen > GFS_MAX_NAME || v.size != sizeof(p) + p.namelen + hlen) {
		free(v.data);
		return txn_end(txn, fail("pending record", DB_NOTFOUND));
	}
	memcpy(name, (uint8_t *)v.data + sizeof(p), p.namelen);
	name[p.namelen] = '\0';
	rc = latest(txn, name, &cur, DB_RMW);
	if (rc < 0 && rc != GFS_ENOENT) {
		free(v.data);
		return txn_end(txn, rc);
	}
	isnew = rc == GFS_ENOENT;
	rc = 0;
	*version = cur + 1;
	r.size = p.size;
	r.mtime = (uint64_t)time(NULL);
	r.nchunks = p.nchunks;
	r.flags = 0;
	rec = xmalloc(sizeof(r) + hlen);
	memcpy(rec, &r, sizeof(r));
	memcpy(rec + sizeof(r), (uint8_t *)v.data + sizeof(p) + p.namelen, hlen);
	free(v.data);
	vk = dbt(key, vkey(key, name, *version));
	vv = dbt(rec, sizeof(r) + hlen);
	nk = dbt(name, p.namelen);
	nv = dbt(version, sizeof(*version));
	if ((ret = versions->put(versions, txn, &vk, &vv, 0)) != 0 ||
	    (ret = names->put(names, txn, &nk, &nv, 0)) != 0 ||
	    (ret = pending->del(pending, txn, &k, 0)) != 0)
		rc = fail("commit", ret);
	free(rec);
	if ((rc = txn_end(txn, rc)) == 0 && isnew)
		nfiles++;
	return rc;
}

int
db_lookup(const char *name, uint32_t version, struct vinfo *vi)
{
	uint8_t		key[GFS_MAX_NAME + 5];
	DBT		k, v = dbt_out();
	struct vrec	r;
	int		rc, ret;

	memset(vi, 0, sizeof(*vi));
	if (version == 0 && (rc = latest(NULL, name, &version, 0)) < 0)
		return rc;
	k = dbt(key, vkey(key, name, version));
	ret = versions->get(versions, NULL, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return GFS_ENOENT;
	if (ret != 0)
		return fail("versions get", ret);
	memcpy(&r, v.data, sizeof(r));
	if (v.size != sizeof(r) + (size_t)r.nchunks * GFS_HASH_LEN) {
		free(v.data);
		return fail("version record", DB_NOTFOUND);
	}
	vi->version = version;
	vi->size = r.size;
	vi->mtime = r.mtime;
	vi->nchunks = r.nchunks;
	vi->hashes = xreallocarray(NULL, (size_t)r.nchunks + 1, GFS_HASH_LEN);
	memcpy(vi->hashes, (uint8_t *)v.data + sizeof(r),
	    (size_t)r.nchunks * GFS_HASH_LEN);
	free(v.data);
	return 0;
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
	int		 rc = 0;

	if (names->cursor(names, NULL, &cur, 0) != 0)
		return GFS_EIO;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)(uintptr_t)prefix;
	k.size = (u_int32_t)pl;
	if (pl == 0)
		op = DB_FIRST;
	k.flags = DB_DBT_MALLOC;
	while (rc == 0 && cur->get(cur, &k, &v, op) == 0) {
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
		if (db_lookup(name, 0, &vi) == 0) {
			rc = cb(name, &vi, arg);
			free(vi.hashes);
		}
	}
	cur->close(cur);
	return rc;
}

int
db_delete(const char *name)
{
	DB_TXN		*txn;
	DBC		*cur;
	DBT		 k = dbt(name, strlen(name)), ck, cv;
	uint8_t		 key[GFS_MAX_NAME + 5];
	size_t		 kl = strlen(name) + 1;
	int		 ret, rc = 0;

	if (txn_begin(&txn) < 0)
		return GFS_EIO;
	ret = names->del(names, txn, &k, 0);
	if (ret == DB_NOTFOUND)
		return txn_end(txn, GFS_ENOENT);
	if (ret != 0)
		return txn_end(txn, fail("names del", ret));
	if ((ret = versions->cursor(versions, txn, &cur, 0)) != 0)
		return txn_end(txn, fail("cursor", ret));
	vkey(key, name, 0);
	ck = dbt(key, kl);
	ck.ulen = sizeof(key);
	ck.flags = DB_DBT_USERMEM;
	memset(&cv, 0, sizeof(cv));
	cv.flags = DB_DBT_PARTIAL;
	ret = cur->get(cur, &ck, &cv, DB_SET_RANGE | DB_RMW);
	while (ret == 0 && ck.size == kl + 4 && memcmp(key, name, kl - 1) == 0 &&
	    key[kl - 1] == '\0') {
		if ((ret = cur->del(cur, 0)) != 0)
			break;
		ret = cur->get(cur, &ck, &cv, DB_NEXT | DB_RMW);
	}
	if (ret != 0 && ret != DB_NOTFOUND)
		rc = fail("versions del", ret);
	cur->close(cur);
	if ((rc = txn_end(txn, rc)) == 0)
		nfiles--;
	return rc;
}

uint64_t
db_files(void)
{
	return nfiles;
}
