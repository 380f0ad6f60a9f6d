/*
 * SHA-256 through OpenSSL's one-algorithm interface (SHA256_Init and
 * friends), not EVP, and libcrypto linked statically (Makefile).
 *
 * Why: a gfs process per file is how shell scripts use gfs, so start-up
 * is on every put and get.  EVP needs the provider machinery, which
 * pulls in most of libcrypto: dynamically, ld.so spent about 2 ms
 * relocating its 4.7 MB per process; statically, a PIE still applies
 * 17,000 relative relocations.  SHA256_* links in only the SHA-256
 * code and the CPU detection, starts like cat, and runs the same
 * assembly (SHA-NI here: 1.6 GB/s on 1 KB chunks, EVP 1.5).  OpenSSL 3
 * marks these functions deprecated, not removed.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "log.h"

struct hash_ctx {
	SHA256_CTX	c;
};

void
hash_sha256(const void *buf, size_t len, uint8_t out[GFS_HASH_LEN])
{
	SHA256_CTX c;

	if (!SHA256_Init(&c) || !SHA256_Update(&c, buf, len) ||
	    !SHA256_Final(out, &c))
		abort();
}

struct hash_ctx *
hash_ctx_new(void)
{
	struct hash_ctx *h = malloc(sizeof(*h));

	if (h == NULL || !SHA256_Init(&h->c))
		abort();
	return h;
}

void
hash_ctx_update(struct hash_ctx *h, const void *buf, size_t len)
{
	if (!SHA256_Update(&h->c, buf, len))
		abort();
}

void
hash_ctx_final(struct hash_ctx *h, uint8_t out[GFS_HASH_LEN])
{
	if (!SHA256_Final(out, &h->c))
		abort();
}

void
hash_ctx_free(struct hash_ctx *h)
{
	free(h);
}

uint64_t
hash_prefix(const uint8_t h[GFS_HASH_LEN])
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* Transaction ids and such: the kernel's random bytes (getrandom(2)). */
void
random_hex(char *buf, size_t len)
{
	static const char	digits[] = "0123456789abcdef";
	unsigned char		r[64];
	size_t			i, n;
	ssize_t			got;

	while (len > 0) {
		n = len > sizeof(r) ? sizeof(r) : len;
		got = getrandom(r, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			fatal("getrandom");
		for (i = 0; i < (size_t)got; i++)
			*buf++ = digits[r[i] & 15];
		len -= (size_t)got;
	}
	*buf = '\0';
}
