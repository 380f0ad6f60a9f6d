/*
 * chunk-bench: fill one chunk server with made-up chunks over its text
 * protocol, or read them back with GET_BATCH as fast as it serves them.
 *
 *	chunk-bench fill [-n COUNT] [-s SIZE] [-t PER_TXN] [-S SEED] HOST:PORT
 *	chunk-bench get [-n COUNT] [-s SIZE] [-S SEED] [-c CONNS] [-k PER_LINE]
 *	    [-w LINES] [-d SECONDS] HOST:PORT
 *
 * Chunk i (0 <= i < COUNT, default 1000000) is SIZE bytes (default
 * 1024, 8 to 4096): a fixed pseudo-random pattern made from SEED, with
 * i in its first 8 bytes, so every chunk differs; its hash is its
 * SHA-256.  The same COUNT, SIZE and SEED give the same chunks.
 *
 * fill sends PUT_PENDING for PER_TXN chunks (default 4096) under one
 * txid, then COMMIT, with the next transaction written before the
 * replies of the last one are read, and checks every reply.
 *
 * get computes the hashes of all COUNT chunks, then keeps LINES lines
 * (default 4) of GET_BATCH in flight on each of CONNS connections
 * (default 1), each line PER_LINE (default 100, at most 250) hashes of
 * chunks picked at random, for SECONDS (default 5), then waits for what
 * is in flight.  Every chunk that comes back must be the one asked for,
 * SIZE bytes, with the SHA-256 of its hash; a chunk left out counts as
 * missing.
 *
 * Prints one line of "name value" pairs on stdout, progress on stderr.
 * Exit: 0 success, 1 a chunk missing or wrong, 2 usage or an address
 * outside 127.0.0.0/8, 3 a server error, an I/O error or a time-out.
 * Not run by make test: t/bench-million.sh uses it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"
#include "client.h"
#include "gfs.h"
#include "hash.h"
#include "hutil.h"
#include "proto.h"
#include "xmalloc.h"

#define EXIT_BAD	1
#define EXIT_USAGE	2
#define EXIT_FAIL	3
#define IO_TIMEOUT_MS	30000		/* no byte moves this long: fail */
#define FILL_MAX_S	1800		/* the whole fill, at most */
#define MAX_COUNT	100000000ULL
#define MAX_CONNS	64
#define MAX_LINES	64

static struct {
	uint64_t	 count;
	size_t		 size;
	uint64_t	 seed;
	uint8_t		*pattern;	/* size bytes */
} g;

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: chunk-bench fill [-n COUNT] [-s SIZE] [-t PER_TXN] "
	    "[-S SEED] HOST:PORT\n"
	    "       chunk-bench get [-n COUNT] [-s SIZE] [-S SEED] [-c CONNS] "
	    "[-k PER_LINE]\n"
	    "           [-w LINES] [-d SECONDS] HOST:PORT\n", stderr);
	exit(EXIT_USAGE);
}

static uint64_t
num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0)
		die(EXIT_USAGE, "bad %s '%s': want %llu to %llu", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64 */
static uint64_t
rnd(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
chunks_init(void)
{
	uint64_t	st = g.seed;
	size_t		i;

	g.pattern = xmalloc(g.size);
	for (i = 0; i < g.size; i++)
		g.pattern[i] = (uint8_t)rnd(&st);
}

/* Chunk i into buf (g.size bytes). */
static void
chunk_make(uint64_t i, uint8_t *buf)
{
	int k;

	memcpy(buf, g.pattern, g.size);
	for (k = 0; k < 8; k++)
		buf[k] = (uint8_t)(i >> (8 * k));
}

static void
conn_check(struct cconn *c, const char *what)
{
	if (c->err)
		die(EXIT_FAIL, "%s: %s: %s", c->addr, what, c->errmsg[0] ?
		    c->errmsg : gfs_strerror(c->err));
}

/* Read one reply line; an ERROR line or a failure ends the run. */
static char *
conn_line(struct cconn *c, const char *what)
{
	char	*line;
	int	 r = cconn_read_line(c, &line);

	if (r < 0)
		conn_check(c, what);
	if (strncmp(line, "ERROR", 5) == 0)
		die(EXIT_FAIL, "%s: %s: %s", c->addr, what, line);
	return line;
}

static void
conn_open(struct cconn *c, const char *addr)
{
	char		host[64];
	uint16_t	port;

	if (parse_hostport(addr, host, sizeof(host), &port) < 0)
		die(EXIT_USAGE, "bad address '%s'", addr);
	if (strncmp(host, "127.", 4) != 0)
		die(EXIT_USAGE, "refusing '%s': not in 127.0.0.0/8", addr);
	cconn_init(c, addr, IO_TIMEOUT_MS);
	if (cconn_open(c) < 0)
		conn_check(c, "connect");
}

/* Queue transaction t: chunks [lo, hi) then COMMIT. */
static void
fill_send(struct cconn *c, uint64_t t, uint64_t lo, uint64_t hi, uint8_t *buf)
{
	uint8_t	h[GFS_HASH_LEN];
	char	hex[GFS_HEX_LEN + 1];
	uint64_t i;

	for (i = lo; i < hi; i++) {
		chunk_make(i, buf);
		hash_sha256(buf, g.size, h);
		hash_hex(h, hex);
		cconn_printf(c, "PUT_PENDING fill%llu-%llu %s %zu\r\n",
		    (unsigned long long)g.seed, (unsigned long long)t, hex,
		    g.size);
		cconn_write(c, buf, g.size);
		cconn_write(c, "\r\n", 2);
	}
	cconn_printf(c, "COMMIT fill%llu-%llu\r\n", (unsigned long long)g.seed,
	    (unsigned long long)t);
}

/* Read the replies of a transaction of n chunks; returns those new. */
static uint64_t
fill_recv(struct cconn *c, uint64_t n)
{
	uint64_t	i, got;
	char		*line;

	for (i = 0; i < n; i++) {
		line = conn_line(c, "PUT_PENDING");
		if (strcmp(line, "STORED") != 0)
			die(EXIT_FAIL, "PUT_PENDING: unexpected reply '%.80s'",
			    line);
	}
	line = conn_line(c, "COMMIT");
	if (strncmp(line, "OK ", 3) != 0 ||
	    parse_u64(line + 3, 0, n, &got) < 0)
		die(EXIT_FAIL, "COMMIT: unexpected reply '%.80s'", line);
	return got;
}

static int
cmd_fill(int argc, char **argv)
{
	struct cconn	 c, *cp = &c;
	uint64_t	 per = 4096, t, ntx, fresh = 0, done = 0, shown = 0;
	uint8_t		*buf;
	double		 t0, t1;
	int		 ch;

	while ((ch = getopt(argc, argv, "n:s:t:S:")) != -1) {
		switch (ch) {
		case 'n': g.count = num("-n", optarg, 1, MAX_COUNT); break;
		case 's':
			g.size = (size_t)num("-s", optarg, 8, GFS_MAX_CHUNK);
			break;
		case 't': per = num("-t", optarg, 1, 65536); break;
		case 'S': g.seed = num("-S", optarg, 0, UINT32_MAX); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	chunks_init();
	buf = xmalloc(g.size);
	conn_open(&c, argv[optind]);
	ntx = (g.count + per - 1) / per;
	t0 = now_s();
	for (t = 0; t <= ntx; t++) {
		/* Write transaction t, then read the replies of t - 1. */
		if (t < ntx)
			fill_send(&c, t, t * per, t + 1 == ntx ? g.count :
			    (t + 1) * per, buf);
		cconn_pump(&cp, 1);
		conn_check(&c, "send");
		if (t == 0)
			continue;
		fresh += fill_recv(&c, t == ntx ? g.count - (t - 1) * per :
		    per);
		done = t == ntx ? g.count : t * per;
		if (done - shown >= 100000 || done == g.count) {
			fprintf(stderr, "chunk-bench: filled %llu of %llu, "
			    "%.0f chunks/s\n", (unsigned long long)done,
			    (unsigned long long)g.count,
			    (double)done / (now_s() - t0));
			shown = done;
		}
		if (now_s() - t0 > FILL_MAX_S)
			die(EXIT_FAIL, "fill: over %d s, stopped", FILL_MAX_S);
	}
	t1 = now_s();
	cconn_close(&c);
	free(buf);
	printf("chunks %llu new %llu bytes %llu seconds %.3f chunks_per_s %.0f "
	    "mb_per_s %.1f\n", (unsigned long long)g.count,
	    (unsigned long long)fresh, (unsigned long long)(g.count * g.size),
	    t1 - t0, (double)g.count / (t1 - t0),
	    (double)(g.count * g.size) / (t1 - t0) / 1e6);
	return 0;
}

/* One connection of the get run: its lines in flight, oldest first. */
struct getter {
	struct cconn	 c;
	uint32_t	*want;		/* chunk numbers, lines * per */
	int		 head, inflight;
};

static struct {
	uint8_t		(*hashes)[GFS_HASH_LEN];
	int		 per, lines;
	uint64_t	 rng;
	uint64_t	 got, missing, bad;
} gr;

static void
get_send(struct getter *q)
{
	uint32_t	*w = q->want + (size_t)((q->head + q->inflight) %
			    gr.lines) * (size_t)gr.per;
	char		 hex[GFS_HEX_LEN + 1];
	int		 k;

	cconn_write(&q->c, "GET_BATCH", 9);
	for (k = 0; k < gr.per; k++) {
		w[k] = (uint32_t)(rnd(&gr.rng) % g.count);
		hash_hex(gr.hashes[w[k]], hex);
		cconn_write(&q->c, " ", 1);
		cconn_write(&q->c, hex, GFS_HEX_LEN);
	}
	cconn_write(&q->c, "\r\n", 2);
	q->inflight++;
}

/* Read the reply to the oldest line in flight and check each chunk. */
static void
get_recv(struct getter *q)
{
	const uint32_t	*w = q->want + (size_t)q->head * (size_t)gr.per;
	const uint8_t	*data;
	uint8_t		 h[GFS_HASH_LEN], sum[GFS_HASH_LEN];
	uint64_t	 len;
	char		*line;
	int		 pos = 0;

	for (;;) {
		line = conn_line(&q->c, "GET_BATCH");
		if (strcmp(line, "END") == 0)
			break;
		if (strncmp(line, "VALUE ", 6) != 0 || strlen(line) < 6 +
		    GFS_HEX_LEN + 2 || line[6 + GFS_HEX_LEN] != ' ')
			die(EXIT_FAIL, "GET_BATCH: unexpected reply '%.80s'",
			    line);
		line[6 + GFS_HEX_LEN] = '\0';
		if (hash_parse(line + 6, h) < 0 ||
		    parse_u64(line + 7 + GFS_HEX_LEN, 0, GFS_MAX_CHUNK,
		    &len) < 0)
			die(EXIT_FAIL, "GET_BATCH: bad VALUE line");
		/* In request order; a chunk left out is missing. */
		while (pos < gr.per && memcmp(h, gr.hashes[w[pos]],
		    GFS_HASH_LEN) != 0) {
			gr.missing++;
			pos++;
		}
		if (pos == gr.per)
			die(EXIT_FAIL, "GET_BATCH: a chunk not asked for, %s",
			    line + 6);
		pos++;
		if (cconn_read_block(&q->c, (size_t)len, &data) < 0)
			conn_check(&q->c, "GET_BATCH data");
		hash_sha256(data, (size_t)len, sum);
		if (len != g.size || memcmp(sum, h, GFS_HASH_LEN) != 0)
			gr.bad++;
		else
			gr.got++;
	}
	gr.missing += (uint64_t)(gr.per - pos);
	q->head = (q->head + 1) % gr.lines;
	q->inflight--;
}

static int
cmd_get(int argc, char **argv)
{
	struct getter	*qs;
	struct cconn	*cs[MAX_CONNS];
	uint8_t		*buf;
	uint64_t	 i, seconds = 5, lastgot = 0;
	double		 t0, t1, tshow, end;
	int		 ch, conns = 1, k, busy;

	gr.per = 100;
	gr.lines = 4;
	while ((ch = getopt(argc, argv, "n:s:S:c:k:w:d:")) != -1) {
		switch (ch) {
		case 'n': g.count = num("-n", optarg, 1, MAX_COUNT); break;
		case 's':
			g.size = (size_t)num("-s", optarg, 8, GFS_MAX_CHUNK);
			break;
		case 'S': g.seed = num("-S", optarg, 0, UINT32_MAX); break;
		case 'c': conns = (int)num("-c", optarg, 1, MAX_CONNS); break;
		case 'k':
			gr.per = (int)num("-k", optarg, 1, GFS_MAX_BATCH);
			break;
		case 'w':
			gr.lines = (int)num("-w", optarg, 1, MAX_LINES);
			break;
		case 'd': seconds = num("-d", optarg, 1, 600); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	chunks_init();

	/* The hashes of all the chunks, so that any may be asked for. */
	t0 = now_s();
	buf = xmalloc(g.size);
	gr.hashes = xreallocarray(NULL, g.count, sizeof(*gr.hashes));
	for (i = 0; i < g.count; i++) {
		chunk_make(i, buf);
		hash_sha256(buf, g.size, gr.hashes[i]);
	}
	free(buf);
	fprintf(stderr, "chunk-bench: %llu hashes made in %.1f s\n",
	    (unsigned long long)g.count, now_s() - t0);

	gr.rng = g.seed ^ 0x5eed;
	qs = xcalloc((size_t)conns, sizeof(*qs));
	for (k = 0; k < conns; k++) {
		conn_open(&qs[k].c, argv[optind]);
		qs[k].want = xreallocarray(NULL, (size_t)gr.lines *
		    (size_t)gr.per, sizeof(*qs[k].want));
		cs[k] = &qs[k].c;
	}
	t0 = tshow = now_s();
	end = t0 + (double)seconds;
	for (k = 0; k < conns; k++)
		while (qs[k].inflight < gr.lines)
			get_send(&qs[k]);
	cconn_pump(cs, conns);
	/*
	 * Round robin: the oldest reply of each connection in turn, and a
	 * new line in its place until the time is up.  Bounded by the time
	 * and, per reply, by the I/O time-out.
	 */
	do {
		busy = 0;
		for (k = 0; k < conns; k++) {
			if (qs[k].inflight == 0)
				continue;
			get_recv(&qs[k]);
			if (now_s() < end) {
				get_send(&qs[k]);
				if (cconn_flush(&qs[k].c) < 0)
					conn_check(&qs[k].c, "send");
			}
			busy += qs[k].inflight;
		}
		if ((t1 = now_s()) - tshow >= 1) {
			fprintf(stderr, "chunk-bench: %.0f chunks/s\n",
			    (double)(gr.got - lastgot) / (t1 - tshow));
			tshow = t1;
			lastgot = gr.got;
		}
	} while (busy > 0);
	t1 = now_s();
	for (k = 0; k < conns; k++) {
		cconn_close(&qs[k].c);
		free(qs[k].want);
	}
	free(qs);
	free(gr.hashes);
	printf("chunks %llu missing %llu bad %llu seconds %.3f chunks_per_s "
	    "%.0f mb_per_s %.1f conns %d per_line %d lines %d\n",
	    (unsigned long long)gr.got, (unsigned long long)gr.missing,
	    (unsigned long long)gr.bad, t1 - t0, (double)gr.got / (t1 - t0),
	    (double)(gr.got * g.size) / (t1 - t0) / 1e6, conns, gr.per,
	    gr.lines);
	if (gr.missing || gr.bad) {
		fprintf(stderr, "chunk-bench: %llu chunks missing, %llu "
		    "wrong\n", (unsigned long long)gr.missing,
		    (unsigned long long)gr.bad);
		return EXIT_BAD;
	}
	return 0;
}

const char *helper_name = "chunk-bench";

int
main(int argc, char **argv)
{
	g.count = 1000000;
	g.size = GFS_CHUNK_SIZE;
	g.seed = 1;
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "fill") == 0)
		return cmd_fill(argc - 1, argv + 1);
	if (strcmp(argv[1], "get") == 0)
		return cmd_get(argc - 1, argv + 1);
	usage();
}
