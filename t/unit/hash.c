/*
 * Unit tests for lib/hash.c: SHA-256 against the FIPS 180-2 examples,
 * the incremental interface against the one-shot one, random_hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "proto.h"
#include "tap.h"

static const char *
hex_of(const uint8_t h[GFS_HASH_LEN])
{
	static char	out[GFS_HEX_LEN + 1];

	hash_hex(h, out);
	return out;
}

static void
sha_is(const void *buf, size_t len, const char *want, const char *name)
{
	uint8_t	h[GFS_HASH_LEN];
	char	what[64];

	hash_sha256(buf, len, h);
	snprintf(what, sizeof(what), "sha256 %s", name);
	is_str(hex_of(h), want, what);
}

int
main(void)
{
	static const char two_blocks[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t		 one[GFS_HASH_LEN], inc[GFS_HASH_LEN];
	struct hash_ctx	*c;
	char		*mil, a[65], b[65];
	size_t		 off, step, i;
	int		 same = 1, digits = 1;

	plan(10);
	sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
	    "7852b855", "of nothing");
	sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
	    "61f20015ad", "of abc");
	sha_is(two_blocks, strlen(two_blocks), "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1", "of the 448-bit message");
	mil = malloc(1000000);
	memset(mil, 'a', 1000000);
	sha_is(mil, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e04"
	    "6d39ccc7112cd0", "of a million a");

	/* The million fed in uneven pieces, 1 to 1500 bytes. */
	c = hash_ctx_new();
	for (off = 0, step = 1; off < 1000000; off += step,
	    step = step % 1500 + 7)
		hash_ctx_update(c, mil + off, off + step > 1000000 ?
		    1000000 - off : step);
	hash_ctx_final(c, inc);
	hash_ctx_free(c);
	hash_sha256(mil, 1000000, one);
	ok(memcmp(one, inc, GFS_HASH_LEN) == 0,
	    "incremental in uneven pieces = one shot");

	/* Every length of a chunk, 0 to 1024, one shot = incremental. */
	for (i = 0; i <= 1024 && same; i++) {
		c = hash_ctx_new();
		hash_ctx_update(c, mil, i / 2);
		hash_ctx_update(c, mil + i / 2, i - i / 2);
		hash_ctx_final(c, inc);
		hash_ctx_free(c);
		hash_sha256(mil, i, one);
		same = memcmp(one, inc, GFS_HASH_LEN) == 0;
	}
	ok(same, "lengths 0 to 1024: two halves = one shot");
	free(mil);

	random_hex(a, 64);
	random_hex(b, 64);
	ok(strlen(a) == 64 && strlen(b) == 64, "random_hex: 64 digits and a NUL");
	for (i = 0; i < 64; i++)
		digits &= strchr("0123456789abcdef", a[i]) != NULL;
	ok(digits, "random_hex: lower-case hex only");
	ok(strcmp(a, b) != 0, "random_hex: two calls differ");
	random_hex(a, 0);
	ok(a[0] == '\0', "random_hex of 0 digits: the empty string");
	return done_testing();
}
