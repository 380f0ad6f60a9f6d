/*
 * libFuzzer target for ring lookups, lib/ring.c.
 *
 * Input: one byte for the server count (1 + b % 8); per server one byte,
 * low 4 bits its token count, bits 4-5 its state (3: a healthy server
 * added by ring_add with derived tokens), then its tokens as 8 bytes
 * each (0 once the input runs out, so ties are common).  The rest is
 * lookups of 9 bytes: max (b % 12) and a position.
 *
 * Each lookup is checked against the specification by brute force over
 * the servers' own tokens: the first min(max, servers on the ring)
 * distinct servers clockwise from the position, a server's distance
 * being that of its nearest token at or after it (wrapping), ties going
 * to the lower server index as the sorted ring has them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "ring_fuzz: check failed at line %d: %s\n", \
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

#define MAXSRV	8
#define MAXTOK	15
#define MAXLOOK	12

struct ref {
	int		state;
	uint32_t	ntokens;
	uint64_t	tokens[MAXTOK];
};

struct input {
	const uint8_t	*p;
	size_t		 left;
};

static uint8_t
get8(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t
get64(struct input *in)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | get8(in);
	return v;
}

static void
check_lookup(const struct ring *r, const struct ref *ref, int nsrv,
    uint64_t pos, int max)
{
	int		out[MAXLOOK + 1], want[MAXSRV], n, nwant = 0, i, j, s;
	uint64_t	dist[MAXSRV];

	for (i = 0; i <= MAXLOOK; i++)
		out[i] = -2;
	n = ring_lookup(r, pos, out, max);

	/* Servers on the ring by (distance, index). */
	for (s = 0; s < nsrv; s++) {
		uint32_t k;

		if (ref[s].state == SRV_REMOVED || ref[s].ntokens == 0)
			continue;
		dist[s] = UINT64_MAX;
		for (k = 0; k < ref[s].ntokens; k++)
			if (ref[s].tokens[k] - pos < dist[s])
				dist[s] = ref[s].tokens[k] - pos;
		for (i = nwant; i > 0 && dist[want[i - 1]] > dist[s]; i--)
			want[i] = want[i - 1];
		want[i] = s;
		nwant++;
	}
	if (nwant > max)
		nwant = max;

	CHECK(n >= 0 && n <= max && out[max] == -2);
	for (i = 0; i < n; i++) {
		CHECK(out[i] >= 0 && out[i] < nsrv);
		for (j = 0; j < i; j++)
			CHECK(out[j] != out[i]);
	}
	if (n != nwant)
		fprintf(stderr, "ring_fuzz: %d servers, expected %d\n", n, nwant);
	CHECK(n == nwant);
	for (i = 0; i < n; i++) {
		if (out[i] != want[i])
			fprintf(stderr, "ring_fuzz: position %llu: server %d "
			    "is %d, expected %d\n", (unsigned long long)pos, i,
			    out[i], want[i]);
		CHECK(out[i] == want[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input	 in = { data, size };
	struct ref	 ref[MAXSRV];
	struct ring	*r;
	char		 id[32], addr[32];
	int		 nsrv, s, idx, looked = 0;
	uint32_t	 k;

	r = ring_new(1, 3);
	nsrv = 1 + get8(&in) % MAXSRV;
	for (s = 0; s < nsrv; s++) {
		uint8_t b = get8(&in);

		snprintf(id, sizeof(id), "chunk%d", s + 1);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 7000 + s);
		ref[s].ntokens = b & 15;
		ref[s].state = (b >> 4) & 3;
		if (ref[s].state == 3) {
			ref[s].state = SRV_HEALTHY;
			for (k = 0; k < ref[s].ntokens; k++)
				ref[s].tokens[k] = ring_token(id, k);
			idx = ring_add(r, id, addr, ref[s].ntokens);
		} else {
			for (k = 0; k < ref[s].ntokens; k++)
				ref[s].tokens[k] = get64(&in);
			idx = ring_add_server(r, id, addr, ref[s].state,
			    ref[s].ntokens, ref[s].tokens);
		}
		CHECK(idx == s);
	}
	ring_build(r);

	while (in.left >= 9) {
		int max = get8(&in) % MAXLOOK;

		check_lookup(r, ref, nsrv, get64(&in), max);
		looked = 1;
	}
	if (!looked) {
		check_lookup(r, ref, nsrv, 0, GFS_MAX_REPLICAS);
		check_lookup(r, ref, nsrv, UINT64_MAX, GFS_MAX_REPLICAS);
	}
	ring_free(r);
	return 0;
}
