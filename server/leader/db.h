/*
 * The leader's state in one transactional Berkeley DB environment:
 *   names.db     name -> latest version (u32)
 *   versions.db  name \0 be32(version) -> struct vrec + hashes
 *   pending.db   txid -> struct prec + name + hashes
 *   servers.db   chunk server id -> struct srec + tokens (u64 each)
 *   meta.db      "epoch" -> u64
 * Every change is one transaction, committed (and its log flushed)
 * before the reply.
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
	uint32_t	  nchunks;
	uint8_t		(*hashes)[GFS_HASH_LEN];	/* malloc'ed */
};

int	db_open(const char *dir);
void	db_close(void);

uint64_t db_epoch(void);
int	db_epoch_put(uint64_t epoch);
/* Record a server and the ring epoch in one transaction. */
int	db_server_put(const char *id, const char *addr, int removed,
	    uint32_t ntokens, const uint64_t *tokens, uint64_t epoch);
int	db_servers(int (*cb)(const char *id, const char *addr, int removed,
	    uint32_t ntokens, const uint64_t *tokens, void *), void *arg);

int	db_pending_put(const char *txid, const char *name, uint64_t size,
	    uint32_t nchunks, const uint8_t (*hashes)[GFS_HASH_LEN]);
int	db_pending_del(const char *txid);
int	db_pending_each(int (*cb)(const char *txid, void *), void *arg);
/* Make txid's pending mapping the next version of its name. */
int	db_commit(const char *txid, uint32_t *version);

/* version 0: the latest. */
int	db_lookup(const char *name, uint32_t version, struct vinfo *);
int	db_list(const char *prefix, int (*cb)(const char *name,
	    const struct vinfo *, void *), void *arg);
int	db_delete(const char *name);
uint64_t db_files(void);

#endif
