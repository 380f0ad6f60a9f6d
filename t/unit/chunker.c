/*
 * Unit tests for fixed-size chunking, lib/chunker.c: pipes written in
 * odd-sized pieces by a child, pre-filled pipes, and regular files.
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
#include "tap.h"

static const size_t sizes[] = { 0, 1, 1023, 1024, 1025, 2048, 3072, 100000 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))
#define PREFILL_MAX	60000	/* fits in a default 64 KB pipe */

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
 * Chunk fd to its end and check the result against data: two tests,
 * the chunk structure and the content.
 */
static void
check_chunks(int fd, const unsigned char *data, size_t len, const char *how)
{
	struct chunker	 c;
	unsigned char	*buf = malloc(GFS_CHUNK_SIZE + 16);
	unsigned char	*got = malloc(len + GFS_CHUNK_SIZE + 16);
	size_t		 total = 0, nchunks = 0, want = (len + GFS_CHUNK_SIZE - 1) /
			    GFS_CHUNK_SIZE, short_at = SIZE_MAX;
	int		 n, shape = 1, guard = 1, k;

	chunker_init(&c, fd);
	for (;;) {
		memset(buf + GFS_CHUNK_SIZE, 0xa5, 16);
		n = chunker_next(&c, buf);
		for (k = 0; k < 16; k++)
			if (buf[GFS_CHUNK_SIZE + k] != 0xa5)
				guard = 0;
		if (n <= 0)
			break;
		if (n > GFS_CHUNK_SIZE || total + (size_t)n > len) {
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
		if (n < GFS_CHUNK_SIZE)
			short_at = nchunks;
		memcpy(got + total, buf, (size_t)n);
		total += (size_t)n;
		nchunks++;
	}
	if (n < 0)
		fprintf(stderr, "#   %s: chunker_next returned %d\n", how, n);
	if (nchunks != want)
		fprintf(stderr, "#   %s: %zu chunks, expected %zu\n", how,
		    nchunks, want);
	ok(n == 0 && shape && guard && nchunks == want &&
	    chunker_next(&c, buf) == 0,
	    "%s, %zu bytes: %zu chunks, full but the last, none empty, "
	    "0 again at the end", how, len, want);
	if (!ok(total == len && memcmp(got, data, len) == 0,
	    "%s, %zu bytes: concatenation equals the input", how, len))
		fprintf(stderr, "#   %zu bytes out\n", total);
	free(buf);
	free(got);
}

/* A child writes data to a pipe in odd-sized pieces, pausing between. */
static void
from_child(const unsigned char *data, size_t len, int with_signals)
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
	check_chunks(p[0], data, len, how);
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
from_prefilled_pipe(const unsigned char *data, size_t len)
{
	int	p[2];

	if (pipe(p) < 0 || write_all(p[1], data, len) < 0) {
		perror("pipe");
		exit(255);
	}
	close(p[1]);
	check_chunks(p[0], data, len, "pre-filled pipe");
	close(p[0]);
}

static void
from_file(const unsigned char *data, size_t len)
{
	char	path[] = "/tmp/gfs-chunker-XXXXXX";
	int	fd = mkstemp(path);

	if (fd < 0 || write_all(fd, data, len) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		perror(path);
		exit(255);
	}
	unlink(path);
	check_chunks(fd, data, len, "regular file");
	close(fd);
}

int
main(void)
{
	struct chunker	 c;
	unsigned char	 buf[GFS_CHUNK_SIZE], *data;
	size_t		 i, nprefill = 0;
	int		 p[2];

	for (i = 0; i < NSIZES; i++)
		if (sizes[i] <= PREFILL_MAX)
			nprefill++;
	plan((int)(2 * (NSIZES * 2 + nprefill) + 2 + 3));
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < NSIZES; i++) {
		data = make_data(sizes[i], (uint32_t)i);
		from_child(data, sizes[i], 0);
		if (sizes[i] <= PREFILL_MAX)
			from_prefilled_pipe(data, sizes[i]);
		from_file(data, sizes[i]);
		free(data);
	}
	data = make_data(100000, 99);
	from_child(data, 100000, 1);
	free(data);

	/* errors */
	chunker_init(&c, -1);
	is_int(chunker_next(&c, buf), GFS_EIO, "bad fd: GFS_EIO");
	if (pipe(p) < 0)
		return 255;
	close(p[1]);
	chunker_init(&c, p[0]);
	is_int(chunker_next(&c, buf), 0, "empty pipe: 0 at once");
	is_int(chunker_next(&c, buf), 0, "empty pipe: 0 again");
	close(p[0]);
	return done_testing();
}
