/*
 * Chunk storage: append-only segment files of self-describing records
 * and the in-memory index over them.
 *
 * A record is a 48-byte header, then len bytes of data:
 *   magic u32 "GFSC", type u8 (REC_CHUNK or REC_DELETE), flags u8,
 *   len u16, crc u32 (CRC-32 of header with crc 0, then data),
 *   reserved u32, hash[32]
 * integers little-endian.  REC_DELETE is a tombstone: no data, the
 * chunk of that hash is gone from then on.
 */
#ifndef GFS_SEGMENT_H
#define GFS_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"
#include "index.h"

#define REC_MAGIC	0x43534647u	/* "GFSC" */
#define REC_HDR		48
#define REC_CHUNK	1
#define REC_DELETE	2

struct seg {
	int		fd;
	uint64_t	size;
};

struct store {
	char		*dir;
	int		 dirfd;
	struct seg	*segs;		/* by number; segs[0] unused */
	uint32_t	 nsegs;		/* highest number + 1 */
	uint32_t	 active;
	struct index	 idx;
	uint64_t	 chunks;
	uint64_t	 bytes;		/* payload bytes of live chunks */
	uint64_t	 disk;		/* bytes of all segment files */
	uint64_t	 truncated;	/* torn bytes cut at start-up */
	uint64_t	 corrupt;	/* damaged records: CRC at start, scrub */
};

struct chunk_in {
	const uint8_t	*hash;
	const uint8_t	*data;
	size_t		 len;
};

int	store_open(struct store *, const char *dir);
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
int	store_append(struct store *, const struct chunk_in *, size_t n);
/* Tombstone the chunks held; fdatasync; returns how many. */
int	store_delete(struct store *, const uint8_t (*hashes)[GFS_HASH_LEN], size_t n);
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

uint32_t	crc32_update(uint32_t crc, const void *, size_t);

#endif
