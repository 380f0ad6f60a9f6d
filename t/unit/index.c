/*
 * Unit tests for the chunk server's in-memory index, server/chunk/index.c:
 * homes by key * cap / 2^32 for any cap, linear probing with duplicate
 * keys and wrap-around at the end of the table, growth by 1.5 at load
 * 0.8 and the bytes it costs per entry, backward-shift deletion, and
 * random operations checked against a plain list of what should be in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/chunk/index.h"
#include "rnd.h"
#include "tap.h"

#define N		1000000
#define NDUP		6
#define NSAMEHOME	60
#define NWRAP		40
#define DUPKEY		0xdeadbeefU
#define MODEL_OPS	200000

struct ent {
	uint32_t	key;
	uint32_t	seg;	/* unique per entry, never 0: index + 1 */
	uint32_t	off;
	int		live;
};

static uint64_t rng_state = 0x0123456789abcdefULL;

static uint64_t
rnd(void)
{
	return splitmix64(&rng_state);
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

/* A key whose home in a table of cap slots is h; salt picks which. */
static uint32_t
key_for(size_t cap, size_t h, uint64_t salt)
{
	uint64_t lo = (((uint64_t)h << 32) + cap - 1) / cap;
	uint64_t hi = (((uint64_t)(h + 1) << 32) + cap - 1) / cap;

	return (uint32_t)(lo + salt % (hi - lo));
}

/*
 * The slot holding (key, seg, off), or SIZE_MAX.  *visits counts what
 * index_next returned for key; *wrongkey is set if one had another key.
 */
static size_t
find(const struct index *ix, uint32_t key, uint32_t seg, uint32_t off,
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
 * it (cyclically) with only occupied slots between.  Also the occupied
 * count is n, and the load is at most 0.8.
 */
static int
invariant(const struct index *ix)
{
	size_t	i, j, used = 0;

	for (i = 0; i < ix->cap; i++) {
		if (ix->tab[i].seg == 0)
			continue;
		used++;
		for (j = index_home(ix, ix->tab[i].key); j != i;
		    j = j + 1 == ix->cap ? 0 : j + 1)
			if (ix->tab[j].seg == 0) {
				fprintf(stderr, "#   slot %zu (home %zu) is "
				    "cut off by empty slot %zu\n", i,
				    index_home(ix, ix->tab[i].key), j);
				return 0;
			}
	}
	if (used != ix->n) {
		fprintf(stderr, "#   %zu slots used, n is %zu\n", used, ix->n);
		return 0;
	}
	if (ix->n * 5 > ix->cap * 4) {
		fprintf(stderr, "#   load %zu / %zu over 0.8\n", ix->n,
		    ix->cap);
		return 0;
	}
	return 1;
}

/*
 * The table holds exactly the live entries of e: each occupied slot is
 * a live entry, with its key and offset, seen once; each live entry is
 * found by index_next.  Removed ones then cannot be found.
 */
static int
check_all(const struct index *ix, const struct ent *e, size_t ne)
{
	uint8_t	*seen = calloc(ne, 1);
	size_t	 i, live = 0, bad = 0;
	int	 wrong = 0;

	for (i = 0; i < ix->cap; i++) {
		const struct idx_entry	*t = &ix->tab[i];
		size_t			 k = (size_t)t->seg - 1;

		if (t->seg == 0)
			continue;
		if (k >= ne || !e[k].live || e[k].key != t->key ||
		    e[k].off != t->off || seen[k]++) {
			if (bad++ < 5)
				fprintf(stderr, "#   slot %zu holds seg %u key "
				    "%08x: not a live entry, or twice\n", i,
				    t->seg, t->key);
		}
	}
	for (i = 0; i < ne; i++) {
		if (!e[i].live)
			continue;
		live++;
		if (find(ix, e[i].key, e[i].seg, e[i].off, NULL, &wrong) ==
		    SIZE_MAX && bad++ < 5)
			fprintf(stderr, "#   entry %zu (key %08x seg %u) not "
			    "found\n", i, e[i].key, e[i].seg);
	}
	free(seen);
	if (wrong)
		fprintf(stderr, "#   index_next returned a slot of another "
		    "key\n");
	if (live != ix->n)
		fprintf(stderr, "#   %zu live entries, n is %zu\n", live,
		    ix->n);
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
	ok(sizeof(struct idx_entry) == 12 &&
	    index_bytes(&ix) == 1024 * sizeof(struct idx_entry),
	    "index_bytes 12 per slot");
	index_release(&ix);
	ok(ix.tab == NULL && ix.cap == 0 && ix.n == 0, "index_release clears");
	index_init(&ix, 1531);
	is_int((long long)ix.cap, 1531, "index_init 1531: 1531, not a power "
	    "of two");
	index_release(&ix);
	index_init(&ix, 5000);
	is_int((long long)ix.cap, 5000, "index_init 5000: 5000");
	index_release(&ix);
}

static void
test_home(void)
{
	static const size_t	caps[] = { 1024, 1531, 88573, 1000003 };
	struct index		ix;
	size_t			c, i, h, prev, cnt[1000];
	int			ends = 1, mono = 1, keyfor = 1, even = 1;

	memset(&ix, 0, sizeof(ix));	/* index_home reads cap only */
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		ix.cap = caps[c];
		if (index_home(&ix, 0) != 0 ||
		    index_home(&ix, UINT32_MAX) != ix.cap - 1)
			ends = 0;
		prev = 0;
		for (i = 0; i < 100000; i++) {
			/* increasing keys over the whole range */
			uint32_t k = (uint32_t)(i * 42949u + rnd() % 42949u);

			if ((h = index_home(&ix, k)) < prev || h >= ix.cap)
				mono = 0;
			prev = h;
		}
		for (i = 0; i < 1000; i++) {
			h = i < 2 ? i * (ix.cap - 1) : (size_t)(rnd() % ix.cap);
			if (index_home(&ix, key_for(ix.cap, h, 0)) != h ||
			    index_home(&ix, key_for(ix.cap, h, rnd())) != h ||
			    (h > 0 && index_home(&ix,
			    key_for(ix.cap, h, 0) - 1) != h - 1))
				keyfor = 0;
		}
	}
	ok(ends, "home of key 0 is slot 0, of key 2^32-1 the last slot");
	ok(mono, "homes never decrease as keys increase");
	ok(keyfor, "key_for(h) has home h, the key below it home h - 1");

	/* Evenly spaced keys fill 1000 slots evenly: no slot is favoured. */
	ix.cap = 1000;
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < 1000000; i++)
		cnt[index_home(&ix, (uint32_t)(i * 4294ULL + i * 967296ULL /
		    1000000ULL))]++;
	for (i = 0; i < 1000; i++)
		if (cnt[i] < 999 || cnt[i] > 1001)
			even = 0;
	ok(even, "a million evenly spaced keys: 1000 +- 1 in each of 1000 "
	    "slots");
}

/* Which seg sits in slot s (0: empty). */
static uint32_t
at(const struct index *ix, size_t s)
{
	return ix->tab[s].seg;
}

static void
test_wrap(size_t cap)
{
	struct index	ix;
	size_t		slot, L = cap - 1;
	uint32_t	k[8];
	int		found;

	/* A run across the end of the table, then deletions inside it. */
	index_init(&ix, cap);
	k[1] = key_for(cap, L - 1, 1);
	k[2] = key_for(cap, L - 1, 2);
	k[3] = key_for(cap, L, 3);
	k[4] = key_for(cap, 0, 4);
	k[5] = key_for(cap, 1, 5);
	k[6] = key_for(cap, 2, 6);
	k[7] = key_for(cap, 5, 7);
	for (slot = 1; slot <= 7; slot++)
		index_insert(&ix, k[slot], (uint32_t)slot, 0);
	ok(ix.cap == cap && at(&ix, L - 1) == 1 && at(&ix, L) == 2 &&
	    at(&ix, 0) == 3 && at(&ix, 1) == 4 && at(&ix, 2) == 5 &&
	    at(&ix, 3) == 6 && at(&ix, 4) == 0 && at(&ix, 5) == 7 && ix.n == 7,
	    "cap %zu: linear probing wraps past the last slot", cap);

	slot = SIZE_MAX;
	found = index_next(&ix, k[1], &slot);
	ok(found && slot == L - 1, "cap %zu: index_next finds the key at its "
	    "home", cap);
	found = index_next(&ix, k[1], &slot);
	ok(!found, "cap %zu: index_next: no second entry of that key", cap);
	slot = SIZE_MAX;
	found = index_next(&ix, k[4], &slot);
	ok(found && slot == 1, "cap %zu: index_next finds a key displaced "
	    "past the end", cap);
	slot = SIZE_MAX;
	ok(!index_next(&ix, key_for(cap, L, 99), &slot), "cap %zu: an absent "
	    "key whose home is the last slot: the run wraps, not found", cap);

	index_remove(&ix, L - 1);
	ok(at(&ix, L - 1) == 2 && at(&ix, L) == 3 && at(&ix, 0) == 4 &&
	    at(&ix, 1) == 5 && at(&ix, 2) == 6 && at(&ix, 3) == 0 &&
	    at(&ix, 5) == 7 && ix.n == 6,
	    "cap %zu: remove at the run's start shifts it back across the end",
	    cap);
	ok(invariant(&ix), "cap %zu: invariant after the shift", cap);

	/* now 2@L-1 3@L 4@0 5@1 6@2: remove 3, nothing may move */
	index_remove(&ix, L);
	ok(at(&ix, L - 1) == 2 && at(&ix, L) == 0 && at(&ix, 0) == 4 &&
	    at(&ix, 1) == 5 && at(&ix, 2) == 6 && ix.n == 5,
	    "cap %zu: remove before entries at their homes moves none of them",
	    cap);
	ok(invariant(&ix), "cap %zu: invariant after that", cap);
	index_release(&ix);

	/* three entries with home L: remove the first */
	index_init(&ix, cap);
	k[1] = key_for(cap, L, 1);
	k[2] = key_for(cap, L, 2);
	k[3] = key_for(cap, L, 3);
	k[4] = key_for(cap, 1, 4);			/* home 1, slot 2 */
	for (slot = 1; slot <= 4; slot++)
		index_insert(&ix, k[slot], (uint32_t)slot, 0);
	ok(at(&ix, L) == 1 && at(&ix, 0) == 2 && at(&ix, 1) == 3 &&
	    at(&ix, 2) == 4, "cap %zu: three keys of the last home wrap to 0 "
	    "and 1", cap);
	index_remove(&ix, L);
	ok(at(&ix, L) == 2 && at(&ix, 0) == 3 && at(&ix, 1) == 4 &&
	    at(&ix, 2) == 0 && ix.n == 3,
	    "cap %zu: remove at the last slot pulls wrapped entries back "
	    "across the end", cap);
	ok(invariant(&ix), "cap %zu: invariant after that", cap);
	index_remove(&ix, 0);
	ok(at(&ix, L) == 2 && at(&ix, 0) == 0 && at(&ix, 1) == 4 &&
	    ix.n == 2, "cap %zu: remove at 0: the home-1 entry stays in its "
	    "home", cap);
	ok(find(&ix, k[2], 2, 0, NULL, NULL) == L &&
	    find(&ix, k[4], 4, 0, NULL, NULL) == 1 &&
	    find(&ix, k[3], 3, 0, NULL, NULL) == SIZE_MAX,
	    "cap %zu: lookups after the removals", cap);
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

/*
 * Random inserts and removals against a list of what should be in.
 * Keys: 2% are a few fixed ones (exact duplicates), 5% are in the top
 * 2^-10 of the key space (homes in the last slots: a run of hundreds
 * that wraps), the rest uniform.  The table grows from 1024 slots on
 * the way up.
 */
static void
test_model(void)
{
	static const uint32_t	fixed[4] = { 7, 0x80000000U, 0xfffffff0U,
				    DUPKEY };
	struct index		 ix;
	struct ent		*e = calloc(MODEL_OPS, sizeof(*e));
	size_t			*live = calloc(MODEL_OPS, sizeof(*live));
	size_t			 ne = 0, nlive = 0, op, checks = 0, grows = 0;
	size_t			 lastcap, maxn = 0;
	int			 each = 1, full = 1;

	index_init(&ix, 0);
	lastcap = ix.cap;
	for (op = 0; op < MODEL_OPS; op++) {
		/* up to 15000 entries in the first half, then down */
		unsigned	pins = op < MODEL_OPS / 2 ? 60 : 38;
		uint64_t	r = rnd();

		if (nlive == 0 || r % 100 < pins) {
			struct ent *x = &e[ne];

			switch ((r >> 8) % 100) {
			case 0: case 1:
				x->key = fixed[(r >> 16) % 4];
				break;
			case 2: case 3: case 4: case 5: case 6:
				x->key = 0xffc00000U |
				    (uint32_t)(r >> 32 & 0x3fffff);
				break;
			default:
				x->key = (uint32_t)(r >> 32);
			}
			x->seg = (uint32_t)ne + 1;
			x->off = (uint32_t)rnd();
			x->live = 1;
			index_insert(&ix, x->key, x->seg, x->off);
			if (find(&ix, x->key, x->seg, x->off, NULL, NULL) ==
			    SIZE_MAX)
				each = 0;
			live[nlive++] = ne++;
		} else {
			size_t		 k = (size_t)((r >> 8) % nlive);
			struct ent	*x = &e[live[k]];

			if (!remove_ent(&ix, x) ||
			    find(&ix, x->key, x->seg, x->off, NULL, NULL) !=
			    SIZE_MAX)
				each = 0;
			live[k] = live[--nlive];
		}
		if (ix.n != nlive)
			each = 0;
		if (ix.cap != lastcap) {
			grows++;
			lastcap = ix.cap;
		}
		if (ix.n > maxn)
			maxn = ix.n;
		if (op % 997 == 0 || op == MODEL_OPS - 1) {
			checks++;
			if (full && (!check_all(&ix, e, ne) ||
			    !invariant(&ix))) {
				fprintf(stderr, "#   after op %zu\n", op);
				full = 0;
			}
		}
	}
	ok(each, "%d random operations: each insert found, each removal gone, "
	    "n right", MODEL_OPS);
	ok(full, "table matches the model at %zu checkpoints (up to %zu "
	    "entries, %zu grows to cap %zu)", checks, maxn, grows, ix.cap);
	ok(grows >= 5 && maxn > 10000, "the model run grew the table");
	index_release(&ix);
	free(live);
	free(e);
}

static void
test_big(void)
{
	struct index	 ix;
	size_t		 ne = N + NDUP + NSAMEHOME + NWRAP, i, k, grows = 0;
	size_t		 lastcap, nremove, bytes, worst_n = 0, worst_b = 0;
	struct ent	*e = calloc(ne, sizeof(*e));
	struct ent	**order = calloc(ne, sizeof(*order));
	int		 loadok = 1, nok = 1, removed_ok = 1, checkpoints = 1;
	int		 bound24 = 1, bound22 = 1, visits, dupok;

	for (i = 0; i < N; i++)
		e[i].key = (uint32_t)rnd();
	for (k = 0; k < NDUP; k++, i++)
		e[i].key = DUPKEY;
	for (k = 0; k < NSAMEHOME; k++, i++)	/* one home, give or take 1 */
		e[i].key = 0x12345000U | (uint32_t)(rnd() & 0xfff);
	for (k = 0; k < NWRAP; k++, i++)	/* home is the last slot */
		e[i].key = 0xfffff000U | (uint32_t)(rnd() & 0xfff);
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
		if (ix.n * 5 > ix.cap * 4)
			loadok = 0;
		if (ix.cap == lastcap)
			continue;
		/* just grown: the most bytes per entry until the next */
		grows++;
		if (ix.cap != lastcap + lastcap / 2)
			loadok = 0;
		lastcap = ix.cap;
		bytes = index_bytes(&ix);
		if (ix.n >= 10000 && bytes > 24 * ix.n)
			bound24 = 0;
		if (2 * bytes > 45 * ix.n)
			bound22 = 0;
		if (ix.n >= 10000 && bytes * worst_n >= worst_b * ix.n) {
			worst_b = bytes;
			worst_n = ix.n;
		}
	}
	ok(nok, "n counts every insert, %zu entries", ne);
	ok(loadok, "grows by 1.5, load <= 0.8 (cap %zu after %zu grows)",
	    ix.cap, grows);
	ok(grows >= 15, "the table grew from 1024 (%zu times)", grows);
	ok(bound24 && worst_n > 0, "index_bytes / n <= 24 at every growth "
	    "past 10000 entries (worst %.2f, at n %zu)",
	    worst_n ? (double)worst_b / (double)worst_n : 0.0, worst_n);
	ok(bound22, "index_bytes / n <= 22.5 at every growth");
	ok(index_bytes(&ix) <= 24 * ix.n, "after %zu entries: %.2f bytes each",
	    ix.n, (double)index_bytes(&ix) / (double)ix.n);
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
		if (i % 100000 == 99999 && (!check_all(&ix, e, ne) ||
		    !invariant(&ix)))
			checkpoints = 0;
	}
	ok(removed_ok, "each entry to remove was found before removing it");
	ok(nok, "n counts every removal");
	ok(checkpoints, "table right every 100000 removals");
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
	plan(5 + 4 + 2 * 14 + 2 + 3 + 20);
	test_init();
	test_home();
	test_wrap(1024);
	test_wrap(1531);
	test_dups();
	test_model();
	test_big();
	return done_testing();
}
