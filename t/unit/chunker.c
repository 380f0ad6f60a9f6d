/*
 * Unit tests for lib/chunker.c, fixed and content-defined (cdc): pipes
 * written in odd-sized pieces by a child, pre-filled pipes and regular
 * files give the same chunks; cdc sizes stay in bounds, average about
 * 1 KB, are pinned for known input (they are part of the dedup
 * contract), and survive an inserted line.
 */
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunker.h"
#include "gfs.h"
#include "hash.h"
#include "tap.h"

static const size_t sizes[] = { 0, 1, 1023, 1024, 1025, 2048, 3072, 100000 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))
static const size_t cdc_sizes[] = { 0, 1, 255, 256, 257, 4095, 4096, 4097,
    16385, 100000 };
#define NCDC_SIZES	(sizeof(cdc_sizes) / sizeof(cdc_sizes[0]))
#define PREFILL_MAX	60000	/* fits in a default 64 KB pipe */

/* The chunks of one run: their lengths, in order. */
struct run {
	size_t	*lens;
	size_t	 n;
};

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static unsigned char *
make_data(size_t len, uint32_t seed)
{
	unsigned char	*d = malloc(len ? len : 1);
	uint32_t	 x = seed * 2654435761u + 1;
	size_t		 i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (unsigned char)x;
	}
	return d;
}

/*
 * Text-like data: words drawn by a fixed PRNG, lines of about 60
 * characters.  Exactly len bytes.
 */
static unsigned char *
make_text(size_t len, uint32_t seed)
{
	static const char *const words[] = {
		"the", "of", "and", "a", "to", "in", "is", "you", "that",
		"it", "was", "for", "on", "are", "as", "with", "they", "be",
		"at", "this", "have", "from", "or", "one", "by", "word",
		"but", "not", "what", "all", "were", "when", "your", "can",
		"there", "chunk", "server", "leader", "replica", "version",
		"document", "design", "protocol", "storage", "commit",
	};
	unsigned char	*d = malloc(len + 16);
	uint32_t	 x = seed * 2654435761u + 1;
	size_t		 i = 0, col = 0, w;

	while (i < len) {
		const char *word;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		word = words[x % (sizeof(words) / sizeof(words[0]))];
		w = strlen(word);
		memcpy(d + i, word, w < len - i ? w : len - i);
		i += w;
		col += w + 1;
		if (i < len)
			d[i++] = col >= 60 ? '\n' : ' ';
		if (col >= 60)
			col = 0;
	}
	return d;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Chunk fd to its end in mode and check the result against data: two
 * tests, the chunk structure and the content.  Fixed: full chunks but the
 * last.  Cdc: CDC_MIN_SIZE to GFS_MAX_CHUNK bytes but the last, which may
 * be shorter.  Both: none empty, nothing written past the mode's largest
 * chunk, 0 again at the end.  The lengths go to *r when r is not NULL.
 */
static void
check_chunks(int fd, const unsigned char *data, size_t len, int mode,
    const char *how, struct run *r)
{
	struct chunker	*c = malloc(sizeof(*c));
	size_t		 max = mode == CHUNK_FIXED ? GFS_CHUNK_SIZE :
			    GFS_MAX_CHUNK;
	size_t		 min = mode == CHUNK_FIXED ? GFS_CHUNK_SIZE :
			    CDC_MIN_SIZE;
	unsigned char	*buf = malloc(GFS_MAX_CHUNK + 16);
	unsigned char	*got = malloc(len + GFS_MAX_CHUNK + 16);
	size_t		 cap = len / CDC_MIN_SIZE + 2;
	size_t		*lens = malloc(sizeof(size_t) * cap);
	size_t		 total = 0, nchunks = 0, short_at = SIZE_MAX, want;
	int		 n, shape = 1, guard = 1, k;

	chunker_init(c, fd, mode);
	for (;;) {
		memset(buf + max, 0xa5, 16);
		n = chunker_next(c, buf);
		for (k = 0; k < 16; k++)
			if (buf[max + k] != 0xa5)
				guard = 0;
		if (n <= 0)
			break;
		if ((size_t)n > max || total + (size_t)n > len ||
		    nchunks == cap) {
			shape = 0;
			fprintf(stderr, "#   %s: chunk %zu of %d bytes at %zu\n",
			    how, nchunks, n, total);
			break;
		}
		if (short_at != SIZE_MAX) {
			shape = 0;	/* a chunk after a short one */
			fprintf(stderr, "#   %s: chunk %zu follows short "
			    "chunk %zu\n", how, nchunks, short_at);
		}
		if ((size_t)n < min)
			short_at = nchunks;
		memcpy(got + total, buf, (size_t)n);
		total += (size_t)n;
		lens[nchunks++] = (size_t)n;
	}
	if (n < 0)
		fprintf(stderr, "#   %s: chunker_next returned %d\n", how, n);
	if (mode == CHUNK_FIXED) {
		want = (len + GFS_CHUNK_SIZE - 1) / GFS_CHUNK_SIZE;
		if (nchunks != want)
			fprintf(stderr, "#   %s: %zu chunks, expected %zu\n",
			    how, nchunks, want);
		ok(n == 0 && shape && guard && nchunks == want &&
		    chunker_next(c, buf) == 0,
		    "%s, %zu bytes: %zu chunks, full but the last, none "
		    "empty, 0 again at the end", how, len, want);
	} else
		ok(n == 0 && shape && guard && (nchunks > 0) == (len > 0) &&
		    chunker_next(c, buf) == 0,
		    "cdc %s, %zu bytes: %zu chunks of %d to %d bytes but the "
		    "last, none empty, 0 again at the end", how, len, nchunks,
		    CDC_MIN_SIZE, GFS_MAX_CHUNK);
	if (!ok(total == len && memcmp(got, data, len) == 0,
	    "%s%s, %zu bytes: concatenation equals the input",
	    mode == CHUNK_FIXED ? "" : "cdc ", how, len))
		fprintf(stderr, "#   %zu bytes out\n", total);
	if (r != NULL) {
		r->lens = lens;
		r->n = nchunks;
	} else
		free(lens);
	free(buf);
	free(got);
	free(c);
}

/* One test: the boundaries of a run are those of the reference run. */
static void
same_cuts(const struct run *ref, struct run *r, const char *how, size_t len)
{
	size_t	i;
	int	same = r->n == ref->n;

	for (i = 0; same && i < r->n; i++)
		if (r->lens[i] != ref->lens[i]) {
			fprintf(stderr, "#   %s: chunk %zu is %zu bytes, %zu "
			    "from a regular file\n", how, i, r->lens[i],
			    ref->lens[i]);
			same = 0;
		}
	if (r->n != ref->n)
		fprintf(stderr, "#   %s: %zu chunks, %zu from a regular file\n",
		    how, r->n, ref->n);
	ok(same, "cdc %s, %zu bytes: the same boundaries as a regular file",
	    how, len);
	free(r->lens);
}

/* A child writes data to a pipe in odd-sized pieces, pausing between. */
static void
from_child(const unsigned char *data, size_t len, int mode, int with_signals,
    struct run *r)
{
	static const size_t pieces[] = { 1, 7, 1000, 3000, 13, 1024, 2 };
	char		 how[64];
	int		 p[2], status = -1;
	pid_t		 pid;
	struct sigaction sa;
	struct itimerval it;

	if (pipe(p) < 0) {
		perror("pipe");
		exit(255);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(255);
	}
	if (pid == 0) {
		size_t off = 0, i = 0;

		close(p[0]);
		while (off < len) {
			size_t n = pieces[i++ % (sizeof(pieces) /
			    sizeof(pieces[0]))];

			if (n > len - off)
				n = len - off;
			if (write_all(p[1], data + off, n) < 0)
				_exit(1);
			off += n;
			usleep(200);
		}
		_exit(0);
	}
	close(p[1]);

	if (with_signals) {
		/* Interrupt the blocked reads: no SA_RESTART, so EINTR. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		it.it_interval.tv_sec = 0;
		it.it_interval.tv_usec = 300;
		it.it_value = it.it_interval;
		alarms = 0;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	snprintf(how, sizeof(how), "pipe from child%s",
	    with_signals ? " under SIGALRM" : "");
	check_chunks(p[0], data, len, mode, how, r);
	if (with_signals) {
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
		printf("# %d SIGALRMs during the read\n", (int)alarms);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "#   writer child failed, status %d\n", status);
}

static void
from_prefilled_pipe(const unsigned char *data, size_t len, int mode,
    struct run *r)
{
	int	p[2];

	if (pipe(p) < 0 || write_all(p[1], data, len) < 0) {
		perror("pipe");
		exit(255);
	}
	close(p[1]);
	check_chunks(p[0], data, len, mode, "pre-filled pipe", r);
	close(p[0]);
}

static int
temp_file(const unsigned char *data, size_t len)
{
	char	path[] = "/tmp/gfs-chunker-XXXXXX";
	int	fd = mkstemp(path);

	if (fd < 0 || write_all(fd, data, len) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		perror(path);
		exit(255);
	}
	unlink(path);
	return fd;
}

static void
from_file(const unsigned char *data, size_t len, int mode, struct run *r)
{
	int	fd = temp_file(data, len);

	check_chunks(fd, data, len, mode, "regular file", r);
	close(fd);
}

/* The chunks of data in mode, from a regular file; no tests. */
static struct run
chunk_mem(const unsigned char *data, size_t len, int mode)
{
	static unsigned char	 buf[GFS_MAX_CHUNK];
	static struct chunker	 c;
	struct run		 r;
	size_t			 cap = 1024;
	int			 fd = temp_file(data, len), n;

	r.lens = malloc(sizeof(size_t) * cap);
	r.n = 0;
	chunker_init(&c, fd, mode);
	while ((n = chunker_next(&c, buf)) > 0) {
		if (r.n == cap) {
			cap *= 2;
			r.lens = realloc(r.lens, sizeof(size_t) * cap);
		}
		r.lens[r.n++] = (size_t)n;
	}
	if (n < 0) {
		fprintf(stderr, "chunk_mem: chunker_next returned %d\n", n);
		exit(255);
	}
	close(fd);
	return r;
}

/* Fixed mode: the tests of before, now that the chunker has modes. */
static void
test_fixed(void)
{
	unsigned char	*data;
	size_t		 i;

	for (i = 0; i < NSIZES; i++) {
		data = make_data(sizes[i], (uint32_t)i);
		from_child(data, sizes[i], CHUNK_FIXED, 0, NULL);
		if (sizes[i] <= PREFILL_MAX)
			from_prefilled_pipe(data, sizes[i], CHUNK_FIXED, NULL);
		from_file(data, sizes[i], CHUNK_FIXED, NULL);
		free(data);
	}
	data = make_data(100000, 99);
	from_child(data, 100000, CHUNK_FIXED, 1, NULL);
	free(data);
}

/*
 * Cdc over every way in: the regular file sets the boundaries, the pipes
 * must find the same ones whatever their read sizes.
 */
static void
cdc_ways(const unsigned char *data, size_t len, int with_signals)
{
	struct run	ref, r;

	from_file(data, len, CHUNK_CDC, &ref);
	from_child(data, len, CHUNK_CDC, 0, &r);
	same_cuts(&ref, &r, "pipe from child", len);
	if (with_signals) {
		from_child(data, len, CHUNK_CDC, 1, &r);
		same_cuts(&ref, &r, "pipe from child under SIGALRM", len);
	}
	if (len <= PREFILL_MAX) {
		from_prefilled_pipe(data, len, CHUNK_CDC, &r);
		same_cuts(&ref, &r, "pre-filled pipe", len);
	}
	free(ref.lens);
}

static void
test_cdc_ways(void)
{
	unsigned char	*data;
	struct run	 r;
	size_t		 i;

	for (i = 0; i < NCDC_SIZES; i++) {
		data = make_data(cdc_sizes[i], (uint32_t)(100 + i));
		cdc_ways(data, cdc_sizes[i], 0);
		free(data);
	}
	data = make_text(200000, 1);
	cdc_ways(data, 200000, 1);
	free(data);

	/* No content cut in a run of zeros: only the maximum size cuts. */
	data = calloc(1, 3 * GFS_MAX_CHUNK + 100);
	cdc_ways(data, 3 * GFS_MAX_CHUNK + 100, 0);
	r = chunk_mem(data, 3 * GFS_MAX_CHUNK + 100, CHUNK_CDC);
	ok(r.n == 4 && r.lens[0] == GFS_MAX_CHUNK && r.lens[1] ==
	    GFS_MAX_CHUNK && r.lens[2] == GFS_MAX_CHUNK && r.lens[3] == 100,
	    "cdc, %d zero bytes: cut at every %d bytes, 100 left",
	    3 * GFS_MAX_CHUNK + 100, GFS_MAX_CHUNK);
	free(r.lens);
	free(data);
}

/* Mean chunk size over 1 MB of text and of random bytes. */
static void
test_cdc_average(void)
{
	const size_t	 len = 1 << 20;
	unsigned char	*data;
	struct run	 r;
	double		 avg;
	int		 text;

	for (text = 1; text >= 0; text--) {
		data = text ? make_text(len, 2) : make_data(len, 2);
		r = chunk_mem(data, len, CHUNK_CDC);
		avg = (double)len / (double)r.n;
		ok(avg >= 700 && avg <= 1400, "cdc over 1 MB of %s: mean chunk "
		    "%.0f bytes (%zu chunks), within 700 to 1400",
		    text ? "text" : "random bytes", avg, r.n);
		free(r.lens);
		free(data);
	}
}

/*
 * The boundaries are part of the dedup contract: pin them for known
 * input.  If this fails, stored chunks of cdc files no longer dedup
 * against new ones; a new algorithm needs a new mode name instead.  Both
 * lists agree with a separate model of the algorithm written from the
 * comment in lib/chunker.c (splitmix64 table, masks, sizes).
 */
/* One test: chunking data in cdc mode gives exactly the lengths want. */
static void
pinned(const unsigned char *data, size_t len, const size_t *want, size_t n,
    const char *what)
{
	struct run	r = chunk_mem(data, len, CHUNK_CDC);
	size_t		i;
	int		same = r.n == n;

	for (i = 0; same && i < n; i++)
		if (r.lens[i] != want[i]) {
			fprintf(stderr, "#   chunk %zu is %zu bytes, pinned %zu\n",
			    i, r.lens[i], want[i]);
			same = 0;
		}
	if (r.n != n)
		fprintf(stderr, "#   %zu chunks, pinned %zu\n", r.n, n);
	ok(same, "cdc boundaries of %s are the pinned ones (%zu chunks)",
	    what, n);
	free(r.lens);
}

static void
test_cdc_pinned(void)
{
	static const size_t text_lens[] = {
		760, 1341, 1049, 775, 518, 2240, 1306, 729, 538, 2659, 2118,
		757, 2287, 681, 598, 1554, 871, 1071, 981, 1405, 413, 764,
		511, 1953, 1239, 862, 399, 1176, 658, 1253, 802, 1091, 819,
		574, 328, 2721, 1155, 761, 1052, 1337, 406, 708, 827, 600,
		267, 358, 765, 703, 1848, 1417, 302, 3001, 1566, 427, 1076,
		652, 882, 1171, 594, 509, 1365, 351, 592, 1043,
	};
	static const size_t rand_lens[] = {
		745, 1543, 662, 722, 786, 525, 430, 1001, 918, 575, 1216,
		1470, 1168, 1610, 434, 965, 834, 1019, 685, 1287, 1589,
		1003, 2481, 689, 1847, 1650, 651, 840, 867, 723, 921, 472,
		1687, 2350, 1099, 526, 1055, 895, 817, 677, 1379, 347, 1105,
		680, 333, 713, 1027, 664, 908, 1477, 769, 1853, 1760, 2039,
		995, 346, 666, 258, 1220, 1527, 768, 1143, 695, 925, 505,
	};
	unsigned char	*data;

	data = make_text(65536, 3);
	pinned(data, 65536, text_lens, sizeof(text_lens) /
	    sizeof(text_lens[0]), "64 KB of text");
	free(data);
	data = make_data(65536, 3);
	pinned(data, 65536, rand_lens, sizeof(rand_lens) /
	    sizeof(rand_lens[0]), "64 KB of random bytes");
	free(data);
}

/* Insert a line of text at the start of the line at or after off. */
static unsigned char *
insert_line(const unsigned char *d, size_t len, size_t off,
    const char *line, size_t *newlen)
{
	size_t		 n = strlen(line);
	unsigned char	*out = malloc(len + n);

	while (off > 0 && off < len && d[off - 1] != '\n')
		off++;
	memcpy(out, d, off);
	memcpy(out + off, line, n);
	memcpy(out + off + n, d + off, len - off);
	*newlen = len + n;
	return out;
}

/*
 * Percent of the chunks of b, by count and by bytes, whose SHA-256 is
 * among the chunks of a.
 */
static void
reused(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen, int mode, double *pct_chunks, double *pct_bytes)
{
	struct run	 ra = chunk_mem(a, alen, mode);
	struct run	 rb = chunk_mem(b, blen, mode);
	uint8_t		(*ha)[GFS_HASH_LEN] = malloc(GFS_HASH_LEN * ra.n);
	uint8_t		 h[GFS_HASH_LEN];
	size_t		 i, j, off = 0, hits = 0, bytes = 0;

	for (i = 0; i < ra.n; i++) {
		hash_sha256(a + off, ra.lens[i], ha[i]);
		off += ra.lens[i];
	}
	for (i = 0, off = 0; i < rb.n; i++) {
		hash_sha256(b + off, rb.lens[i], h);
		for (j = 0; j < ra.n; j++)
			if (memcmp(h, ha[j], GFS_HASH_LEN) == 0) {
				hits++;
				bytes += rb.lens[i];
				break;
			}
		off += rb.lens[i];
	}
	*pct_chunks = rb.n ? 100.0 * (double)hits / (double)rb.n : 0;
	*pct_bytes = blen ? 100.0 * (double)bytes / (double)blen : 0;
	free(ha);
	free(ra.lens);
	free(rb.lens);
}

/*
 * The point of cdc: a 64 KB document with a line inserted near its start
 * and one in its middle re-uses almost all chunks of the original.
 */
static void
test_cdc_dedup(void)
{
	const size_t	 len = 65536;
	unsigned char	*orig = make_text(len, 4), *tmp, *edited;
	size_t		 tlen, elen;
	double		 fc, fb, cc, cb;

	tmp = insert_line(orig, len, 150,
	    "An inserted line, near the start of the document.\n", &tlen);
	edited = insert_line(tmp, tlen, tlen / 2,
	    "And another one, in the middle, a little longer than that.\n",
	    &elen);
	reused(orig, len, edited, elen, CHUNK_FIXED, &fc, &fb);
	reused(orig, len, edited, elen, CHUNK_CDC, &cc, &cb);
	printf("# 64 KB text, a line inserted near the start and one in the "
	    "middle:\n#   chunks of the edit already stored: fixed %.1f%% "
	    "(%.1f%% of bytes), cdc %.1f%% (%.1f%% of bytes)\n", fc, fb, cc,
	    cb);
	ok(cc >= 85, "cdc: %.1f%% of the edited version's chunks are "
	    "chunks of the original, at least 85%%", cc);
	free(orig);
	free(tmp);
	free(edited);
}

static void
test_names(void)
{
	is_str(chunking_name(CHUNK_FIXED), "fixed", "chunking_name fixed");
	is_str(chunking_name(CHUNK_CDC), "cdc", "chunking_name cdc");
	is_str(chunking_name(-1), NULL, "chunking_name -1: NULL");
	is_str(chunking_name(2), NULL, "chunking_name 2: NULL");
	is_int(chunking_parse("fixed"), CHUNK_FIXED, "chunking_parse fixed");
	is_int(chunking_parse("cdc"), CHUNK_CDC, "chunking_parse cdc");
	is_int(chunking_parse("CDC"), -1, "chunking_parse CDC: -1");
	is_int(chunking_parse(""), -1, "chunking_parse empty: -1");
	is_int(chunking_parse("cdc "), -1, "chunking_parse 'cdc ': -1");
	is_int(chunking_parse("fixe"), -1, "chunking_parse fixe: -1");
}

static void
test_errors(void)
{
	struct chunker	 c;
	unsigned char	 buf[GFS_MAX_CHUNK];
	int		 p[2], mode;

	for (mode = CHUNK_FIXED; mode <= CHUNK_CDC; mode++) {
		chunker_init(&c, -1, mode);
		ok(chunker_next(&c, buf) == GFS_EIO, "%s, bad fd: GFS_EIO",
		    chunking_name(mode));
		if (pipe(p) < 0)
			exit(255);
		close(p[1]);
		chunker_init(&c, p[0], mode);
		ok(chunker_next(&c, buf) == 0, "%s, empty pipe: 0 at once",
		    chunking_name(mode));
		ok(chunker_next(&c, buf) == 0, "%s, empty pipe: 0 again",
		    chunking_name(mode));
		close(p[0]);
	}
	chunker_init(&c, 0, 7);
	is_int(chunker_next(&c, buf), GFS_EINVAL, "unknown mode: GFS_EINVAL");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_fixed();
	test_cdc_ways();
	test_cdc_average();
	test_cdc_pinned();
	test_cdc_dedup();
	test_names();
	test_errors();
	return done_testing();
}
