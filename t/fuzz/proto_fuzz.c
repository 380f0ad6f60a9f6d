/*
 * libFuzzer target for the protocol codec, lib/proto.c.
 *
 * The input is one command line as lib/server.c hands it to a handler
 * (terminator stripped, cut at the first NUL).  It is split like a
 * command and every token goes through every parser; each token is
 * copied to a buffer of exactly its size first, so that ASan sees a
 * read past its NUL.  Besides what ASan and UBSan catch, a broken
 * round trip or a result out of its documented range aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "proto_fuzz: check failed at line %d: %s\n", \
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

static void
fuzz_numbers(const char *s, size_t len)
{
	char		 buf[32], host[64];
	const char	*digits;
	uint64_t	 v = 0, ms = 0;
	uint16_t	 port = 0;

	if (parse_u64(s, 0, UINT64_MAX, &v) == 0) {
		/* Only digits, and they say v: leading zeros aside. */
		CHECK(len > 0 && strspn(s, "0123456789") == len);
		digits = s + strspn(s, "0");
		if (*digits == '\0')
			digits--;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		CHECK(strcmp(digits, buf) == 0);
	}
	if (parse_u64(s, 10, 65535, &v) == 0)
		CHECK(v >= 10 && v <= 65535);

	if (parse_duration(s, &ms) == 0)
		CHECK(s[0] >= '0' && s[0] <= '9');

	if (parse_hostport(s, host, sizeof(host), &port) == 0) {
		size_t hl = strlen(host);

		CHECK(hl > 0 && hl < sizeof(host) && hl < len);
		CHECK(memcmp(host, s, hl) == 0 && s[hl] == ':');
		CHECK(parse_u64(s + hl + 1, 0, 65535, &v) == 0 && v == port);
	}
}

static void
fuzz_hash(const char *s, size_t len)
{
	uint8_t	h[GFS_HASH_LEN];
	char	hex[GFS_HEX_LEN + 1];

	if (hash_parse(s, h) == 0) {
		CHECK(len == GFS_HEX_LEN);
		hash_hex(h, hex);
		CHECK(strcmp(hex, s) == 0);
	}
	if (txid_valid(s))
		CHECK(len >= 1 && len <= GFS_MAX_TXID);
}

/* Decode s, check the name, encode it again and decode that. */
static void
fuzz_name(const char *s, size_t len)
{
	char	*dec = xstrndup(s, len), *enc, *again;
	size_t	 encsz, i;
	int	 n, e, m;

	n = name_decode(dec);
	if (n < 0) {
		free(dec);
		return;
	}
	/* %00 is refused, so the decoded name has no NUL inside. */
	CHECK((size_t)n <= len && strlen(dec) == (size_t)n);
	(void)name_check(dec, (size_t)n);

	encsz = 3 * (size_t)n + 1;
	enc = xmalloc(encsz);
	e = name_encode(dec, (size_t)n, enc, encsz);
	CHECK(e >= 0 && (size_t)e < encsz && strlen(enc) == (size_t)e);
	for (i = 0; i < (size_t)e; i++) {
		unsigned char c = (unsigned char)enc[i];

		CHECK(c > 0x20 && c < 0x7f && c != '@');
	}
	/* Exactly e + 1 bytes fit, e do not. */
	if (e > 0) {
		char *tight = xmalloc((size_t)e);

		CHECK(name_encode(dec, (size_t)n, tight, (size_t)e) == -1);
		free(tight);
	}

	again = xstrndup(enc, (size_t)e);
	m = name_decode(again);
	CHECK(m == n && memcmp(again, dec, (size_t)n) == 0 && again[m] == '\0');

	free(again);
	free(enc);
	free(dec);
}

static void
fuzz_token(const char *tok)
{
	size_t	 len = strlen(tok);
	char	*s = xstrndup(tok, len);

	CHECK(len > 0 && strchr(s, ' ') == NULL);
	fuzz_numbers(s, len);
	fuzz_hash(s, len);
	fuzz_name(s, len);
	(void)name_check(s, len);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*line, *small, *argv[GFS_MAX_ARGS], *sargv[4];
	int	 argc, sargc, i;

	/* Raw bytes, NULs and all: the length bounds every read. */
	if (size > 0) {
		char *raw = xmalloc(size);

		memcpy(raw, data, size);
		(void)name_check(raw, size);
		free(raw);
	}

	line = xstrndup((const char *)data, size);
	small = xstrdup(line);
	argc = proto_split(line, argv, GFS_MAX_ARGS);
	CHECK(argc >= -1 && argc <= GFS_MAX_ARGS);

	/* A smaller max gives the same count, or -1 past it. */
	sargc = proto_split(small, sargv, 4);
	CHECK(sargc == (argc >= 0 && argc <= 4 ? argc : -1));
	for (i = 0; i < sargc; i++)
		CHECK(strcmp(sargv[i], argv[i]) == 0);

	for (i = 0; i < argc; i++) {
		CHECK(argv[i] >= line && argv[i] < line + size);
		fuzz_token(argv[i]);
	}
	free(small);
	free(line);
	return 0;
}
