/*
 * Chunk storage: append-only segment files of self-describing records
 * and the in-memory index over them.
 *
 * A record is a 48-byte header, then len bytes of data:
 *   magic u32 "GFSC", type u8 (REC_CHUNK or REC_DELETE), flags u8,
 *   len u16, crc u32 (CRC-32 of header with crc 0, then data),
 *   hi u32, hash[32]
 * integers little-endian.  REC_DELETE is a tombstone: the chunk of that
 * hash is gone from then on.  Its 4 data bytes are lo, a u32: it takes
 * out a record of its hash only in segments lo to hi (compact.c says
 * why).  Chunk records have hi 0.  Tombstones from before compaction
 * have no data and hi 0: segments 1 to their own.
 */
#ifndef GFS_SEGMENT_H
#define GFS_SEGMENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "gfs.h"
#include "index.h"

#define REC_MAGIC	0x43534647u	/* "GFSC" */
#define REC_HDR		48
#define REC_CHUNK	1
#define REC_DELETE	2
#define REC_TOMB	(REC_HDR + 4)	/* bytes of a tombstone */

/* A segment number's file; fd -1 when there is none (any more). */
struct seg {
	int		fd;
	int		damaged;	/* cannot be parsed: never compacted */
	int		moved;		/* may hold older copies of indexed chunks */
	uint32_t	next;		/* no file: a number >= next may have one */
	uint64_t	size;		/* records end here */
	uint64_t	zeroed;		/* the file's length: zeros after size */
	uint64_t	live;		/* bytes of the records indexed */
	uint64_t	tomb;		/* bytes of its tombstones */
	uint32_t	nlive;		/* records indexed */
	int		dirty;		/* written, not fdatasynced yet */
	uint32_t	tlo, thi;	/* the segments its tombstones cover */
};

struct store {
	char		*dir;
	int		 dirfd;
	struct seg	*segs;		/* by number; segs[0] unused */
	uint32_t	 nsegs;		/* highest number + 1 */
	uint32_t	 active;
	uint32_t	 files;		/* segment files */
	uint32_t	 nmoved;	/* segments with moved set */
	uint32_t	 dirty_lo;	/* lowest dirty segment, 0: none */
	uint64_t	 segsize;	/* roll here; GFS_SEGMENT_SIZE */
	struct index	 idx;
	uint64_t	 chunks;
	uint64_t	 bytes;		/* payload bytes of live chunks */
	uint64_t	 live;		/* their records' bytes, headers too */
	uint64_t	 disk;		/* bytes of all segment files */
	uint64_t	 ahead;		/* of which zeros past the records */
	uint64_t	 compactions;	/* segments compacted and removed */
	uint64_t	 compacted;	/* bytes that reclaimed */
	uint64_t	 truncated;	/* torn bytes cut at start-up */
	uint64_t	 corrupt;	/* damaged records: CRC at start, scrub */
};

struct chunk_in {
	const uint8_t	*hash;
	const uint8_t	*data;
	size_t		 len;
};

int	store_open(struct store *, const char *dir);
/*
 * Cut the zeros ahead of the active segment's records, so that the
 * files hold records only: at a clean shutdown, by the only process
 * that writes them.
 */
void	store_trim(struct store *);
void	store_close(struct store *);
int	store_has(struct store *, const uint8_t hash[GFS_HASH_LEN]);
/*
 * Copy the chunk into buf (GFS_MAX_CHUNK); returns len, GFS_ENOENT, or
 * GFS_EHASH when its record fails the CRC (never served).
 */
int	store_read(struct store *, const uint8_t hash[GFS_HASH_LEN], uint8_t *buf);
/*
 * Append chunks not held yet, fdatasync, then index them.  Returns the
 * number appended, or GFS_EIO with nothing indexed.
 */
int	store_append(struct store *, const struct chunk_in *, size_t n,
	    int flags);
/*
 * STORE_NOSYNC: write and index, but leave the fdatasync to the caller,
 * who syncs what store_dirty() hands out before it acknowledges
 * anything (group commit: one sync for every COMMIT of a pass).
 */
#define STORE_NOSYNC	0x01
/*
 * The segments written with STORE_NOSYNC since the last call: under the
 * lock, up to max dup()ed descriptors (-1 for one that could not be
 * dup()ed), for the caller to fdatasync and close without the lock, so
 * that it is not held over the disk.  Returns how many; max means maybe
 * more.
 */
int	store_dirty(struct store *, int *fds, int max);
/* Tombstone the chunks held; fdatasync (flags as above); returns how many. */
int	store_delete(struct store *, const uint8_t (*hashes)[GFS_HASH_LEN], size_t n,
	    int flags);
/*
 * Up to max hashes of the chunks held, read from their record headers,
 * walking the index from *cursor (start at 0) and advancing it; 0 at
 * the end.  An entry whose header is damaged is dropped from the index
 * and counted corrupt.  Entries added, removed or moved by a growing
 * index during a walk may be missed or seen twice.
 */
size_t	store_scan(struct store *, size_t *cursor,
	    uint8_t (*hashes)[GFS_HASH_LEN], size_t max);
/*
 * Drop a damaged chunk: tombstone it (fdatasync), take it out of the
 * index and count it corrupt, without reading its data.  Returns 1, 0
 * when not held, or GFS_EIO.
 */
int	store_drop(struct store *, const uint8_t hash[GFS_HASH_LEN]);

/*
 * Compaction (compact.c has the thread and the rules).  The lowest
 * sealed segment whose reclaimable bytes are over pct percent of it,
 * or 0; the caller holds the lock.
 */
uint32_t	store_compact_pick(struct store *, unsigned pct);
/*
 * Copy what is live of segment n to the active segment, a step at a
 * time under *lock, then remove its file.  Called without *lock held;
 * *stop, read under it, ends the work between steps.  Returns 0 when n
 * is gone, 1 when stopped, GFS_EIO, or GFS_EPROTO when n cannot be
 * parsed (it is marked damaged and left alone).
 */
int	store_compact(struct store *, uint32_t n, pthread_mutex_t *lock,
	    const int *stop);

uint32_t	crc32_update(uint32_t crc, const void *, size_t);

#endif
