/*
 * dedup-measure: what fixed and content-defined chunking store for a
 * document edited again and again.
 *
 *	dedup-measure [-n EDITS] [-s SEED] [FILE]
 *
 * Takes FILE (default /usr/share/common-licenses/GPL-3) as version 0 and
 * makes EDITS (default 20) successive versions, each the previous one
 * with a line (odd versions) or a paragraph of 3 to 6 lines (even ones)
 * of made-up words inserted at a line start in its middle half.  Every
 * version is chunked in each mode; a chunk is stored once per distinct
 * SHA-256, as the chunk servers do.  Prints the raw bytes of all the
 * versions and, per mode, the chunks and bytes that would be stored.
 * The edits come from a fixed PRNG: the same SEED, the same numbers.
 *
 * Exit: 0 success, 2 usage, 3 any other failure.  Not run by make test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "chunker.h"
#include "gfs.h"
#include "hash.h"

#define DEFAULT_FILE	"/usr/share/common-licenses/GPL-3"
#define MAX_INPUT	(16 * 1024 * 1024)
#define MAX_EDITS	1000

struct rec {
	uint8_t		hash[GFS_HASH_LEN];
	uint32_t	len;
};

struct recs {
	struct rec	*r;
	size_t		 n, cap;
};

static uint32_t	rng = 2463534242u;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("dedup-measure: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: dedup-measure [-n EDITS] [-s SEED] [FILE]\n", stderr);
	exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		die("out of memory");
	return p;
}

/* xorshift32: fixed, so runs compare. */
static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

static unsigned long
num(const char *s, unsigned long max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max)
		usage();
	return v;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*d = xrealloc(NULL, MAX_INPUT);

	if (f == NULL)
		die("cannot open '%s': %s", path, strerror(errno));
	*len = fread(d, 1, MAX_INPUT, f);
	if (ferror(f))
		die("cannot read '%s': %s", path, strerror(errno));
	if (*len == MAX_INPUT)
		die("'%s' is larger than %d bytes", path, MAX_INPUT - 1);
	fclose(f);
	return d;
}

/* A line of made-up words, about 60 characters and a newline. */
static size_t
make_line(char *out)
{
	static const char *const words[] = {
		"the", "program", "license", "software", "free", "of", "and",
		"copy", "source", "code", "work", "to", "a", "you", "may",
		"distribute", "modify", "terms", "conditions", "patent",
		"any", "with", "covered", "this", "version", "user",
	};
	size_t	n = 0, w;

	while (n < 60) {
		const char *s = words[rnd(sizeof(words) / sizeof(words[0]))];

		w = strlen(s);
		memcpy(out + n, s, w);
		n += w;
		out[n++] = ' ';
	}
	out[n - 1] = '\n';
	return n;
}

/* Insert a line or a paragraph at a line start in the middle half. */
static char *
edit(const char *d, size_t len, int paragraph, size_t *newlen)
{
	char	 ins[8 * 128], *out;
	size_t	 at, n = 0;
	int	 lines = paragraph ? 3 + (int)rnd(4) : 1, i;

	at = len / 4 + (len / 2 ? rnd((uint32_t)(len / 2)) : 0);
	while (at < len && at > 0 && d[at - 1] != '\n')
		at++;
	if (paragraph)
		ins[n++] = '\n';
	for (i = 0; i < lines; i++)
		n += make_line(ins + n);
	out = xrealloc(NULL, len + n);
	memcpy(out, d, at);
	memcpy(out + at, ins, n);
	memcpy(out + at + n, d + at, len - at);
	*newlen = len + n;
	return out;
}

/* Chunk data in mode, through a file as gfs put would, into rs. */
static void
chunk_all(const char *d, size_t len, int mode, struct recs *rs)
{
	static unsigned char	 buf[GFS_MAX_CHUNK];
	static struct chunker	 c;
	FILE			*f = tmpfile();
	int			 n;

	if (f == NULL || fwrite(d, 1, len, f) != len || fflush(f) != 0)
		die("cannot write a temporary file: %s", strerror(errno));
	rewind(f);
	chunker_init(&c, fileno(f), mode);
	while ((n = chunker_next(&c, buf)) > 0) {
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 1024;
			rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
		}
		hash_sha256(buf, (size_t)n, rs->r[rs->n].hash);
		rs->r[rs->n++].len = (uint32_t)n;
	}
	if (n < 0)
		die("cannot chunk: %s", gfs_strerror(n));
	fclose(f);
}

static int
rec_cmp(const void *a, const void *b)
{
	return memcmp(((const struct rec *)a)->hash,
	    ((const struct rec *)b)->hash, GFS_HASH_LEN);
}

/* Distinct chunks and their bytes; sorts rs. */
static void
unique(struct recs *rs, size_t *chunks, uint64_t *bytes)
{
	size_t	i;

	qsort(rs->r, rs->n, sizeof(*rs->r), rec_cmp);
	*chunks = 0;
	*bytes = 0;
	for (i = 0; i < rs->n; i++)
		if (i == 0 || rec_cmp(&rs->r[i - 1], &rs->r[i]) != 0) {
			(*chunks)++;
			*bytes += rs->r[i].len;
		}
}

int
main(int argc, char **argv)
{
	static const int modes[] = { CHUNK_FIXED, CHUNK_CDC };
	struct recs	 rs[2];
	const char	*path = DEFAULT_FILE;
	char		*d, *next;
	size_t		 len, newlen, chunks;
	uint64_t	 raw = 0, bytes;
	unsigned long	 edits = 20;
	int		 ch, k, m;

	while ((ch = getopt(argc, argv, "n:s:")) != -1) {
		switch (ch) {
		case 'n':
			edits = num(optarg, MAX_EDITS);
			break;
		case 's':
			rng = (uint32_t)num(optarg, UINT32_MAX);
			if (rng == 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if (argc - optind == 1)
		path = argv[optind];

	memset(rs, 0, sizeof(rs));
	d = slurp(path, &len);
	printf("document %s, %zu bytes; %lu edits, so %lu versions\n", path,
	    len, edits, edits + 1);
	for (k = 0; ; k++) {
		raw += len;
		for (m = 0; m < 2; m++)
			chunk_all(d, len, modes[m], &rs[m]);
		if ((unsigned long)k == edits)
			break;
		next = edit(d, len, k % 2, &newlen);
		free(d);
		d = next;
		len = newlen;
	}
	printf("last version %zu bytes; raw total of all versions %llu bytes\n",
	    len, (unsigned long long)raw);
	printf("%-6s %8s %8s %12s %7s\n", "mode", "chunks", "unique",
	    "stored bytes", "of raw");
	for (m = 0; m < 2; m++) {
		size_t total = rs[m].n;

		unique(&rs[m], &chunks, &bytes);
		printf("%-6s %8zu %8zu %12llu %6.1f%%\n", chunking_name(modes[m]),
		    total, chunks, (unsigned long long)bytes,
		    raw ? 100.0 * (double)bytes / (double)raw : 0.0);
		free(rs[m].r);
	}
	free(d);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write output");
	return 0;
}
