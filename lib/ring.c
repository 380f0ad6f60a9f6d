/*
 * Ring build and lookup by binary search over the sorted tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "hash.h"
#include "ring.h"
#include "xmalloc.h"

struct ring *
ring_new(uint64_t epoch, int replicas)
{
	struct ring *r = xcalloc(1, sizeof(*r));

	r->epoch = epoch;
	r->replicas = replicas;
	return r;
}

void
ring_free(struct ring *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nservers; i++)
		free(r->servers[i].tokens);
	free(r->servers);
	free(r->tokens);
	free(r);
}

int
ring_add_server(struct ring *r, const char *id, const char *addr, int state,
    uint32_t ntokens, const uint64_t *tokens)
{
	struct ring_server *s;

	r->servers = xreallocarray(r->servers, (size_t)r->nservers + 1,
	    sizeof(*r->servers));
	s = &r->servers[r->nservers];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->state = state;
	s->ntokens = ntokens;
	s->tokens = xreallocarray(NULL, (size_t)ntokens + 1, sizeof(uint64_t));
	if (ntokens && tokens)
		memcpy(s->tokens, tokens, (size_t)ntokens * sizeof(uint64_t));
	else if (ntokens)
		memset(s->tokens, 0, (size_t)ntokens * sizeof(uint64_t));
	return r->nservers++;
}

int
ring_add(struct ring *r, const char *id, const char *addr, uint32_t ntokens)
{
	uint64_t	*t = xreallocarray(NULL, (size_t)ntokens + 1, sizeof(*t));
	uint32_t	 i;
	int		 n;

	for (i = 0; i < ntokens; i++)
		t[i] = ring_token(id, i);
	n = ring_add_server(r, id, addr, SRV_HEALTHY, ntokens, t);
	free(t);
	return n;
}

uint64_t
ring_token(const char *id, uint32_t i)
{
	char	buf[GFS_MAX_ID + 16];
	uint8_t	h[GFS_HASH_LEN];
	int	n;

	n = snprintf(buf, sizeof(buf), "%s#%u", id, i);
	hash_sha256(buf, (size_t)n, h);
	return hash_prefix(h);
}

static int
token_cmp(const void *a, const void *b)
{
	const struct ring_token *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->server < y->server ? -1 : x->server > y->server;
}

void
ring_build(struct ring *r)
{
	size_t	 n = 0;
	int	 s;
	uint32_t i;

	for (s = 0; s < r->nservers; s++)
		if (r->servers[s].state != SRV_REMOVED)
			n += r->servers[s].ntokens;
	free(r->tokens);
	r->tokens = xreallocarray(NULL, n + 1, sizeof(*r->tokens));
	r->ntokens = 0;
	for (s = 0; s < r->nservers; s++) {
		if (r->servers[s].state == SRV_REMOVED)
			continue;
		for (i = 0; i < r->servers[s].ntokens; i++) {
			r->tokens[r->ntokens].pos = r->servers[s].tokens[i];
			r->tokens[r->ntokens].server = (uint32_t)s;
			r->ntokens++;
		}
	}
	if (r->ntokens > 0)
		qsort(r->tokens, r->ntokens, sizeof(*r->tokens), token_cmp);
}

int
ring_active(const struct ring *r)
{
	int s, n = 0;

	for (s = 0; s < r->nservers; s++)
		if (r->servers[s].state != SRV_REMOVED)
			n++;
	return n;
}

/* 1 if a and b have the same tokens, field by field (a token has padding). */
int
ring_same_tokens(const struct ring *a, const struct ring *b)
{
	size_t	k;

	if (a->ntokens != b->ntokens)
		return 0;
	for (k = 0; k < a->ntokens; k++)
		if (a->tokens[k].pos != b->tokens[k].pos ||
		    a->tokens[k].server != b->tokens[k].server)
			return 0;
	return 1;
}

/*
 * 1 if a and b place every chunk alike: the same servers at the same
 * indexes and addresses, the same ones removed, the same tokens.  Only
 * health differs, which moves the epoch on but no chunk.
 */
int
ring_same_placement(const struct ring *a, const struct ring *b)
{
	int	s;

	if (a->replicas != b->replicas || a->nservers != b->nservers)
		return 0;
	for (s = 0; s < a->nservers; s++)
		if (strcmp(a->servers[s].id, b->servers[s].id) != 0 ||
		    strcmp(a->servers[s].addr, b->servers[s].addr) != 0 ||
		    (a->servers[s].state == SRV_REMOVED) !=
		    (b->servers[s].state == SRV_REMOVED))
			return 0;
	return ring_same_tokens(a, b);
}

static const char *state_names[] = { "healthy", "unhealthy", "removed" };

const char *
ring_state_name(int state)
{
	if (state < 0 || state > SRV_REMOVED)
		return "unknown";
	return state_names[state];
}

int
ring_state_parse(const char *s)
{
	int i;

	for (i = 0; i <= SRV_REMOVED; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

/*
 * One arc of the ring: (start, end], owned by the token at end.  The
 * new server's tokens split the largest arcs of the richest servers,
 * each taking what it still needs spread over the tokens left, at most
 * nine tenths of an arc, so that it ends with about 1/n of the ring and
 * the others give up what they had over 1/n.
 */
struct arc {
	uint64_t	start, len;
	int		server;		/* -1: the new server */
};

void
ring_assign(const struct ring *r, const char *id, uint32_t ntokens,
    uint64_t *out)
{
	struct arc	*arcs;
	double		*share, target, got = 0;
	size_t		 narcs, k;
	int		 n = ring_active(r), s, rich;
	uint32_t	 t;

	if (r->ntokens == 0 || n == 0) {
		for (t = 0; t < ntokens; t++)
			out[t] = ring_token(id, t);
		return;
	}
	narcs = r->ntokens;
	arcs = xreallocarray(NULL, narcs + ntokens + 1, sizeof(*arcs));
	share = xcalloc((size_t)r->nservers + 1, sizeof(*share));
	for (k = 0; k < narcs; k++) {
		uint64_t prev = r->tokens[(k + narcs - 1) % narcs].pos;

		arcs[k].start = prev;
		arcs[k].len = r->tokens[k].pos - prev;	/* mod 2^64 */
		if (narcs == 1)
			arcs[k].len = UINT64_MAX;
		arcs[k].server = (int)r->tokens[k].server;
		share[arcs[k].server] += (double)arcs[k].len;
	}
	target = 18446744073709551616.0 / (n + 1);
	for (t = 0; t < ntokens; t++) {
		double		want = (target - got) / (ntokens - t);
		uint64_t	take;
		size_t		best = SIZE_MAX;

		rich = -1;
		for (s = 0; s < r->nservers; s++)
			if (r->servers[s].state != SRV_REMOVED &&
			    (rich < 0 || share[s] > share[rich]))
				rich = s;
		for (k = 0; k < narcs; k++)
			if (arcs[k].server == rich &&
			    (best == SIZE_MAX || arcs[k].len > arcs[best].len))
				best = k;
		if (best == SIZE_MAX || arcs[best].len < 2) {
			out[t] = ring_token(id, t);	/* nothing left to split */
			continue;
		}
		take = want < 1 ? 1 : (uint64_t)want;
		if (take > arcs[best].len / 10 * 9)
			take = arcs[best].len / 10 * 9;
		out[t] = arcs[best].start + take;
		arcs[narcs].start = arcs[best].start;
		arcs[narcs].len = take;
		arcs[narcs].server = -1;
		narcs++;
		arcs[best].start += take;
		arcs[best].len -= take;
		share[rich] -= (double)take;
		got += (double)take;
	}
	free(arcs);
	free(share);
}

int
ring_lookup(const struct ring *r, uint64_t pos, int *out, int max)
{
	size_t	lo = 0, hi = r->ntokens, k;
	int	n = 0, j;

	if (r->ntokens == 0)
		return 0;
	while (lo < hi) {	/* first token with pos >= position */
		size_t mid = lo + (hi - lo) / 2;

		if (r->tokens[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < r->ntokens && n < max && n < r->nservers; k++) {
		int s = (int)r->tokens[(lo + k) % r->ntokens].server;

		for (j = 0; j < n; j++)
			if (out[j] == s)
				break;
		if (j == n)
			out[n++] = s;
	}
	return n;
}

void
ring_shares(const struct ring *r, double *shares)
{
	size_t	k;
	int	s;

	for (s = 0; s < r->nservers; s++)
		shares[s] = 0;
	if (r->ntokens == 0)
		return;
	/* Token k owns the arc from the previous token (exclusive) to itself. */
	for (k = 0; k < r->ntokens; k++) {
		uint64_t prev = r->tokens[(k + r->ntokens - 1) % r->ntokens].pos;
		uint64_t arc = r->tokens[k].pos - prev;	/* wraps mod 2^64 */

		if (k == 0 && arc == 0)	/* every token at one position */
			arc = UINT64_MAX;
		shares[r->tokens[k].server] += (double)arc / 18446744073709551616.0;
	}
}
