/*
 * The chunk server's in-memory index: open addressing with linear
 * probing, keyed by 32 bits of the hash.  An entry is 12 bytes; the
 * full hash is checked in the on-disk record (store_find), so two
 * chunks whose keys collide both live in the table, and a lookup of
 * one may read the other's record header first.
 *
 * At most 24 bytes of RAM per chunk: the table grows by 1.5 times when
 * an insert would take its load over 0.8, so once it has grown past the
 * size index_init gave it the load stays between 0.8 / 1.5 = 0.53 and
 * 0.8, and the table costs 12 / 0.8 = 15 to 12 / 0.53 = 22.5 bytes per
 * entry.  (While it grows, the old table is held too, for a moment.)
 *
 * The key is bytes 4 to 7 of the hash, the low half of hash_prefix(),
 * not bytes 0 to 3: those are the chunk's position on the ring, so the
 * chunks of one server share them in runs, and a table that places
 * keys by their high bits would crowd them together.
 */
#ifndef GFS_INDEX_H
#define GFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct idx_entry {
	uint32_t	key;
	uint32_t	seg;	/* 0: empty slot */
	uint32_t	off;
};

struct index {
	struct idx_entry	*tab;
	size_t			 cap;	/* slots, any number from 1024 */
	size_t			 n;
};

/* The key of a hash: (uint32_t)hash_prefix(hash). */
static inline uint32_t
index_key(const uint8_t *hash)
{
	return (uint32_t)hash[4] << 24 | (uint32_t)hash[5] << 16 |
	    (uint32_t)hash[6] << 8 | (uint32_t)hash[7];
}

/* The slot where a key's probe starts: key * cap / 2^32. */
static inline size_t
index_home(const struct index *ix, uint32_t key)
{
	return (size_t)(((uint64_t)key * ix->cap) >> 32);
}

void	index_init(struct index *, size_t cap);
void	index_release(struct index *);
void	index_insert(struct index *, uint32_t key, uint32_t seg, uint32_t off);
/*
 * Visit the entries with this key, from *slot on (start with
 * *slot = SIZE_MAX).  Returns 1 and sets *slot to the next one, or 0
 * when there are no more.
 */
int	index_next(const struct index *, uint32_t key, size_t *slot);
/*
 * Empty the slot.  Later entries of its run may move back into it, so
 * a walk by slot looks at the same slot again.
 */
void	index_remove(struct index *, size_t slot);
size_t	index_bytes(const struct index *);

#endif
