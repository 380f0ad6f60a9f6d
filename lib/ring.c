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
	if (r == NULL)
		return;
	free(r->servers);
	free(r->tokens);
	free(r);
}

int
ring_add(struct ring *r, const char *id, const char *addr, uint32_t ntokens)
{
	struct ring_server *s;

	r->servers = xreallocarray(r->servers, (size_t)r->nservers + 1,
	    sizeof(*r->servers));
	s = &r->servers[r->nservers];
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->ntokens = ntokens;
	return r->nservers++;
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
	size_t	n = 0;
	int	s;
	uint32_t i;

	for (s = 0; s < r->nservers; s++)
		n += r->servers[s].ntokens;
	free(r->tokens);
	r->tokens = xreallocarray(NULL, n, sizeof(*r->tokens));
	r->ntokens = 0;
	for (s = 0; s < r->nservers; s++)
		for (i = 0; i < r->servers[s].ntokens; i++) {
			r->tokens[r->ntokens].pos = ring_token(r->servers[s].id, i);
			r->tokens[r->ntokens].server = (uint32_t)s;
			r->ntokens++;
		}
	qsort(r->tokens, r->ntokens, sizeof(*r->tokens), token_cmp);
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

		if (r->ntokens == 1)
			arc = UINT64_MAX;
		shares[r->tokens[k].server] += (double)arc / 18446744073709551616.0;
	}
}
