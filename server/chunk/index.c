/*
 * Open addressing, linear probing with wrap-around, backward-shift
 * deletion.  The keys are 32 bits of a SHA-256, uniform already, so a
 * key's home slot is key * cap / 2^32 (a multiply and a shift, for any
 * cap: the table need not be a power of two, and grows by 1.5).  That
 * map keeps the keys' order, so a run of slots holds keys in order but
 * for the ones wrapped around from the end.
 */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "xmalloc.h"

#define INDEX_MIN	1024
#define INDEX_MAX	((size_t)UINT32_MAX)	/* key * cap fits 64 bits */

void
index_init(struct index *ix, size_t cap)
{
	if (cap < INDEX_MIN)
		cap = INDEX_MIN;
	ix->tab = xcalloc(cap, sizeof(*ix->tab));
	ix->cap = cap;
	ix->n = 0;
}

void
index_release(struct index *ix)
{
	free(ix->tab);
	memset(ix, 0, sizeof(*ix));
}

static void
index_put(struct index *ix, uint32_t key, uint32_t seg, uint32_t off)
{
	size_t i = index_home(ix, key);

	while (ix->tab[i].seg != 0)
		if (++i == ix->cap)
			i = 0;
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

	if (ix->cap > INDEX_MAX - ix->cap / 2)
		abort();	/* 4 billion slots: 48 GB of index */
	ix->cap += ix->cap / 2;
	ix->tab = xcalloc(ix->cap, sizeof(*ix->tab));
	ix->n = 0;
	/* In slot order the keys come nearly sorted: a sequential fill. */
	for (i = 0; i < oldcap; i++)
		if (old[i].seg != 0)
			index_put(ix, old[i].key, old[i].seg, old[i].off);
	free(old);
}

void
index_insert(struct index *ix, uint32_t key, uint32_t seg, uint32_t off)
{
	if ((ix->n + 1) * 5 > ix->cap * 4)	/* load factor 0.8 */
		index_grow(ix);
	index_put(ix, key, seg, off);
}

int
index_next(const struct index *ix, uint32_t key, size_t *slot)
{
	size_t i;

	if (*slot == SIZE_MAX)
		i = index_home(ix, key);
	else if ((i = *slot + 1) == ix->cap)
		i = 0;
	while (ix->tab[i].seg != 0) {
		if (ix->tab[i].key == key) {
			*slot = i;
			return 1;
		}
		if (++i == ix->cap)
			i = 0;
	}
	return 0;
}

void
index_remove(struct index *ix, size_t slot)
{
	size_t i = slot, j = slot, home;

	/* Backward shift: pull later entries of the run into the hole. */
	for (;;) {
		if (++j == ix->cap)
			j = 0;
		if (ix->tab[j].seg == 0)
			break;
		home = index_home(ix, ix->tab[j].key);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (i < j ? (home <= i || home > j) :
		    (home <= i && home > j)) {
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
