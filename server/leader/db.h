/*
 * The leader's state in one transactional Berkeley DB environment:
 *   names.db     name -> struct nrec: file id and latest version
 *   versions.db  be64(file id) be32(version) -> struct vrec + hashes
 *   trash.db     name \0 be64(file id) -> struct trec
 *   pending.db   txid -> struct prec + name + hashes
 *   refs.db      chunk hash -> u32 references from versions (live and
 *                trashed) and pending mappings, one per occurrence
 *   gc.db        chunk hash -> nothing: unreferenced, to be deleted
 *   servers.db   chunk server id -> struct srec + tokens (u64 each)
 *   meta.db      "format", "epoch", "fid", "gcseq", "counters"
 * A name points at a file id, so that rm (to the trash), undelete under
 * another name and purge move one record, not every version.  Every
 * change is one transaction, reference counts included, committed (and
 * its log flushed) before the reply.
 */
#ifndef GFS_LEADER_DB_H
#define GFS_LEADER_DB_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"

struct vinfo {
	uint32_t	  version;
	uint64_t	  size;
	uint64_t	  mtime;
	uint32_t	  chunking;	/* CHUNK_FIXED, CHUNK_CDC */
	int		  has_sha;
	uint8_t		  sha[GFS_HASH_LEN];	/* of the whole file */
	uint32_t	  nchunks;
	uint8_t		(*hashes)[GFS_HASH_LEN];	/* malloc'ed */
};

struct tinfo {
	uint64_t	fid;
	uint64_t	deleted;	/* wall clock, seconds */
	uint32_t	latest;
	uint32_t	nversions;
	uint64_t	size;		/* of the latest version */
};

struct dbstats {
	uint64_t	files;		/* live names */
	uint64_t	versions;	/* live and trashed */
	uint64_t	logical;	/* bytes of those versions */
	uint64_t	trash;		/* names in the trash */
	uint64_t	chunks;		/* distinct chunks referenced */
	uint64_t	gcq;		/* chunks waiting for deletion */
};

/* A new mapping: what PUT_PENDING carried. */
struct pinfo {
	const char	 *name;
	uint64_t	  size;
	uint32_t	  chunking;
	int		  has_sha;
	uint8_t		  sha[GFS_HASH_LEN];
	int64_t		  if_version;	/* -1: no condition */
	uint32_t	  nchunks;
	const uint8_t	(*hashes)[GFS_HASH_LEN];
};

int	db_open(const char *dir);
void	db_close(void);
/*
 * Group commit: with cb set, transactions commit without a log flush
 * (DB_TXN_NOSYNC) and call cb, which must see that db_flush() runs
 * before anything is acknowledged; db_flush() writes and syncs the log
 * once for all of them.  Without cb every commit syncs.
 */
void	db_group_commit(void (*cb)(void));
int	db_flush(void);
/*
 * A pass: the transactions between begin and end are children of one,
 * committed by db_pass_end() (or an earlier db_flush()) with a single
 * log write.  Replies of the pass must wait for db_pass_end().
 */
void	db_pass_begin(void);
int	db_pass_commit(void);	/* what the pass did so far; it goes on */
int	db_pass_end(void);

uint64_t db_epoch(void);
int	db_epoch_put(uint64_t epoch);
/* Record a server and the ring epoch in one transaction. */
int	db_server_put(const char *id, const char *addr, int removed,
	    uint32_t ntokens, const uint64_t *tokens, uint64_t epoch);
int	db_servers(int (*cb)(const char *id, const char *addr, int removed,
	    uint32_t ntokens, const uint64_t *tokens, void *), void *arg);

/* 0 new, 1 the same mapping again, GFS_EINVAL another under that txid. */
int	db_pending_put(const char *txid, const struct pinfo *);
int	db_pending_del(const char *txid);
int	db_pending_each(int (*cb)(const char *txid, void *), void *arg);
/*
 * Make txid's pending mapping the next version of its name, then keep
 * only the newest keep versions (0: all).  GFS_ECONFLICT (the mapping
 * is dropped) when it had a condition the current version fails; *cur
 * is then the current version.
 */
int	db_commit(const char *txid, uint32_t keep, uint32_t *version,
	    uint32_t *cur);
/*
 * The pending mappings <base>-0 to <base>-(n-1) all become versions in
 * one transaction, or none does: GFS_ENOENT or GFS_ECONFLICT names the
 * first that failed in failed (nothing is dropped then).
 */
int	db_commit_group(const char *base, uint32_t n, uint32_t keep,
	    char *failed, size_t failedsz, uint32_t *cur);
/* Drop the pending mappings <base>-0 to <base>-(n-1) that exist. */
int	db_pending_del_group(const char *base, uint32_t n, uint32_t *dropped);

/* version 0: the latest. */
int	db_lookup(const char *name, uint32_t version, struct vinfo *);
/* Every version of a live name, newest first; hashes not filled. */
int	db_versions(const char *name, int (*cb)(const struct vinfo *, void *),
	    void *arg);
int	db_list(const char *prefix, int (*cb)(const char *name,
	    const struct vinfo *, void *), void *arg);
/* Move a name with every version to the trash. */
int	db_delete(const char *name);
/* Drop a live name and its trash entries now; *n versions dropped. */
int	db_purge(const char *name, uint64_t *n);
/* Keep the newest keep versions of a live name; *n dropped. */
int	db_prune(const char *name, uint32_t keep, uint64_t *n);
int	db_trash_list(const char *prefix, int (*cb)(const char *name,
	    const struct tinfo *, void *), void *arg);
/*
 * Bring back the most recently deleted entry of name, as newname if
 * not NULL.  GFS_EEXIST when that name is live.
 */
int	db_undelete(const char *name, const char *newname, uint32_t *version);
/* Purge trash entries deleted before cutoff (wall seconds); how many. */
int	db_trash_expire(uint64_t cutoff, int max);

/*
 * Up to max unreferenced chunks to delete, under a new GC sequence
 * number *seq (durable, increasing); with none, *seq is the last one.
 * Returns how many.
 */
int	db_gc_take(uint8_t (*hashes)[GFS_HASH_LEN], int max, uint64_t *seq);
/*
 * Round seq deleted these from every server: forget those that were not
 * queued again after the round was numbered.
 */
int	db_gc_done(const uint8_t (*hashes)[GFS_HASH_LEN], int n, uint64_t seq);
/* The last GC sequence number handed out. */
uint64_t db_gcseq(void);
void	db_stats(struct dbstats *);
uint64_t db_files(void);
uint64_t db_txns(void);		/* top-level transactions committed */

#endif
