/*
 * SHA-256 through OpenSSL EVP.  The digest and context are fetched
 * once: EVP_Digest() would fetch the implementation on every call.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdlib.h>

#include "hash.h"
#include "log.h"

struct hash_ctx {
	EVP_MD_CTX	*ctx;
};

static EVP_MD		*sha256_md;
static EVP_MD_CTX	*oneshot;

/*
 * Before any other OpenSSL call: nothing in openssl.cnf concerns
 * SHA-256 or RAND_bytes from the default provider, and reading it cost
 * every gfs process about 8 ms.
 */
static void
crypto_init(void)
{
	static int done;

	if (!done) {
		OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
		done = 1;
	}
}

static const EVP_MD *
md(void)
{
	if (sha256_md == NULL) {
		crypto_init();
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (sha256_md == NULL)
			abort();
	}
	return sha256_md;
}

void
hash_sha256(const void *buf, size_t len, uint8_t out[GFS_HASH_LEN])
{
	if (oneshot == NULL && (oneshot = EVP_MD_CTX_new()) == NULL)
		abort();
	if (!EVP_DigestInit_ex(oneshot, md(), NULL) ||
	    !EVP_DigestUpdate(oneshot, buf, len) ||
	    !EVP_DigestFinal_ex(oneshot, out, NULL))
		abort();
}

struct hash_ctx *
hash_ctx_new(void)
{
	struct hash_ctx *h = malloc(sizeof(*h));

	if (h == NULL || (h->ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(h->ctx, md(), NULL))
		abort();
	return h;
}

void
hash_ctx_update(struct hash_ctx *h, const void *buf, size_t len)
{
	if (!EVP_DigestUpdate(h->ctx, buf, len))
		abort();
}

void
hash_ctx_final(struct hash_ctx *h, uint8_t out[GFS_HASH_LEN])
{
	if (!EVP_DigestFinal_ex(h->ctx, out, NULL))
		abort();
}

void
hash_ctx_free(struct hash_ctx *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
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

void
random_hex(char *buf, size_t len)
{
	static const char	digits[] = "0123456789abcdef";
	unsigned char		r[64];
	size_t			i;

	crypto_init();
	while (len > 0) {
		size_t n = len > sizeof(r) ? sizeof(r) : len;

		if (RAND_bytes(r, (int)n) != 1)
			abort();
		for (i = 0; i < n; i++)
			*buf++ = digits[r[i] & 15];
		len -= n;
	}
	*buf = '\0';
}
