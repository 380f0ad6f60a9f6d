/*
 * gfs bench [--op put|get|mixed|lookup] [--files N]
 *     [--size BYTES | corpus DIR] [--clients C] [--duration DURATION]
 *     [--pipeline N] [--json] [--keep]
 *
 * redis-benchmark for gfs: C client processes, forked, each with its
 * own struct gfs and connections, time every operation on
 * CLOCK_MONOTONIC.  Client k works on bench/<pid>/<k>/<i>, pid being
 * the parent's, so runs and clients never share a name.  The run ends
 * after N operations in all or after DURATION, whichever comes first.
 *
 *	put	a new file of BYTES pseudo-random bytes each time, or
 *		the next file of the corpus;
 *	get	LOOKUP and GET_BATCH of a file, as gfs get does; the files
 *		are put first, untimed (at most N, for at most DURATION),
 *		and read round robin;
 *	lookup	LOOKUP only, of files put first as for get; with
 *		--pipeline N, N at a time on each connection (as
 *		redis-benchmark -P), each timed from the send to the
 *		last of the N replies;
 *	mixed	one put in ten, the others gets of files put so far.
 *
 * With --size corpus DIR the files put are the regular files under
 * DIR (walked once, sorted by name, before anything else; at most
 * BENCH_MAX_CORPUS of them; those that cannot be opened are left out).
 * Operation i of all (client i % C) puts file i % F of the F in the
 * corpus, so N defaults to F: each written once.  The bytes are real
 * documents and MB/s counts what they hold.
 *
 * The phases are kept in step by barriers: the parent holds the write
 * end of a pipe every child reads, and closing it lets all go at once.
 *
 *	setup	(get, lookup) put the files, then send 'R' up the child's
 *		own pipe and wait for "go";
 *	run	the timed operations; then send a struct result and the
 *		latencies (nanoseconds) up the pipe;
 *	cleanup	after "clean", purge every file written, unless --keep,
 *		and send the number of purges that failed.
 *
 * The parent sums up: operations, seconds (first start to last end),
 * ops/s, MB/s (10^6 bytes) and latency percentiles (nearest rank) over
 * the operations that succeeded.  Every failed operation, and every
 * failed purge, counts in errors; any error makes the exit status 3.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "banned.h"
#include "cli.h"
#include "proto.h"
#include "xmalloc.h"

#define BENCH_MAX_FILES		10000000ULL	/* operations of one run */
#define BENCH_MAX_CLIENTS	256
#define BENCH_BLOCK		65536		/* bytes generated at a time */
#define BENCH_MAX_CORPUS	100000		/* files taken from a corpus */
#define BENCH_MAX_WALK		1000000		/* entries looked at for it */

enum { OP_PUT, OP_GET, OP_MIXED, OP_LOOKUP };
static const char *const op_names[] = { "put", "get", "mixed", "lookup" };

struct bench {
	int		 op;
	uint64_t	 files;
	uint64_t	 size;
	const char	*corpus;	/* DIR of --size corpus, or NULL */
	char		**cpath;	/* its files, in the order of the walk */
	uint64_t	 nfiles;	/* how many */
	uint64_t	 cbytes;	/* and their bytes, as stat saw them */
	int		 clients;
	int		 pipeline;	/* lookups in flight per client */
	uint64_t	 duration_ns;
	int		 json;
	int		 keep;
	char		 prefix[64];	/* bench/<pid> */
	char		 leader[64];
	int		 timeout_ms;
};

/* What a child sends up its pipe after the timed phase. */
struct result {
	uint64_t	 ops;		/* timed operations, failed ones too */
	uint64_t	 errors;	/* failed operations, setup included */
	uint64_t	 bytes;		/* moved by the ones that succeeded */
	uint64_t	 start_ns, end_ns;
	uint64_t	 nlat;		/* latencies that follow */
};

struct client {
	struct gfs		 g;
	const struct bench	*b;
	int			 id;
	int			 fd;		/* memfd: the bytes to put */
	int			 null;		/* /dev/null: where gets go */
	uint64_t		 quota;		/* this client's share of N */
	uint64_t		 nwritten;	/* files 0 .. nwritten-1 exist */
	uint64_t		 nput;		/* puts tried, failed ones too */
	uint64_t		 nread;		/* next file to read */
	uint64_t		 rng;
	uint8_t			*block;
	struct result		 res;
	uint64_t		*lat;
	size_t			 cap;
	int			 said;		/* an error was reported */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: file contents, so that no two files share a chunk. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0, or -1 at end of file (or an error) before n bytes. */
static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Wait until the parent closes the pipe of a barrier. */
static void
barrier_wait(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void
client_name(const struct client *c, uint64_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d/%llu", c->b->prefix, c->id,
	    (unsigned long long)i);
}

static int
client_fail(struct client *c, const char *what, const char *name, int rc)
{
	c->res.errors++;
	if (!c->said) {
		error("bench: cannot %s '%s': %s", what, name, c->g.err[0] ?
		    c->g.err : gfs_strerror(rc));
		c->said = 1;
	}
	return -1;
}

/*
 * The next file's bytes into the memfd, untimed: written over the last
 * file's (always of the same size), with as few system calls as can be,
 * as they share the machine with what is timed.
 */
static int
client_fill(struct client *c)
{
	uint64_t	off = 0, size = c->b->size;
	size_t		n, i;
	ssize_t		w;

	while (off < size) {
		n = size - off < BENCH_BLOCK ? (size_t)(size - off) :
		    BENCH_BLOCK;
		for (i = 0; i < n; i += 8) {
			uint64_t r = rng_next(&c->rng);

			memcpy(c->block + i, &r, n - i < 8 ? n - i : 8);
		}
		for (i = 0; i < n; i += (size_t)w) {
			w = pwrite(c->fd, c->block + i, n - i, (off_t)(off + i));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return -1;
		}
		off += n;
	}
	return lseek(c->fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

static int
client_put(struct client *c, uint64_t *ns)
{
	const struct bench	*b = c->b;
	const char		*path;
	char			 name[128];
	uint32_t		 version;
	uint64_t		 size, t0;
	int			 rc, fd = c->fd;

	client_name(c, c->nwritten, name, sizeof(name));
	if (b->corpus) {
		/* this client's operations are id, id + C, id + 2C, ... */
		path = b->cpath[(c->nput++ * (uint64_t)b->clients +
		    (uint64_t)c->id) % b->nfiles];
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(c->g.err, sizeof(c->g.err), "cannot open "
			    "'%s': %s", path, strerror(errno));
			return client_fail(c, "put", name, GFS_EIO);
		}
	} else if (client_fill(c) < 0) {
		snprintf(c->g.err, sizeof(c->g.err), "cannot make the data: "
		    "%s", strerror(errno));
		return client_fail(c, "put", name, GFS_EIO);
	}
	t0 = now_ns();
	rc = gfs_put(&c->g, fd, name, NULL, &version, &size);
	*ns = now_ns() - t0;
	if (fd != c->fd)
		close(fd);
	if (rc < 0)
		return client_fail(c, "put", name, rc);
	c->nwritten++;
	c->res.bytes += size;
	return 0;
}

/* get: LOOKUP and the chunks; lookup: LOOKUP alone. */
static int
client_read(struct client *c, int chunks, uint64_t *ns)
{
	struct gfs_file	f;
	char		name[128];
	uint64_t	t0;
	int		rc;

	client_name(c, c->nread++ % c->nwritten, name, sizeof(name));
	t0 = now_ns();
	gfs_renew(&c->g);
	rc = gfs_lookup(&c->g, name, &f);
	if (rc == 0 && chunks)
		rc = gfs_get(&c->g, &f, c->null);
	*ns = now_ns() - t0;
	if (rc == 0)
		gfs_file_free(&f);
	if (rc < 0)
		return client_fail(c, chunks ? "get" : "look up", name, rc);
	if (chunks)
		c->res.bytes += f.size;
	return 0;
}

/*
 * lookup --pipeline N: N LOOKUPs sent at once, then their N replies
 * read; each counts the time from the send to the last reply.
 */
static int
client_lookups(struct client *c, int n, uint64_t *ns)
{
	struct gfs_file	*f = xcalloc((size_t)n, sizeof(*f));
	char		 name[128];
	uint64_t	 t0;
	int		 i, rc = 0, r;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		client_name(c, c->nread++ % c->nwritten, name, sizeof(name));
		if ((rc = gfs_lookup_send(&c->g, name, &f[i])) < 0)
			break;
	}
	n = i;
	for (i = 0; i < n; i++) {
		if ((r = gfs_lookup_read(&c->g, &f[i])) == 0)
			gfs_file_free(&f[i]);
		else if (rc == 0)
			rc = client_fail(c, "look up", f[i].name, r);
	}
	*ns = now_ns() - t0;
	free(f);
	return rc;
}

static void
client_run(struct client *c)
{
	const struct bench	*b = c->b;
	uint64_t		 deadline, ns, k;
	int			 rc, op;

	c->res.start_ns = now_ns();
	deadline = c->res.start_ns + b->duration_ns;
	c->res.end_ns = c->res.start_ns;
	for (k = 0; k < c->quota && c->res.end_ns < deadline; k++) {
		op = b->op;
		if (op == OP_MIXED)
			op = k % 10 == 0 || c->nwritten == 0 ? OP_PUT : OP_GET;
		if (op != OP_PUT && c->nwritten == 0)
			break;		/* setup put nothing: errors say why */
		if (op == OP_LOOKUP && b->pipeline > 1) {
			int i, n = b->pipeline;

			rc = client_lookups(c, n, &ns);
			c->res.ops += (uint64_t)n;
			k += (uint64_t)n - 1;
			for (i = 0; rc == 0 && i < n - 1; i++) {
				if (c->res.nlat == c->cap) {
					c->cap = c->cap ? c->cap * 2 : 1024;
					c->lat = xreallocarray(c->lat, c->cap,
					    sizeof(*c->lat));
				}
				c->lat[c->res.nlat++] = ns;
			}
			c->res.ops--;	/* counted below */
		} else if (op == OP_PUT)
			rc = client_put(c, &ns);
		else
			rc = client_read(c, op == OP_GET, &ns);
		c->res.ops++;
		if (rc == 0) {
			if (c->res.nlat == c->cap) {
				c->cap = c->cap ? c->cap * 2 : 1024;
				c->lat = xreallocarray(c->lat, c->cap,
				    sizeof(*c->lat));
			}
			c->lat[c->res.nlat++] = ns;
		}
		c->res.end_ns = now_ns();
	}
}

/* The child's whole life; never returns. */
static void
client_main(const struct bench *b, int id, uint64_t quota, int out, int go,
    int clean)
{
	struct client	c;
	uint64_t	deadline, ns, k, failed = 0;
	char		name[128];
	int		status = 0;

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.id = id;
	c.quota = quota;
	c.rng = ((uint64_t)getpid() << 20 ^ (uint64_t)id << 8 ^ now_ns()) | 1;
	c.block = xmalloc(BENCH_BLOCK);
	gfs_init(&c.g, b->leader, b->timeout_ms);
	c.fd = memfd_create("gfs-bench", MFD_CLOEXEC);
	c.null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (c.fd < 0 || c.null < 0) {
		error("bench: cannot set up client %d: %s", id, strerror(errno));
		c.res.errors++;
		c.quota = 0;
	}

	/* setup: the files to read, untimed */
	if (b->op == OP_GET || b->op == OP_LOOKUP) {
		deadline = now_ns() + b->duration_ns;
		for (k = 0; k < c.quota && now_ns() < deadline; k++)
			client_put(&c, &ns);
	}
	c.res.bytes = 0;
	if (write_all(out, "R", 1) < 0)
		_exit(3);
	barrier_wait(go);

	client_run(&c);
	if (write_all(out, &c.res, sizeof(c.res)) < 0 ||
	    (c.res.nlat && write_all(out, c.lat,
	    (size_t)c.res.nlat * sizeof(*c.lat)) < 0))
		_exit(3);
	barrier_wait(clean);

	for (k = 0; !b->keep && k < c.nwritten; k++) {
		client_name(&c, k, name, sizeof(name));
		if (gfs_delete(&c.g, name, 1) < 0) {
			if (failed++ == 0)
				error("bench: cannot remove '%s': %s", name,
				    c.g.err);
		}
	}
	if (write_all(out, &failed, sizeof(failed)) < 0)
		status = 3;
	gfs_close(&c.g);
	if (c.fd >= 0)
		close(c.fd);
	if (c.null >= 0)
		close(c.null);
	free(c.block);
	free(c.lat);
	_exit(status);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest latency with at least q/1000 at or below. */
static double
percentile_ms(const uint64_t *lat, uint64_t n, uint64_t q)
{
	uint64_t rank;

	if (n == 0)
		return 0;
	rank = (n * q + 999) / 1000;
	if (rank == 0)
		rank = 1;
	return (double)lat[rank - 1] / 1e6;
}

/* Non-negative x to `digits` decimals, for tidy JSON numbers. */
static double
round_to(double x, int digits)
{
	double scale = 1;

	while (digits-- > 0)
		scale *= 10;
	return (double)(uint64_t)(x * scale + 0.5) / scale;
}

struct summary {
	uint64_t	ops, errors, bytes, nlat;
	double		seconds, ops_per_s, mb_per_s, p50, p99, p999;
};

static void
print_summary(const struct bench *b, const struct summary *s)
{
	cJSON	*o;
	char	*js;

	if (!b->json) {
		printf("%s: %llu operations in %.3f s, %d client%s, ",
		    op_names[b->op], (unsigned long long)s->ops, s->seconds,
		    b->clients, b->clients == 1 ? "" : "s");
		if (b->corpus)
			printf("the %llu files of '%s' (%llu bytes), ",
			    (unsigned long long)b->nfiles, b->corpus,
			    (unsigned long long)b->cbytes);
		else
			printf("%llu bytes each, ", (unsigned long long)b->size);
		printf("%llu errors\n", (unsigned long long)s->errors);
		printf("  %.2f ops/s, %.3f MB/s\n", s->ops_per_s, s->mb_per_s);
		printf("  latency: p50 %.3f ms, p99 %.3f ms, p999 %.3f ms\n",
		    s->p50, s->p99, s->p999);
		if (b->keep)
			printf("  files kept under %s/\n", b->prefix);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", op_names[b->op]);
	cJSON_AddNumberToObject(o, "ops", (double)s->ops);
	cJSON_AddNumberToObject(o, "seconds", round_to(s->seconds, 6));
	cJSON_AddNumberToObject(o, "clients", b->clients);
	if (b->pipeline > 1)
		cJSON_AddNumberToObject(o, "pipeline", b->pipeline);
	if (b->corpus) {
		cJSON_AddStringToObject(o, "corpus", b->corpus);
		cJSON_AddNumberToObject(o, "corpus_files", (double)b->nfiles);
		cJSON_AddNumberToObject(o, "corpus_bytes", (double)b->cbytes);
	} else
		cJSON_AddNumberToObject(o, "size", (double)b->size);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(o, "ops_per_s", round_to(s->ops_per_s, 2));
	cJSON_AddNumberToObject(o, "mb_per_s", round_to(s->mb_per_s, 3));
	cJSON_AddNumberToObject(o, "p50_ms", round_to(s->p50, 3));
	cJSON_AddNumberToObject(o, "p99_ms", round_to(s->p99, 3));
	cJSON_AddNumberToObject(o, "p999_ms", round_to(s->p999, 3));
	cJSON_AddStringToObject(o, "prefix", b->prefix);
	js = cJSON_PrintUnformatted(o);
	printf("%s\n", js);
	cJSON_free(js);
	cJSON_Delete(o);
}

/*
 * Fork the clients, drive the barriers, gather and sum up.  Returns the
 * exit status.
 */
static int
bench_run(const struct bench *b)
{
	pid_t		*pid = xcalloc((size_t)b->clients, sizeof(*pid));
	int		*rfd = xcalloc((size_t)b->clients, sizeof(*rfd));
	int		*alive = xcalloc((size_t)b->clients, sizeof(*alive));
	uint64_t	*lat = NULL, first = UINT64_MAX, last = 0, failed;
	size_t		 cap = 0;
	struct summary	 s;
	struct result	 r;
	int		 go[2], clean[2], p[2], i, j, st, lost = 0, bad = 0;
	char		 c;

	memset(&s, 0, sizeof(s));
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(clean, O_CLOEXEC) < 0) {
		error("bench: cannot make a pipe: %s", strerror(errno));
		return EXIT_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < b->clients; i++) {
		uint64_t quota = b->files / (uint64_t)b->clients +
		    ((uint64_t)i < b->files % (uint64_t)b->clients);

		rfd[i] = -1;
		if (pipe2(p, O_CLOEXEC) < 0) {
			bad = errno;
			break;
		}
		if ((pid[i] = fork()) < 0) {
			bad = errno;
			close(p[0]);
			close(p[1]);
			break;
		}
		if (pid[i] == 0) {
			for (j = 0; j < i; j++)
				close(rfd[j]);
			close(p[0]);
			close(go[1]);
			close(clean[1]);
			client_main(b, i, quota, p[1], go[0], clean[0]);
		}
		close(p[1]);
		rfd[i] = p[0];
		alive[i] = 1;
	}
	close(go[0]);
	close(clean[0]);
	if (bad) {
		error("bench: cannot start client %d: %s", i, strerror(bad));
		for (j = 0; j < i; j++)
			kill(pid[j], SIGTERM);
		close(go[1]);
		close(clean[1]);
		for (j = 0; j < i; j++) {
			close(rfd[j]);
			waitpid(pid[j], &st, 0);
		}
		free(pid);
		free(rfd);
		free(alive);
		return EXIT_FAIL;
	}

	/* Every client is set up: go. */
	for (i = 0; i < b->clients; i++)
		if (read_all(rfd[i], &c, 1) < 0)
			alive[i] = 0;
	close(go[1]);
	for (i = 0; i < b->clients; i++) {
		if (!alive[i] || read_all(rfd[i], &r, sizeof(r)) < 0 ||
		    r.nlat > r.ops || r.ops > b->files) {
			alive[i] = 0;
			continue;
		}
		if (s.nlat + r.nlat > cap) {
			cap = (size_t)(s.nlat + r.nlat);
			lat = xreallocarray(lat, cap, sizeof(*lat));
		}
		if (r.nlat && read_all(rfd[i], lat + s.nlat,
		    (size_t)r.nlat * sizeof(*lat)) < 0) {
			alive[i] = 0;
			continue;
		}
		s.nlat += r.nlat;
		s.ops += r.ops;
		s.errors += r.errors;
		s.bytes += r.bytes;
		if (r.start_ns < first)
			first = r.start_ns;
		if (r.end_ns > last)
			last = r.end_ns;
	}
	/* Done: clean up. */
	close(clean[1]);
	for (i = 0; i < b->clients; i++) {
		if (alive[i] && read_all(rfd[i], &failed, sizeof(failed)) == 0)
			s.errors += failed;
		else
			alive[i] = 0;
		close(rfd[i]);
		if (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			alive[i] = 0;
		if (!alive[i])
			lost++;
	}
	if (lost) {
		error("bench: %d of %d clients did not report", lost,
		    b->clients);
		s.errors += (uint64_t)lost;
	}

	if (last > first)
		s.seconds = (double)(last - first) / 1e9;
	if (s.seconds > 0) {
		s.ops_per_s = (double)s.ops / s.seconds;
		s.mb_per_s = (double)s.bytes / 1e6 / s.seconds;
	}
	if (s.nlat)
		qsort(lat, (size_t)s.nlat, sizeof(*lat), cmp_u64);
	s.p50 = percentile_ms(lat, s.nlat, 500);
	s.p99 = percentile_ms(lat, s.nlat, 990);
	s.p999 = percentile_ms(lat, s.nlat, 999);
	print_summary(b, &s);
	free(lat);
	free(pid);
	free(rfd);
	free(alive);
	return finish_stdout(s.errors ? EXIT_FAIL : 0);
}

static int
cmp_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

/*
 * --size corpus DIR: every regular file under DIR that can be opened,
 * symbolic links under it not followed, in b->cpath.  0, or the exit status of
 * a failure, said.
 */
static int
corpus_load(struct bench *b, const char *dir)
{
	char *const	 roots[] = { (char *)dir, NULL };
	struct stat	 sb;
	FTS		*fts;
	FTSENT		*e;
	size_t		 cap = 0;
	uint64_t	 seen = 0;
	int		 fd;

	if (stat(dir, &sb) < 0)
		return error("bad --size corpus '%s': %s", dir,
		    strerror(errno)), EXIT_USAGE;
	if (!S_ISDIR(sb.st_mode))
		return error("bad --size corpus '%s': %s", dir,
		    strerror(ENOTDIR)), EXIT_USAGE;
	if ((fts = fts_open(roots, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR,
	    cmp_name)) == NULL)
		return error("cannot read '%s': %s", dir, strerror(errno)),
		    EXIT_FAIL;
	b->corpus = dir;
	while (b->nfiles < BENCH_MAX_CORPUS && seen++ < BENCH_MAX_WALK &&
	    (e = fts_read(fts)) != NULL) {
		if (e->fts_info != FTS_F ||
		    (uint64_t)e->fts_statp->st_size > GFS_MAX_FILE_SIZE)
			continue;
		if ((fd = open(e->fts_accpath, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW | O_NONBLOCK)) < 0)
			continue;
		close(fd);
		if (b->nfiles == cap) {
			cap = cap ? cap * 2 : 256;
			b->cpath = xreallocarray(b->cpath, cap,
			    sizeof(*b->cpath));
		}
		b->cpath[b->nfiles++] = xstrdup(e->fts_path);
		b->cbytes += (uint64_t)e->fts_statp->st_size;
	}
	fts_close(fts);
	if (b->nfiles == 0)
		return error("bench: no regular file to read under '%s'", dir),
		    EXIT_USAGE;
	return 0;
}

static void
corpus_free(struct bench *b)
{
	uint64_t i;

	for (i = 0; i < b->nfiles; i++)
		free(b->cpath[i]);
	free(b->cpath);
	b->cpath = NULL;
	b->nfiles = 0;
}

/* BYTES, BYTESk or BYTESm (binary: 1024, 1048576). */
static int
parse_size(const char *s, uint64_t *out)
{
	char		num[32];
	size_t		n = strspn(s, "0123456789");
	uint64_t	mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	if (s[n] == 'k' || s[n] == 'K')
		mult = 1024;
	else if (s[n] == 'm' || s[n] == 'M')
		mult = 1024 * 1024;
	else if (s[n] != '\0')
		return -1;
	if (mult != 1 && s[n + 1] != '\0')
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(num, 0, GFS_MAX_FILE_SIZE / mult, &v) < 0)
		return -1;
	*out = v * mult;
	return 0;
}

int
gfs_cmd_bench(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "op", required_argument, NULL, 'o' },
		{ "files", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "pipeline", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench	b;
	const char	*corpus = NULL;
	uint64_t	v;
	int		ch, i, rc, files_given = 0;

	memset(&b, 0, sizeof(b));
	b.op = OP_PUT;
	b.files = 1000;
	b.size = 1024;
	b.clients = 1;
	b.duration_ns = 10 * 1000000000ULL;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			for (i = 0; i < 4; i++)
				if (strcmp(optarg, op_names[i]) == 0)
					break;
			if (i == 4)
				return usage_error("bad --op '%s': want put, "
				    "get, mixed or lookup", optarg);
			b.op = i;
			break;
		case 'n':
			if (parse_u64(optarg, 1, BENCH_MAX_FILES, &b.files) < 0)
				return usage_error("bad --files '%s': want 1 "
				    "to %llu", optarg, BENCH_MAX_FILES);
			files_given = 1;
			break;
		case 's':
			/* "corpus DIR": DIR is the word after, taken here */
			if (strcmp(optarg, "corpus") == 0) {
				if (optind >= argc)
					return usage_error("bad --size corpus: "
					    "want a directory after it");
				corpus = argv[optind++];
				break;
			}
			corpus = NULL;
			if (parse_size(optarg, &b.size) < 0)
				return usage_error("bad --size '%s': want "
				    "bytes, with k or m for KiB or MiB, up to "
				    "%llu", optarg, GFS_MAX_FILE_SIZE);
			break;
		case 'c':
			if (parse_u64(optarg, 1, BENCH_MAX_CLIENTS, &v) < 0)
				return usage_error("bad --clients '%s': want 1 "
				    "to %d", optarg, BENCH_MAX_CLIENTS);
			b.clients = (int)v;
			break;
		case 'd':
			if (parse_duration(optarg, &v) < 0 || v == 0 ||
			    v > 3600 * 1000)
				return usage_error("bad --duration '%s': want "
				    "a duration like 500ms or 10s, at most 1h",
				    optarg);
			b.duration_ns = v * 1000000ULL;
			break;
		case 'j': b.json = 1; break;
		case 'k': b.keep = 1; break;
		case 'p':
			if (parse_u64(optarg, 1, 1024, &v) < 0)
				return usage_error("bad --pipeline '%s': want 1 "
				    "to 1024", optarg);
			b.pipeline = (int)v;
			break;
		default: return usage_error(NULL);
		}
	}
	if (optind != argc)
		return usage_error(NULL);
	if (b.pipeline > 1 && b.op != OP_LOOKUP)
		return usage_error("--pipeline is for --op lookup");
	if (corpus) {
		if ((rc = corpus_load(&b, corpus)) != 0) {
			corpus_free(&b);
			return rc;
		}
		if (!files_given)
			b.files = b.nfiles;
	}

	/* Fail fast, and once, when the cluster cannot take a put. */
	if ((rc = gfs_ring(g, UINT64_MAX)) < 0) {
		error("bench: %s", g->err);
		corpus_free(&b);
		return EXIT_FAIL;
	}
	if (ring_active(g->ring) < g->ring->replicas) {
		error("bench: %d chunk servers for %d replicas",
		    ring_active(g->ring), g->ring->replicas);
		corpus_free(&b);
		return EXIT_FAIL;
	}
	snprintf(b.leader, sizeof(b.leader), "%s", g->leader.addr);
	snprintf(b.prefix, sizeof(b.prefix), "bench/%ld", (long)getpid());
	b.timeout_ms = g->timeout_ms;
	gfs_close(g);	/* each client has its own connections */
	rc = bench_run(&b);
	corpus_free(&b);
	return rc;
}
