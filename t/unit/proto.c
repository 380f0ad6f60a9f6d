/*
 * Unit tests for the protocol codec, lib/proto.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

/* s with non-printable bytes as \xHH, for test names; static buffer. */
static const char *
vis(const char *s)
{
	static char	buf[256];
	size_t		o = 0;

	for (; *s && o + 5 < sizeof(buf); s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* Split a copy of line; check the count and, when it is >= 0, the tokens. */
static void
split_is(const char *line, int max, int want, const char *const *toks,
    const char *name)
{
	char	 buf[1024], *argv[16];
	int	 n, i, same;

	snprintf(buf, sizeof(buf), "%s", line);
	n = proto_split(buf, argv, max);
	same = n == want;
	for (i = 0; same && i < n; i++)
		same = strcmp(argv[i], toks[i]) == 0;
	if (!ok(same, "proto_split: %s", name)) {
		fprintf(stderr, "#   got %d tokens, expected %d\n", n, want);
		for (i = 0; i < n && i < 16; i++)
			fprintf(stderr, "#   argv[%d] = '%s'\n", i, argv[i]);
	}
}

static void
test_split(void)
{
	static const char *const abc[] = { "a", "b", "c" };
	static const char *const put[] = { "PUT_PENDING", "tx1", "ab", "12" };
	static const char *const one[] = { "word" };
	char	 big[GFS_MAX_ARGS * 2 + 8], *argv[GFS_MAX_ARGS];
	int	 i, n;

	split_is("a b c", 8, 3, abc, "simple");
	split_is("a   b    c", 8, 3, abc, "runs of spaces");
	split_is("   a b c", 8, 3, abc, "leading spaces");
	split_is("a b c   ", 8, 3, abc, "trailing spaces");
	split_is("  a  b  c  ", 8, 3, abc, "leading, inner and trailing");
	split_is("", 8, 0, NULL, "empty line");
	split_is("     ", 8, 0, NULL, "only spaces");
	split_is("word", 8, 1, one, "one token");
	split_is("PUT_PENDING tx1 ab 12", 4, 4, put, "exactly max tokens");
	split_is("PUT_PENDING tx1 ab 12   ", 4, 4, put,
	    "exactly max tokens, trailing spaces");
	split_is("PUT_PENDING tx1 ab 12 x", 4, -1, NULL, "max + 1 tokens");
	split_is("a b c", 2, -1, NULL, "max + 1 tokens, max 2");
	split_is("a", 0, -1, NULL, "max 0, one token");
	split_is("", 0, 0, NULL, "max 0, empty line");
	split_is("a\tb", 8, 1, (const char *const[]){ "a\tb" },
	    "only spaces separate, not tabs");

	/* GFS_MAX_ARGS tokens fit, one more does not. */
	for (i = 0; i < GFS_MAX_ARGS; i++) {
		big[2 * i] = 'x';
		big[2 * i + 1] = ' ';
	}
	big[2 * GFS_MAX_ARGS - 1] = '\0';
	n = proto_split(big, argv, GFS_MAX_ARGS);
	is_int(n, GFS_MAX_ARGS, "proto_split: GFS_MAX_ARGS tokens");
	for (i = 0; i < GFS_MAX_ARGS; i++) {
		big[2 * i] = 'x';
		big[2 * i + 1] = ' ';
	}
	big[2 * GFS_MAX_ARGS] = 'y';
	big[2 * GFS_MAX_ARGS + 1] = '\0';
	n = proto_split(big, argv, GFS_MAX_ARGS);
	is_int(n, -1, "proto_split: GFS_MAX_ARGS + 1 tokens");
}

static void
u64_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = 12345;
	int	 rc = parse_u64(s, min, max, &v);

	if (!ok(rc == 0 && v == want, "parse_u64 '%s' [%llu, %llu] = %llu", vis(s),
	    (unsigned long long)min, (unsigned long long)max,
	    (unsigned long long)want))
		fprintf(stderr, "#   rc %d, value %llu\n", rc,
		    (unsigned long long)v);
}

static void
u64_bad(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v = 12345;
	int	 rc = parse_u64(s, min, max, &v);

	if (!ok(rc == GFS_EINVAL && v == 12345,
	    "parse_u64 '%s' [%llu, %llu] refused, out untouched", vis(s),
	    (unsigned long long)min, (unsigned long long)max))
		fprintf(stderr, "#   rc %d, value %llu\n", rc,
		    (unsigned long long)v);
}

static void
test_u64(void)
{
	u64_bad("", 0, UINT64_MAX);
	u64_ok("0", 0, UINT64_MAX, 0);
	u64_ok("7", 0, UINT64_MAX, 7);
	u64_ok("007", 0, UINT64_MAX, 7);
	u64_ok("1234567890", 0, UINT64_MAX, 1234567890);
	u64_bad("+1", 0, UINT64_MAX);
	u64_bad("-1", 0, UINT64_MAX);
	u64_bad("-0", 0, UINT64_MAX);
	u64_bad(" 1", 0, UINT64_MAX);
	u64_bad("1 ", 0, UINT64_MAX);
	u64_bad("1 2", 0, UINT64_MAX);
	u64_bad("0x10", 0, UINT64_MAX);
	u64_bad("0X10", 0, UINT64_MAX);
	u64_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	u64_bad("18446744073709551616", 0, UINT64_MAX);
	u64_bad("18446744073709551620", 0, UINT64_MAX);
	u64_bad("99999999999999999999", 0, UINT64_MAX);
	u64_bad("184467440737095516150", 0, UINT64_MAX);
	u64_ok("000000000000000000000000000018446744073709551615", 0,
	    UINT64_MAX, UINT64_MAX);
	u64_ok("10", 10, 20, 10);
	u64_ok("20", 10, 20, 20);
	u64_bad("9", 10, 20);
	u64_bad("21", 10, 20);
	u64_bad("0", 1, 5);
	u64_ok("5", 5, 5, 5);
	u64_ok("65535", 0, 65535, 65535);
	u64_bad("65536", 0, 65535);
	u64_bad("12abc", 0, UINT64_MAX);
	u64_bad("12\n", 0, UINT64_MAX);
	u64_bad("12.0", 0, UINT64_MAX);
	u64_bad("1e3", 0, UINT64_MAX);
	u64_bad("abc", 0, UINT64_MAX);
	ok(parse_u64(NULL, 0, 1, &(uint64_t){ 0 }) == GFS_EINVAL,
	    "parse_u64 NULL refused");
}

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t ms = 12345;
	int	 rc = parse_duration(s, &ms);

	if (!ok(rc == 0 && ms == want, "parse_duration '%s' = %llu ms", s,
	    (unsigned long long)want))
		fprintf(stderr, "#   rc %d, ms %llu\n", rc,
		    (unsigned long long)ms);
}

static void
dur_bad(const char *s)
{
	uint64_t ms = 12345;
	int	 rc = parse_duration(s, &ms);

	if (!ok(rc == GFS_EINVAL && ms == 12345,
	    "parse_duration '%s' refused", s))
		fprintf(stderr, "#   rc %d, ms %llu\n", rc,
		    (unsigned long long)ms);
}

static void
test_duration(void)
{
	dur_ok("250ms", 250);
	dur_ok("0ms", 0);
	dur_ok("2s", 2000);
	dur_ok("10m", 600000);
	dur_ok("1h", 3600000);
	dur_ok("30", 30000);
	dur_ok("0", 0);
	dur_ok("18446744073709551615ms", UINT64_MAX);
	dur_ok("18446744073709551s", 18446744073709551000ULL);
	dur_bad("18446744073709552s");
	dur_bad("18446744073709552");
	dur_ok("307445734561825m", 18446744073709500000ULL);
	dur_bad("307445734561826m");
	dur_ok("5124095576030h", 18446744073708000000ULL);
	dur_bad("5124095576031h");
	dur_bad("18446744073709551616ms");
	dur_bad("99999999999999999999999999999999999999ms");
	dur_bad("10x");
	dur_bad("10 s");
	dur_bad("10S");
	dur_bad("10sec");
	dur_bad("10mss");
	dur_bad("1h30m");
	dur_bad("");
	dur_bad("m");
	dur_bad("ms");
	dur_bad("s");
	dur_bad("-1s");
	dur_bad("+1s");
	dur_bad(" 1s");
	dur_bad("1.5s");
}

static void
hp_ok(const char *s, const char *host, unsigned port)
{
	char	 h[64] = "unset";
	uint16_t p = 1;
	int	 rc = parse_hostport(s, h, sizeof(h), &p);

	if (!ok(rc == 0 && strcmp(h, host) == 0 && p == port,
	    "parse_hostport '%s' = '%s' %u", s, host, port))
		fprintf(stderr, "#   rc %d, host '%s', port %u\n", rc, h, p);
}

static void
hp_bad(const char *s, size_t hostsz)
{
	char	 h[64] = "unset";
	uint16_t p = 1;
	int	 rc = parse_hostport(s, h, hostsz, &p);

	if (!ok(rc == GFS_EINVAL && p == 1, "parse_hostport '%s' (hostsz %zu) "
	    "refused", s, hostsz))
		fprintf(stderr, "#   rc %d, host '%s', port %u\n", rc, h, p);
}

static void
test_hostport(void)
{
	char	 h[10];
	uint16_t p = 0;

	hp_ok("127.0.0.1:8080", "127.0.0.1", 8080);
	hp_ok("127.0.0.1:0", "127.0.0.1", 0);
	hp_ok("localhost:65535", "localhost", 65535);
	hp_ok("example.org:1", "example.org", 1);
	hp_ok("::1:80", "::1", 80);
	hp_bad("127.0.0.1:65536", 64);
	hp_bad("127.0.0.1:", 64);
	hp_bad(":80", 64);
	hp_bad("127.0.0.1", 64);
	hp_bad("", 64);
	hp_bad("host:+80", 64);
	hp_bad("host:-1", 64);
	hp_bad("host: 80", 64);
	hp_bad("host:80 ", 64);
	hp_bad("host:0x50", 64);
	hp_bad("host:80x", 64);
	hp_bad("host:18446744073709551616", 64);
	/* host must fit with its NUL */
	ok(parse_hostport("123456789:1", h, sizeof(h), &p) == 0 &&
	    strcmp(h, "123456789") == 0 && p == 1,
	    "parse_hostport: 9-byte host fits in 10");
	hp_bad("1234567890:1", 10);
}

static void
test_hash(void)
{
	static const char hex[] =
	    "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";
	uint8_t	 h[GFS_HASH_LEN], h2[GFS_HASH_LEN];
	char	 out[GFS_HEX_LEN + 1], buf[GFS_HEX_LEN + 2];
	int	 i, rt = 1;

	ok(hash_parse(hex, h) == 0, "hash_parse valid");
	ok(h[0] == 0x00 && h[1] == 0x11 && h[15] == 0xff && h[16] == 0x01 &&
	    h[31] == 0x10, "hash_parse bytes");
	hash_hex(h, out);
	is_str(out, hex, "hash_hex round trip");

	for (i = 0; i < 256; i++) {
		int k;

		for (k = 0; k < GFS_HASH_LEN; k++)
			h[k] = (uint8_t)(i * 31 + k * 7 + (i ^ k));
		h[i % GFS_HASH_LEN] = (uint8_t)i;
		hash_hex(h, out);
		if (strlen(out) != GFS_HEX_LEN || hash_parse(out, h2) != 0 ||
		    memcmp(h, h2, sizeof(h)) != 0)
			rt = 0;
	}
	ok(rt, "hash_hex/hash_parse round trip, 256 hashes");

	memset(h, 0xff, sizeof(h));
	hash_hex(h, out);
	ok(strspn(out, "f") == GFS_HEX_LEN, "hash_hex all 0xff is lower-case");

	snprintf(buf, sizeof(buf), "%s", hex);
	buf[20] = 'A';
	ok(hash_parse(buf, h) == GFS_EINVAL, "hash_parse upper-case A refused");
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[63] = 'F';
	ok(hash_parse(buf, h) == GFS_EINVAL, "hash_parse upper-case F refused");
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[0] = 'g';
	ok(hash_parse(buf, h) == GFS_EINVAL, "hash_parse 'g' refused");
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[63] = '\0';
	ok(hash_parse(buf, h) == GFS_EINVAL, "hash_parse 63 chars refused");
	snprintf(buf, sizeof(buf), "%s0", hex);
	ok(strlen(buf) == 65 && hash_parse(buf, h) == GFS_EINVAL,
	    "hash_parse 65 chars refused");
	ok(hash_parse("", h) == GFS_EINVAL, "hash_parse empty refused");
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[10] = ' ';
	ok(hash_parse(buf, h) == GFS_EINVAL, "hash_parse space refused");
}

static void
test_txid(void)
{
	char	 buf[GFS_MAX_TXID + 2];

	ok(txid_valid("a"), "txid 'a'");
	ok(txid_valid("Tx_01-ab"), "txid 'Tx_01-ab'");
	ok(!txid_valid(""), "txid empty refused");
	memset(buf, 'x', GFS_MAX_TXID);
	buf[GFS_MAX_TXID] = '\0';
	ok(txid_valid(buf), "txid of GFS_MAX_TXID bytes");
	buf[GFS_MAX_TXID] = 'x';
	buf[GFS_MAX_TXID + 1] = '\0';
	ok(!txid_valid(buf), "txid of GFS_MAX_TXID + 1 bytes refused");
	ok(!txid_valid("a b"), "txid with space refused");
	ok(!txid_valid("a.b"), "txid with '.' refused");
	ok(!txid_valid("a/b"), "txid with '/' refused");
	ok(!txid_valid("a\nb"), "txid with newline refused");
	ok(!txid_valid("t\xc3\xbc"), "txid with UTF-8 refused");
}

static void
roundtrip(const char *name, size_t len, const char *want_enc, const char *what)
{
	char	 enc[4 * 1024], dec[4 * 1024];
	int	 n, m, clean = 1;
	size_t	 i;

	n = name_encode(name, len, enc, sizeof(enc));
	if (n >= 0)
		for (i = 0; i < (size_t)n; i++) {
			unsigned char c = (unsigned char)enc[i];

			if (c <= 0x20 || c >= 0x7f || c == '@')
				clean = 0;
		}
	ok(n >= 0 && (size_t)n == strlen(enc) && clean,
	    "name_encode %s: only printable ASCII, no '@'", what);
	if (want_enc != NULL)
		is_str(n >= 0 ? enc : NULL, want_enc, "name_encode exact");
	memcpy(dec, enc, (size_t)(n >= 0 ? n + 1 : 1));
	if (n < 0)
		dec[0] = '\0';
	m = name_decode(dec);
	ok(m >= 0 && (size_t)m == len && memcmp(dec, name, len) == 0 &&
	    dec[m] == '\0', "name_decode %s: round trip", what);
}

static void
test_names_codec(void)
{
	char	 all[255], out[16], buf[32];
	int	 i;

	roundtrip("plain/name.txt", 14, "plain/name.txt", "plain");
	roundtrip("a b", 3, "a%20b", "space");
	roundtrip("100%", 4, "100%25", "percent");
	roundtrip("user@host", 9, "user%40host", "at sign");
	roundtrip("file@3", 6, "file%403", "at sign and digit");
	roundtrip("a b/\xc3\xbc.txt", 10, "a%20b/%C3%BC.txt", "UTF-8");
	roundtrip("\xe2\x82\xac", 3, "%E2%82%AC", "euro sign");
	roundtrip("tab\there\nnl\r\x01\x1f", 14, "tab%09here%0Anl%0D%01%1F",
	    "control characters");
	roundtrip("del\x7f", 4, "del%7F", "DEL");
	roundtrip("%25", 3, "%2525", "an escape-looking name");
	for (i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	roundtrip(all, sizeof(all), NULL, "bytes 0x01..0xff");

	/* output size */
	is_int(name_encode("abc", 3, out, 4), 3, "name_encode exact fit");
	is_int(name_encode("abc", 3, out, 3), -1, "name_encode one short");
	is_int(name_encode("a b", 3, out, 6), 5, "name_encode escape exact fit");
	is_int(name_encode("a b", 3, out, 5), -1,
	    "name_encode escape one short");
	is_int(name_encode("", 0, out, 1), 0, "name_encode empty");
	is_int(name_encode("a", 1, out, 0), -1, "name_encode outsz 0");

	/* decode */
	snprintf(buf, sizeof(buf), "a%%2fb");
	is_int(name_decode(buf), 3, "name_decode lower-case escape");
	is_str(buf, "a/b", "name_decode lower-case escape value");
	snprintf(buf, sizeof(buf), "%%zz");
	is_int(name_decode(buf), -1, "name_decode '%zz' refused");
	snprintf(buf, sizeof(buf), "%%0");
	is_int(name_decode(buf), -1, "name_decode '%0' refused");
	snprintf(buf, sizeof(buf), "%%");
	is_int(name_decode(buf), -1, "name_decode '%' refused");
	snprintf(buf, sizeof(buf), "ab%%");
	is_int(name_decode(buf), -1, "name_decode trailing '%' refused");
	snprintf(buf, sizeof(buf), "%%00");
	is_int(name_decode(buf), -1, "name_decode '%00' refused");
	snprintf(buf, sizeof(buf), "a%%00b");
	is_int(name_decode(buf), -1, "name_decode 'a%00b' refused");
	snprintf(buf, sizeof(buf), "%%g0");
	is_int(name_decode(buf), -1, "name_decode '%g0' refused");
	snprintf(buf, sizeof(buf), "%%0g");
	is_int(name_decode(buf), -1, "name_decode '%0g' refused");
	snprintf(buf, sizeof(buf), "%%-1");
	is_int(name_decode(buf), -1, "name_decode '%-1' refused");
	snprintf(buf, sizeof(buf), "%s", "");
	is_int(name_decode(buf), 0, "name_decode empty");
}

static void
check_ok(const char *name, size_t len, const char *what)
{
	const char *msg = name_check(name, len);

	if (!ok(msg == NULL, "name_check accepts %s", what))
		fprintf(stderr, "#   got '%s'\n", msg);
}

static void
check_bad(const char *name, size_t len, const char *what)
{
	ok(name_check(name, len) != NULL, "name_check refuses %s", what);
}

static void
test_name_check(void)
{
	char	*big = malloc(GFS_MAX_NAME + 2);
	size_t	 i;

	check_bad("", 0, "empty");
	memset(big, 'a', GFS_MAX_NAME + 1);
	big[GFS_MAX_NAME + 1] = '\0';
	check_ok(big, GFS_MAX_NAME, "1024 bytes");
	check_bad(big, GFS_MAX_NAME + 1, "1025 bytes");
	/* 1024 bytes made of 2-byte characters, and one cut in half */
	for (i = 0; i + 1 < GFS_MAX_NAME; i += 2) {
		big[i] = '\xc3';
		big[i + 1] = '\xbc';
	}
	check_ok(big, GFS_MAX_NAME, "1024 bytes of U+00FC");
	check_bad(big, GFS_MAX_NAME - 1, "1023 bytes ending in half a U+00FC");
	free(big);

	check_ok("a", 1, "'a'");
	check_bad("notes@2", 7, "'notes@2' (reads as a version)");
	check_bad("a/b@0123", 8, "'a/b@0123'");
	check_ok("notes@v2", 8, "'notes@v2'");
	check_ok("notes@", 6, "'notes@'");
	check_ok("@", 1, "'@'");
	check_ok("a@1/b", 5, "'a@1/b'");
	check_ok("mail@example.com", 16, "'mail@example.com'");
	check_ok("a b/\xc3\xbc.txt", 10, "'a b/\xc3\xbc.txt'");
	check_ok("...", 3, "'...'");
	check_ok(".a", 2, "'.a'");
	check_ok("a.", 2, "'a.'");
	check_ok("..a/b..", 7, "'..a/b..'");
	check_ok("a/.../b", 7, "'a/.../b'");
	check_ok("dir/sub/file", 12, "'dir/sub/file'");
	check_ok("%@", 2, "'%@'");
	check_ok("\xe2\x82\xac", 3, "U+20AC");
	check_ok("\xf0\x9f\x98\x80", 4, "U+1F600");
	check_ok("\xf4\x8f\xbf\xbf", 4, "U+10FFFF");
	check_ok("\xed\x9f\xbf", 3, "U+D7FF");
	check_ok("\xee\x80\x80", 3, "U+E000");
	check_ok("\xc2\x80", 2, "U+0080");
	check_ok("\xef\xbf\xbf", 3, "U+FFFF");

	check_bad("a\tb", 3, "a tab");
	check_bad("a\nb", 3, "a newline");
	check_bad("\x01", 1, "0x01");
	check_bad("\x1f", 1, "0x1f");
	check_bad("a\x7f", 2, "DEL 0x7f");
	check_bad("a\0b", 3, "an embedded NUL");
	check_bad("\xc0\x80", 2, "overlong C0 80");
	check_bad("\xc1\xbf", 2, "overlong C1 BF");
	check_bad("\xe0\x80\xaf", 3, "overlong E0 80 AF");
	check_bad("\xf0\x80\x80\xaf", 4, "overlong F0 80 80 AF");
	check_bad("\xed\xa0\x80", 3, "surrogate ED A0 80");
	check_bad("\xed\xbf\xbf", 3, "surrogate ED BF BF");
	check_bad("a\xc3", 2, "truncated 2-byte sequence");
	check_bad("\xe2\x82", 2, "truncated 3-byte sequence");
	check_bad("\xf0\x9f\x98", 3, "truncated 4-byte sequence");
	check_bad("\xe2\x82" "a", 3, "3-byte sequence with ASCII third byte");
	check_bad("\xc3\xc3", 2, "lead byte as continuation");
	check_bad("\x80", 1, "lone continuation byte");
	check_bad("\xbf", 1, "lone continuation byte 0xbf");
	check_bad("\xf5\x80\x80\x80", 4, "F5");
	check_bad("\xf4\x90\x80\x80", 4, "F4 90 80 80 (> U+10FFFF)");
	check_bad("\xfe", 1, "FE");
	check_bad("\xff", 1, "FF");
	/* the length counts, not the NUL */
	check_bad("\xc3\xbc", 1, "a sequence cut by len");

	check_bad("a//b", 4, "'a//b'");
	check_bad("/a", 2, "'/a'");
	check_bad("a/", 2, "'a/'");
	check_bad("/", 1, "'/'");
	check_bad(".", 1, "'.'");
	check_bad("..", 2, "'..'");
	check_bad("a/./b", 5, "'a/./b'");
	check_bad("a/../b", 6, "'a/../b'");
	check_bad("./a", 3, "'./a'");
	check_bad("../a", 4, "'../a'");
	check_bad("a/.", 3, "'a/.'");
	check_bad("a/..", 4, "'a/..'");
}

int
main(void)
{
	plan(236);
	test_split();
	test_u64();
	test_duration();
	test_hostport();
	test_hash();
	test_txid();
	test_names_codec();
	test_name_check();
	return done_testing();
}
