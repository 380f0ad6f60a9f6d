/*
 * Unit tests for the consistent-hash ring, lib/ring.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "rnd.h"
#include "tap.h"

/* fabs() without -lm, which the unit-test link rule does not add. */
static double
dabs(double x)
{
	return x < 0 ? -x : x;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	return splitmix64(&rng_state);
}

static struct ring *
make_ring(int nservers, uint32_t ntokens)
{
	struct ring	*r = ring_new(1, 3);
	char		 id[32], addr[32];
	int		 i;

	for (i = 0; i < nservers; i++) {
		snprintf(id, sizeof(id), "chunk%d", i + 1);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 7000 + i);
		if (ring_add(r, id, addr, ntokens) != i)
			fprintf(stderr, "# ring_add did not return %d\n", i);
	}
	ring_build(r);
	return r;
}

/* The specification, by linear scan: owner first, then distinct, clockwise. */
static int
ref_lookup(const struct ring *r, uint64_t pos, int *out, int max)
{
	size_t	first = 0, k;
	int	n = 0, j;

	if (r->ntokens == 0)
		return 0;
	for (k = 0; k < r->ntokens; k++)
		if (r->tokens[k].pos >= pos)
			break;
	first = k == r->ntokens ? 0 : k;
	for (k = 0; k < r->ntokens && n < max; k++) {
		int s = (int)r->tokens[(first + k) % r->ntokens].server;

		for (j = 0; j < n; j++)
			if (out[j] == s)
				break;
		if (j == n)
			out[n++] = s;
	}
	return n;
}

/* Compare ring_lookup with ref_lookup; returns 1 if they agree. */
static int
same_lookup(const struct ring *r, uint64_t pos, int max)
{
	int	a[GFS_MAX_SERVERS + 8], b[GFS_MAX_SERVERS + 8], na, nb, i;

	for (i = 0; i < GFS_MAX_SERVERS + 8; i++)
		a[i] = b[i] = -7;
	na = ring_lookup(r, pos, a, max);
	nb = ref_lookup(r, pos, b, max);
	if (na != nb || memcmp(a, b, sizeof(a)) != 0) {
		fprintf(stderr, "#   pos %016llx max %d: got %d [", (unsigned
		    long long)pos, max, na);
		for (i = 0; i < na && i < GFS_MAX_SERVERS; i++)
			fprintf(stderr, " %d", a[i]);
		fprintf(stderr, " ], expected %d [", nb);
		for (i = 0; i < nb && i < GFS_MAX_SERVERS; i++)
			fprintf(stderr, " %d", b[i]);
		fprintf(stderr, " ]\n");
		return 0;
	}
	return 1;
}

static void
test_token(void)
{
	int	i, distinct = 1;

	/* first 8 bytes of SHA-256("chunk1#0") etc., from sha256sum(1) */
	ok(ring_token("chunk1", 0) == 0x686faca8e879efbfULL,
	    "ring_token chunk1#0 is SHA-256 prefix");
	ok(ring_token("chunk1", 1) == 0xb8d4a5fdfe6fda19ULL,
	    "ring_token chunk1#1 is SHA-256 prefix");
	ok(ring_token("a", 127) == 0xc1b885e342284c7cULL,
	    "ring_token a#127 is SHA-256 prefix");
	ok(ring_token("chunk7", 42) == ring_token("chunk7", 42),
	    "ring_token deterministic");
	for (i = 1; i < 128; i++)
		if (ring_token("chunk7", (uint32_t)i) ==
		    ring_token("chunk7", (uint32_t)i - 1))
			distinct = 0;
	ok(distinct, "ring_token differs between consecutive i");
	ok(ring_token("chunk1", 0) != ring_token("chunk2", 0),
	    "ring_token differs between ids");
}

static void
test_build(void)
{
	struct ring	*r = make_ring(5, 128), *r2 = make_ring(5, 128);
	size_t		 k;
	int		 sorted = 1, counts[5] = { 0 }, i, cnt_ok = 1;

	is_int((long long)r->ntokens, 5 * 128, "ring_build: 5 x 128 tokens");
	for (k = 1; k < r->ntokens; k++)
		if (r->tokens[k - 1].pos > r->tokens[k].pos)
			sorted = 0;
	ok(sorted, "ring_build: tokens sorted");
	for (k = 0; k < r->ntokens; k++)
		if (r->tokens[k].server < 5)
			counts[r->tokens[k].server]++;
	for (i = 0; i < 5; i++)
		if (counts[i] != 128)
			cnt_ok = 0;
	ok(cnt_ok, "ring_build: 128 tokens for each server");
	ok(ring_same_tokens(r, r2), "ring_build: same servers give the same ring");
	ring_build(r);
	ok(ring_same_tokens(r, r2), "ring_build twice: same ring");
	is_str(r->servers[2].id, "chunk3", "ring_add keeps the id");
	is_str(r->servers[2].addr, "127.0.0.1:7002", "ring_add keeps the addr");
	ring_free(r);
	ring_free(r2);
}

static void
test_lookup(void)
{
	struct ring	*r = make_ring(5, 128);
	size_t		 k, last = r->ntokens - 1;
	int		 out[16], n, i, j, good;
	uint64_t	 pos;

	/* owner first, order and distinctness against the linear scan */
	good = 1;
	for (i = 0; i < 20000; i++) {
		pos = rnd();
		if (!same_lookup(r, pos, 3) || !same_lookup(r, pos, 5) ||
		    !same_lookup(r, pos, 1))
			good = 0;
	}
	ok(good, "ring_lookup agrees with a linear scan, 20000 positions");

	good = 1;
	for (k = 0; k < r->ntokens; k++) {
		pos = r->tokens[k].pos;
		if (!same_lookup(r, pos, 3) || !same_lookup(r, pos - 1, 3) ||
		    !same_lookup(r, pos + 1, 3))
			good = 0;
	}
	ok(good, "ring_lookup agrees at, before and after every token");

	/* the owner is the server of the first token at or after pos */
	good = 1;
	for (k = 1; k < r->ntokens; k++) {
		if (r->tokens[k].pos == r->tokens[k - 1].pos)
			continue;
		n = ring_lookup(r, r->tokens[k].pos, out, 1);
		if (n != 1 || out[0] != (int)r->tokens[k].server)
			good = 0;
		n = ring_lookup(r, r->tokens[k - 1].pos + 1, out, 1);
		if (n != 1 || out[0] != (int)r->tokens[k].server)
			good = 0;
	}
	ok(good, "ring_lookup: owner is the token at or after pos");

	/* wrap-around */
	ok(r->tokens[last].pos < UINT64_MAX && r->tokens[0].pos > 0,
	    "no token at 0 or 2^64-1 (the wrap tests below mean something)");
	n = ring_lookup(r, r->tokens[last].pos + 1, out, 1);
	ok(n == 1 && out[0] == (int)r->tokens[0].server,
	    "ring_lookup past the last token wraps to the first");
	n = ring_lookup(r, UINT64_MAX, out, 1);
	ok(n == 1 && out[0] == (int)r->tokens[0].server,
	    "ring_lookup at 2^64-1 wraps to the first token");
	n = ring_lookup(r, 0, out, 1);
	ok(n == 1 && out[0] == (int)r->tokens[0].server,
	    "ring_lookup at 0 is the first token");
	ok(same_lookup(r, UINT64_MAX, 5) && same_lookup(r, 0, 5) &&
	    same_lookup(r, r->tokens[last].pos, 5),
	    "ring_lookup replicas across the wrap");

	/* never more than nservers, all distinct */
	good = 1;
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < 16; j++)
			out[j] = -7;
		n = ring_lookup(r, rnd(), out, 16);
		if (n != 5 || out[5] != -7)
			good = 0;
		for (j = 0; j < n && good; j++) {
			int m;

			for (m = j + 1; m < n; m++)
				if (out[j] == out[m])
					good = 0;
			if (out[j] < 0 || out[j] >= 5)
				good = 0;
		}
	}
	ok(good, "ring_lookup max 16 with 5 servers: 5 distinct servers");
	for (j = 0; j < 16; j++)
		out[j] = -7;
	is_int(ring_lookup(r, 12345, out, 0), 0, "ring_lookup max 0");
	ok(out[0] == -7, "ring_lookup max 0 writes nothing");
	n = ring_lookup(r, 12345, out, 2);
	ok(n == 2 && out[2] == -7, "ring_lookup max 2 writes 2");

	/* every position's first 2 servers are distinct */
	good = 1;
	for (k = 0; k < r->ntokens; k++) {
		uint64_t p[3] = { r->tokens[k].pos, r->tokens[k].pos - 1,
		    r->tokens[k].pos + 1 };

		for (j = 0; j < 3; j++) {
			n = ring_lookup(r, p[j], out, 2);
			if (n != 2 || out[0] == out[1])
				good = 0;
		}
	}
	ok(good, "5 x 128: first 2 servers distinct at every token");
	ring_free(r);
}

static void
test_small(void)
{
	struct ring	*r = ring_new(1, 3);
	int		 out[4] = { -7, -7, -7, -7 }, n;
	double		 sh[3];

	ring_build(r);
	is_int(ring_lookup(r, 42, out, 3), 0, "empty ring: lookup finds none");
	ring_free(r);

	r = ring_new(1, 3);
	ring_add(r, "solo", "127.0.0.1:1", 1);
	ring_build(r);
	n = ring_lookup(r, 0, out, 3);
	ok(n == 1 && out[0] == 0, "1 server, 1 token: owner at 0");
	n = ring_lookup(r, UINT64_MAX, out, 3);
	ok(n == 1 && out[0] == 0, "1 server, 1 token: owner at 2^64-1");
	ring_shares(r, sh);
	ok(dabs(sh[0] - 1.0) < 1e-9, "1 server, 1 token: share 1 (%.17g)",
	    sh[0]);
	ring_free(r);

	r = ring_new(1, 3);
	ring_add(r, "a", "127.0.0.1:1", 16);
	ring_add(r, "empty", "127.0.0.1:2", 0);
	ring_add(r, "c", "127.0.0.1:3", 16);
	ring_build(r);
	out[0] = out[1] = out[2] = out[3] = -7;
	n = ring_lookup(r, 99, out, 3);
	ok(n == 2 && out[0] != 1 && out[1] != 1 && out[0] != out[1] &&
	    out[2] == -7, "server with no tokens is never chosen");
	ring_shares(r, sh);
	ok(sh[1] == 0 && dabs(sh[0] + sh[2] - 1.0) < 1e-9,
	    "server with no tokens has share 0");
	ring_free(r);
}

static void
test_balance(void)
{
	struct ring	*r = make_ring(5, 128);
	long		 counts[5] = { 0 };
	double		 sh[5], sum = 0, mean = 100000.0 / 5, worst = 0;
	int		 out[1], i, within = 1, agree = 1;

	for (i = 0; i < 100000; i++)
		if (ring_lookup(r, rnd(), out, 1) == 1 && out[0] >= 0 &&
		    out[0] < 5)
			counts[out[0]]++;
	ring_shares(r, sh);
	for (i = 0; i < 5; i++) {
		double dev = dabs(counts[i] - mean) / mean;

		if (dev > worst)
			worst = dev;
		if (dev > 0.35)
			within = 0;
		/* the sampled fraction estimates the share: sd ~ 0.0013 */
		if (dabs(counts[i] / 100000.0 - sh[i]) > 0.01)
			agree = 0;
		sum += sh[i];
		printf("# server %d: %ld of 100000 lookups, share %.4f\n", i,
		    counts[i], sh[i]);
	}
	ok(within, "5 x 128: each server owns mean +- 35%% of 100000 lookups "
	    "(worst %.1f%%)", worst * 100);
	ok(agree, "ring_shares agrees with sampled lookups within 0.01");
	ok(dabs(sum - 1.0) < 1e-9, "5 x 128: shares sum to 1 (%.17g)", sum);
	ring_free(r);
}

static void
test_shares(void)
{
	static const int sizes[] = { 5, 10, 50 };
	size_t		 z;

	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		int		 ns = sizes[z], i, inrange = 1;
		struct ring	*r = make_ring(ns, 128);
		double		*sh = calloc((size_t)ns, sizeof(*sh));
		double		 sum = 0, max = 0, min = 1;

		ring_shares(r, sh);
		for (i = 0; i < ns; i++) {
			if (sh[i] < 0 || sh[i] > 1)
				inrange = 0;
			sum += sh[i];
			if (sh[i] > max)
				max = sh[i];
			if (sh[i] < min)
				min = sh[i];
		}
		ok(dabs(sum - 1.0) < 1e-9 && inrange,
		    "%d x 128: shares in [0, 1], sum to 1 within 1e-9", ns);
		printf("# %d servers x 128 tokens: max/mean share %.3f, "
		    "min/mean %.3f\n", ns, max * ns, min * ns);
		free(sh);
		ring_free(r);
	}
}

/* Max/mean share of the servers not removed. */
static double
max_over_mean(const struct ring *r)
{
	double	sh[GFS_MAX_SERVERS], max = 0, sum = 0;
	int	i, n = 0;

	ring_shares(r, sh);
	for (i = 0; i < r->nservers; i++) {
		if (r->servers[i].state == SRV_REMOVED)
			continue;
		n++;
		sum += sh[i];
		if (sh[i] > max)
			max = sh[i];
	}
	return n ? max / (sum / n) : 0;
}

/* Servers joining one by one with ring_assign, as the leader does. */
static struct ring *
assigned_ring(int nservers, uint32_t ntokens)
{
	struct ring	*r = ring_new(1, 2);
	uint64_t	 tok[GFS_MAX_TOKENS];
	char		 id[32], addr[32];
	int		 i;

	for (i = 0; i < nservers; i++) {
		snprintf(id, sizeof(id), "%016llx",
		    (unsigned long long)ring_token("seed", (uint32_t)i));
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 8100 + i);
		ring_assign(r, id, ntokens, tok);
		ring_add_server(r, id, addr, SRV_HEALTHY, ntokens, tok);
		ring_build(r);
	}
	return r;
}

static void
test_assign(void)
{
	static const int	 sizes[] = { 5, 10, 50 };
	struct ring		*r;
	double			 m, moved, sh[GFS_MAX_SERVERS];
	size_t			 i;
	int			 s;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		r = assigned_ring(sizes[i], 128);
		m = max_over_mean(r);
		printf("# ring_assign: %d servers x 128 tokens: max/mean share "
		    "%.3f\n", sizes[i], m);
		ok(m <= 1.15, "%d servers: largest share <= 1.15 x mean",
		    sizes[i]);
		if (sizes[i] == 5) {
			ring_shares(r, sh);
			for (s = 0; s < r->nservers; s++)
				printf("# share of server %d: %.1f%%\n", s,
				    sh[s] * 100);
		}
		ring_free(r);
	}
	/* The sixth server takes about 1/6 and nobody else gains. */
	r = assigned_ring(5, 128);
	ring_shares(r, sh);
	{
		double	 before[GFS_MAX_SERVERS];
		uint64_t tok[128];
		int	 gained = 0;

		memcpy(before, sh, sizeof(double) * 5);
		ring_assign(r, "newcomer", 128, tok);
		ring_add_server(r, "newcomer", "127.0.0.1:9000", SRV_HEALTHY,
		    128, tok);
		ring_build(r);
		ring_shares(r, sh);
		moved = sh[5];
		for (s = 0; s < 5; s++)
			if (sh[s] > before[s] + 1e-12)
				gained++;
		printf("# sixth server takes %.3f of the ring\n", moved);
		ok(moved > 0.15 && moved < 0.19, "a sixth server takes about 1/6");
		is_int(gained, 0, "no old server gains share when one joins");
	}
	ring_free(r);
	/* Removing one gives its share to the others only. */
	r = assigned_ring(5, 128);
	r->servers[2].state = SRV_REMOVED;
	ring_build(r);
	ring_shares(r, sh);
	is_int((long long)(sh[2] * 1e6), 0, "a removed server has no share");
	printf("# after removing one of 5: max/mean %.3f\n", max_over_mean(r));
	ok(max_over_mean(r) < 1.5, "removing one keeps the rest usable");
	ring_free(r);
	/* Every token at one position: that server owns the whole ring. */
	r = ring_new(1, 2);
	{
		uint64_t same[2] = { 5, 5 };

		ring_add_server(r, "solo", "127.0.0.1:1", SRV_HEALTHY, 2, same);
	}
	ring_build(r);
	ring_shares(r, sh);
	ok(sh[0] > 0.999, "duplicate tokens: the one server owns everything");
	ring_free(r);
}

/* Only health changed: the same placement; anything else: another. */
static void
test_same_placement(void)
{
	struct ring	*a = make_ring(5, 64), *b = make_ring(5, 64);
	struct ring	*c = make_ring(6, 64), *d = make_ring(5, 64);

	ok(ring_same_placement(a, b), "same placement: the same ring twice");
	b->epoch = 9;
	b->servers[2].state = SRV_UNHEALTHY;
	ring_build(b);
	ok(ring_same_placement(a, b), "same placement: a server unhealthy");
	ok(!ring_same_placement(a, c), "same placement: not with a server more");
	d->servers[3].state = SRV_REMOVED;
	ring_build(d);
	ok(!ring_same_placement(a, d), "same placement: not with one removed");
	ring_free(d);
	d = make_ring(5, 64);
	snprintf(d->servers[1].addr, sizeof(d->servers[1].addr),
	    "127.0.0.1:9999");
	ok(!ring_same_placement(a, d), "same placement: not at a new address");
	ring_free(a);
	ring_free(b);
	ring_free(c);
	ring_free(d);
}

int
main(void)
{
	plan(51);
	test_token();
	test_build();
	test_lookup();
	test_small();
	test_balance();
	test_shares();
	test_assign();
	test_same_placement();
	return done_testing();
}
