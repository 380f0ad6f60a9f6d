/*
 * Open addressing, linear probing, backward-shift deletion.  The keys
 * are SHA-256 prefixes, uniform already, so they index the table as
 * they are.
 */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "xmalloc.h"

void
index_init(struct index *ix, size_t cap)
{
	size_t c = 1024;

	while (c < cap)
		c <<= 1;
	ix->tab = xcalloc(c, sizeof(*ix->tab));
	ix->cap = c;
	ix->n = 0;
}

void
index_release(struct index *ix)
{
	free(ix->tab);
	memset(ix, 0, sizeof(*ix));
}

static void
index_put(struct index *ix, uint64_t key, uint32_t seg, uint32_t off)
{
	size_t i = (size_t)key & (ix->cap - 1);

	while (ix->tab[i].seg != 0)
		i = (i + 1) & (ix->cap - 1);
	ix->tab[i].key = key;
	ix->tab[i].seg = seg;
	ix->tab[i].off = off;
	ix->n++;
}

static void
index_grow(struct index *ix)
{
	struct idx_entry	*old = ix->tab;
	size_t			 i, oldcap = ix->cap;

	ix->cap *= 2;
	ix->tab = xcalloc(ix->cap, sizeof(*ix->tab));
	ix->n = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].seg != 0)
			index_put(ix, old[i].key, old[i].seg, old[i].off);
	free(old);
}

void
index_insert(struct index *ix, uint64_t key, uint32_t seg, uint32_t off)
{
	if ((ix->n + 1) * 10 > ix->cap * 7)	/* load factor 0.7 */
		index_grow(ix);
	index_put(ix, key, seg, off);
}

int
index_next(const struct index *ix, uint64_t key, size_t *slot)
{
	size_t mask = ix->cap - 1;
	size_t i = *slot == SIZE_MAX ? ((size_t)key & mask) : ((*slot + 1) & mask);

	for (; ix->tab[i].seg != 0; i = (i + 1) & mask)
		if (ix->tab[i].key == key) {
			*slot = i;
			return 1;
		}
	return 0;
}

void
index_remove(struct index *ix, size_t slot)
{
	size_t mask = ix->cap - 1, i = slot, j = slot;

	/* Backward shift: pull later entries of the run into the hole. */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (ix->tab[j].seg == 0)
			break;
		home = (size_t)ix->tab[j].key & mask;
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			ix->tab[i] = ix->tab[j];
			i = j;
		}
	}
	ix->tab[i].seg = 0;
	ix->tab[i].key = 0;
	ix->n--;
}

size_t
index_bytes(const struct index *ix)
{
	return ix->cap * sizeof(*ix->tab);
}
