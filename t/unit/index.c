/*
 * Unit tests for the chunk server's in-memory index, server/chunk/index.c:
 * linear probing with duplicate keys, growth, backward-shift deletion.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/chunk/index.h"
#include "tap.h"

#define N		100000
#define NDUP		6
#define NSAMEHOME	60
#define NWRAP		40
#define DUPKEY		0xdeadbeefcafef00dULL

struct ent {
	uint64_t	key;
	uint32_t	seg;	/* unique per entry, never 0 */
	uint32_t	off;
	int		live;
};

static uint64_t rng_state = 0x0123456789abcdefULL;

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
shuffle(struct ent **v, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t		 j = (size_t)(rnd() % i);
		struct ent	*t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * The slot holding (key, seg, off), or SIZE_MAX.  *visits counts what
 * index_next returned for key; *wrongkey is set if one had another key.
 */
static size_t
find(const struct index *ix, uint64_t key, uint32_t seg, uint32_t off,
    int *visits, int *wrongkey)
{
	size_t	slot = SIZE_MAX, found = SIZE_MAX;
	int	n = 0;

	while (index_next(ix, key, &slot)) {
		if (++n > 1000000)
			break;		/* a loop that never ends */
		if (slot >= ix->cap || ix->tab[slot].key != key ||
		    ix->tab[slot].seg == 0) {
			if (wrongkey)
				*wrongkey = 1;
			break;
		}
		if (ix->tab[slot].seg == seg && ix->tab[slot].off == off)
			found = slot;
	}
	if (visits)
		*visits = n;
	return found;
}

/*
 * Linear-probing invariant: every entry sits at its home slot or after
 * it with only occupied slots between.  Also the occupied count is n.
 */
static int
invariant(const struct index *ix)
{
	size_t	mask = ix->cap - 1, i, j, used = 0;

	for (i = 0; i < ix->cap; i++) {
		if (ix->tab[i].seg == 0)
			continue;
		used++;
		for (j = (size_t)ix->tab[i].key & mask; j != i;
		    j = (j + 1) & mask)
			if (ix->tab[j].seg == 0) {
				fprintf(stderr, "#   slot %zu (home %zu) is "
				    "cut off by empty slot %zu\n", i,
				    (size_t)ix->tab[i].key & mask, j);
				return 0;
			}
	}
	if (used != ix->n) {
		fprintf(stderr, "#   %zu slots used, n is %zu\n", used, ix->n);
		return 0;
	}
	return 1;
}

/* Live entries found, removed ones not. */
static int
check_all(const struct index *ix, const struct ent *e, size_t ne)
{
	size_t	i, live = 0, bad = 0;
	int	wrong = 0;

	for (i = 0; i < ne; i++) {
		size_t s = find(ix, e[i].key, e[i].seg, e[i].off, NULL, &wrong);

		if (e[i].live)
			live++;
		if ((s != SIZE_MAX) != (e[i].live != 0)) {
			if (bad++ < 5)
				fprintf(stderr, "#   entry %zu (key %016llx "
				    "seg %u) %s\n", i,
				    (unsigned long long)e[i].key, e[i].seg,
				    e[i].live ? "not found" : "still found");
		}
	}
	if (wrong)
		fprintf(stderr, "#   index_next returned a slot of another "
		    "key\n");
	if (live != ix->n)
		fprintf(stderr, "#   %zu live entries, n is %zu\n", live, ix->n);
	return bad == 0 && !wrong && live == ix->n;
}

static int
dup_visits(const struct index *ix)
{
	size_t	slot = SIZE_MAX;
	int	n = 0;

	while (index_next(ix, DUPKEY, &slot) && n < 1000)
		n++;
	return n;
}

static int
remove_ent(struct index *ix, struct ent *e)
{
	size_t s = find(ix, e->key, e->seg, e->off, NULL, NULL);

	if (s == SIZE_MAX)
		return 0;
	index_remove(ix, s);
	e->live = 0;
	return 1;
}

static void
test_init(void)
{
	struct index	ix;

	index_init(&ix, 0);
	ok(ix.cap == 1024 && ix.n == 0 && ix.tab != NULL, "index_init 0: 1024");
	ok(index_bytes(&ix) == 1024 * sizeof(struct idx_entry) &&
	    sizeof(struct idx_entry) == 16, "index_bytes 16 per slot");
	index_release(&ix);
	ok(ix.tab == NULL && ix.cap == 0 && ix.n == 0, "index_release clears");
	index_init(&ix, 1025);
	is_int((long long)ix.cap, 2048, "index_init 1025: 2048");
	index_release(&ix);
	index_init(&ix, 5000);
	is_int((long long)ix.cap, 8192, "index_init 5000: 8192");
	index_release(&ix);
}

/* Which seg sits in slot s (0: empty). */
static uint32_t
at(const struct index *ix, size_t s)
{
	return ix->tab[s].seg;
}

static void
test_wrap(void)
{
	struct index	ix;
	size_t		slot;
	int		found;

	/* A run across the end of the table, then deletions inside it. */
	index_init(&ix, 0);
	index_insert(&ix, 1022, 1, 0);			/* home 1022 */
	index_insert(&ix, 1022 + 1024, 2, 0);		/* home 1022 */
	index_insert(&ix, 1023 + 2048, 3, 0);		/* home 1023 */
	index_insert(&ix, 0 + 4096, 4, 0);		/* home 0 */
	index_insert(&ix, 1 + 1024, 5, 0);		/* home 1 */
	index_insert(&ix, 2, 6, 0);			/* home 2 */
	index_insert(&ix, 5, 7, 0);			/* home 5 */
	ok(at(&ix, 1022) == 1 && at(&ix, 1023) == 2 && at(&ix, 0) == 3 &&
	    at(&ix, 1) == 4 && at(&ix, 2) == 5 && at(&ix, 3) == 6 &&
	    at(&ix, 4) == 0 && at(&ix, 5) == 7 && ix.n == 7,
	    "linear probing wraps past the last slot");

	slot = SIZE_MAX;
	found = index_next(&ix, 1022, &slot);
	ok(found && slot == 1022, "index_next finds the key at its home");
	found = index_next(&ix, 1022, &slot);
	ok(!found, "index_next: no second entry of key 1022");
	slot = SIZE_MAX;
	found = index_next(&ix, 0 + 4096, &slot);
	ok(found && slot == 1, "index_next finds a key displaced past the end");
	slot = SIZE_MAX;
	ok(!index_next(&ix, 1023, &slot), "index_next: absent key of a full "
	    "run's home not found");

	index_remove(&ix, 1022);
	ok(at(&ix, 1022) == 2 && at(&ix, 1023) == 3 && at(&ix, 0) == 4 &&
	    at(&ix, 1) == 5 && at(&ix, 2) == 6 && at(&ix, 3) == 0 &&
	    at(&ix, 5) == 7 && ix.n == 6,
	    "remove at the run's start shifts it back across the end");
	ok(invariant(&ix), "invariant after the shift");

	/* now B@1022 C@1023 D@0 E@1 F@2: remove C, nothing may move */
	index_remove(&ix, 1023);
	ok(at(&ix, 1022) == 2 && at(&ix, 1023) == 0 && at(&ix, 0) == 4 &&
	    at(&ix, 1) == 5 && at(&ix, 2) == 6 && ix.n == 5,
	    "remove before entries at their homes moves none of them");
	ok(invariant(&ix), "invariant after that");
	index_release(&ix);

	/* three entries with home 1023: remove the first */
	index_init(&ix, 0);
	index_insert(&ix, 1023, 1, 0);
	index_insert(&ix, 1023 + 1024, 2, 0);
	index_insert(&ix, 1023 + 2048, 3, 0);
	index_insert(&ix, 1 + 1024, 4, 0);		/* home 1, slot 2 */
	ok(at(&ix, 1023) == 1 && at(&ix, 0) == 2 && at(&ix, 1) == 3 &&
	    at(&ix, 2) == 4, "three keys of home 1023 wrap to 0 and 1");
	index_remove(&ix, 1023);
	ok(at(&ix, 1023) == 2 && at(&ix, 0) == 3 && at(&ix, 1) == 4 &&
	    at(&ix, 2) == 0 && ix.n == 3,
	    "remove at 1023 pulls wrapped entries back across the end");
	ok(invariant(&ix), "invariant after that");
	index_remove(&ix, 0);
	ok(at(&ix, 1023) == 2 && at(&ix, 0) == 0 && at(&ix, 1) == 4 &&
	    ix.n == 2, "remove at 0: the home-1 entry stays in its home");
	ok(find(&ix, 1023 + 1024, 2, 0, NULL, NULL) == 1023 &&
	    find(&ix, 1 + 1024, 4, 0, NULL, NULL) == 1 &&
	    find(&ix, 1023 + 2048, 3, 0, NULL, NULL) == SIZE_MAX,
	    "lookups after the removals");
	index_release(&ix);
}

static void
test_dups(void)
{
	struct index	ix;
	size_t		slot;
	int		i, n, seen[NDUP] = { 0 }, allseen = 1;

	index_init(&ix, 0);
	for (i = 0; i < NDUP; i++)
		index_insert(&ix, DUPKEY, (uint32_t)i + 1, (uint32_t)i * 100);
	slot = SIZE_MAX;
	n = 0;
	while (index_next(&ix, DUPKEY, &slot) && n < 100) {
		if (ix.tab[slot].seg >= 1 && ix.tab[slot].seg <= NDUP &&
		    ix.tab[slot].off == (ix.tab[slot].seg - 1) * 100)
			seen[ix.tab[slot].seg - 1]++;
		n++;
	}
	for (i = 0; i < NDUP; i++)
		if (seen[i] != 1)
			allseen = 0;
	ok(n == NDUP && allseen, "index_next visits each duplicate once");

	/* remove them one by one, restarting the walk each time */
	for (i = 0; i < NDUP; i++) {
		slot = SIZE_MAX;
		if (!index_next(&ix, DUPKEY, &slot))
			break;
		index_remove(&ix, slot);
		if (dup_visits(&ix) != NDUP - 1 - i)
			break;
	}
	ok(i == NDUP && ix.n == 0, "remove duplicates one by one: %d done", i);
	index_release(&ix);
}

static void
test_big(void)
{
	struct index	 ix;
	size_t		 ne = N + NDUP + NSAMEHOME + NWRAP, i, k, grows = 0;
	size_t		 lastcap, nremove;
	struct ent	*e = calloc(ne, sizeof(*e));
	struct ent	**order = calloc(ne, sizeof(*order));
	int		 loadok = 1, nok = 1, removed_ok = 1, checkpoints = 1;
	int		 visits, dupok;

	for (i = 0; i < N; i++)
		e[i].key = rnd();
	for (k = 0; k < NDUP; k++, i++)
		e[i].key = DUPKEY;
	for (k = 0; k < NSAMEHOME; k++, i++)	/* same low 20 bits */
		e[i].key = rnd() << 20 | 0x12345;
	for (k = 0; k < NWRAP; k++, i++)	/* home is the last slot */
		e[i].key = rnd() << 20 | 0xfffff;
	for (i = 0; i < ne; i++) {
		e[i].seg = (uint32_t)i + 1;
		e[i].off = (uint32_t)rnd();
		e[i].live = 1;
		order[i] = &e[i];
	}
	shuffle(order, ne);

	index_init(&ix, 0);
	lastcap = ix.cap;
	for (i = 0; i < ne; i++) {
		index_insert(&ix, order[i]->key, order[i]->seg, order[i]->off);
		if (ix.n != i + 1)
			nok = 0;
		if (ix.cap != lastcap) {
			grows++;
			lastcap = ix.cap;
		}
		if ((ix.cap & (ix.cap - 1)) != 0 || ix.n * 10 > ix.cap * 7)
			loadok = 0;
	}
	ok(nok, "n counts every insert, %zu entries", ne);
	ok(loadok, "cap stays a power of two, load <= 0.7 (cap %zu after "
	    "%zu grows)", ix.cap, grows);
	ok(grows >= 7, "the table grew from 1024 (%zu times)", grows);
	ok(ix.cap <= (1 << 20), "cap <= 2^20 (the same-home keys share a "
	    "home)");
	ok(check_all(&ix, e, ne), "every entry found after growth");
	ok(invariant(&ix), "probing invariant after growth");
	ok(dup_visits(&ix) == NDUP, "all %d duplicates of one key visited",
	    NDUP);
	ok(find(&ix, ~DUPKEY, 1, 1, &visits, NULL) == SIZE_MAX && visits == 0,
	    "an absent key is not found");

	/* remove half in random order */
	shuffle(order, ne);
	nremove = ne / 2;
	for (i = 0; i < nremove; i++) {
		size_t before = ix.n;

		if (!remove_ent(&ix, order[i]))
			removed_ok = 0;
		if (ix.n != before - 1)
			nok = 0;
		if (i % 10000 == 9999 && (!check_all(&ix, e, ne) ||
		    !invariant(&ix)))
			checkpoints = 0;
	}
	ok(removed_ok, "each entry to remove was found before removing it");
	ok(nok, "n counts every removal");
	ok(checkpoints, "all found / removed not found every 10000 removals");
	ok(check_all(&ix, e, ne), "after removing half: the rest found, "
	    "removed not");
	ok(invariant(&ix), "probing invariant after removing half");
	is_int((long long)ix.n, (long long)(ne - nremove), "n after removals");
	dupok = 0;
	for (i = N; i < N + NDUP; i++)
		dupok += e[i].live;
	is_int(dup_visits(&ix), dupok, "surviving duplicates all visited");

	/* reinsert what was removed, then remove everything */
	for (i = 0; i < nremove; i++) {
		index_insert(&ix, order[i]->key, order[i]->seg, order[i]->off);
		order[i]->live = 1;
	}
	ok(check_all(&ix, e, ne) && invariant(&ix),
	    "reinserted entries found with the rest");
	shuffle(order, ne);
	removed_ok = 1;
	for (i = 0; i < ne; i++)
		if (!remove_ent(&ix, order[i]))
			removed_ok = 0;
	ok(removed_ok && ix.n == 0, "remove everything: n is 0");
	for (i = 0, k = 0; i < ix.cap; i++)
		if (ix.tab[i].seg != 0)
			k++;
	ok(k == 0 && check_all(&ix, e, ne), "table empty, nothing found");
	index_release(&ix);
	free(order);
	free(e);
}

int
main(void)
{
	plan(39);
	test_init();
	test_wrap();
	test_dups();
	test_big();
	return done_testing();
}
