/*
 * The chunk server's in-memory index: open addressing with linear
 * probing, keyed by the first 8 bytes of the hash.  An entry is 16
 * bytes; the full hash is checked in the on-disk record, so two chunks
 * whose prefixes collide both live in the table.
 */
#ifndef GFS_INDEX_H
#define GFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct idx_entry {
	uint64_t	key;
	uint32_t	seg;	/* 0: empty slot */
	uint32_t	off;
};

struct index {
	struct idx_entry	*tab;
	size_t			 cap;	/* a power of two */
	size_t			 n;
};

void	index_init(struct index *, size_t cap);
void	index_release(struct index *);
void	index_insert(struct index *, uint64_t key, uint32_t seg, uint32_t off);
/*
 * Visit the entries with this key, from *slot on (start with
 * *slot = SIZE_MAX).  Returns 1 and sets *slot to the next one, or 0
 * when there are no more.
 */
int	index_next(const struct index *, uint64_t key, size_t *slot);
void	index_remove(struct index *, size_t slot);
size_t	index_bytes(const struct index *);

#endif
