/*
 * Unit tests for the chunk store's compaction, server/chunk/segment.c:
 * random puts, deletes and puts again on small segments, compactions
 * that run to the end or that a child process runs until it dies at a
 * crash point, and after each a fresh open of the store, which must
 * hold exactly the chunks a model says: none lost, none resurrected,
 * with the accounting (chunks, bytes, live, disk) right.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/chunk/segment.h"
#include "crash.h"
#include "hash.h"
#include "rnd.h"
#include "tap.h"

#define NIDS		2500
#define SEGSIZE		(64 * 1024)

static const char *points[] = {
	"chunk.compact.after_copy",
	"chunk.compact.after_sync",
	"chunk.compact.after_unlink",
};

static uint64_t rng_state = 0x5eed5eed12345678ULL;

static uint64_t
rnd(void)
{
	return splitmix64(&rng_state);
}

struct chunk {
	uint8_t	hash[GFS_HASH_LEN];
	uint8_t	data[GFS_CHUNK_SIZE];
	size_t	len;
	int	held;		/* the model: committed and not deleted */
};

static struct chunk	ids[NIDS];
static struct store	st;
static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
static char		dir[] = "/tmp/gfs-segment-test.XXXXXX";
static int		nofail = 1;	/* every check so far passed */

static void
make_ids(void)
{
	size_t i, k;

	for (i = 0; i < NIDS; i++) {
		/* 2 to 1024 bytes, the first two the id: all distinct. */
		ids[i].len = 2 + (i * 389) % (GFS_CHUNK_SIZE - 1);
		for (k = 0; k < ids[i].len; k++)
			ids[i].data[k] = (uint8_t)(rnd() >> 56);
		ids[i].data[0] = (uint8_t)i;
		ids[i].data[1] = (uint8_t)(i >> 8);
		hash_sha256(ids[i].data, ids[i].len, ids[i].hash);
	}
}

/* Commit n random chunks (some held already, some deleted before). */
static void
put_some(size_t n)
{
	struct chunk_in	in[256];
	size_t		pick[256], i, j, k;

	while (n > 0) {
		k = n < 256 ? n : 256;
		for (i = 0; i < k; i++) {
			/* Distinct in one call, as COMMIT makes them. */
			do {
				pick[i] = (size_t)(rnd() % NIDS);
				for (j = 0; j < i && pick[j] != pick[i]; j++)
					;
			} while (j < i);
			in[i].hash = ids[pick[i]].hash;
			in[i].data = ids[pick[i]].data;
			in[i].len = ids[pick[i]].len;
		}
		if (store_append(&st, in, k, 0) < 0) {
			nofail = ok(0, "store_append failed");
			return;
		}
		for (i = 0; i < k; i++)
			ids[pick[i]].held = 1;
		n -= k;
	}
}

/* Commit chunks lo to hi - 1. */
static void
put_range(size_t lo, size_t hi)
{
	struct chunk_in	in[256];
	size_t		i, k;

	for (; lo < hi; lo += k) {
		k = hi - lo < 256 ? hi - lo : 256;
		for (i = 0; i < k; i++) {
			in[i].hash = ids[lo + i].hash;
			in[i].data = ids[lo + i].data;
			in[i].len = ids[lo + i].len;
		}
		if (store_append(&st, in, k, 0) < 0) {
			nofail = ok(0, "store_append failed");
			return;
		}
		for (i = 0; i < k; i++)
			ids[lo + i].held = 1;
	}
}

/* Delete chunks lo to hi - 1. */
static void
delete_range(size_t lo, size_t hi)
{
	uint8_t	(*h)[GFS_HASH_LEN] = malloc((hi - lo) * GFS_HASH_LEN + 1);
	size_t	i, n = 0;
	int	rc;

	for (i = lo; i < hi; i++) {
		memcpy(h[i - lo], ids[i].hash, GFS_HASH_LEN);
		n += (size_t)ids[i].held;
		ids[i].held = 0;
	}
	rc = store_delete(&st, (const uint8_t (*)[GFS_HASH_LEN])h, hi - lo, 0);
	if (rc != (int)n)
		nofail = ok(0, "store_delete of chunks %zu to %zu: %d", lo, hi, rc);
	free(h);
}

/* Delete each held chunk with probability pct percent. */
static void
delete_some(unsigned pct)
{
	uint8_t	(*h)[GFS_HASH_LEN] = malloc(NIDS * GFS_HASH_LEN);
	size_t	i, n = 0;
	int	rc;

	for (i = 0; i < NIDS; i++)
		if (ids[i].held && rnd() % 100 < pct) {
			memcpy(h[n++], ids[i].hash, GFS_HASH_LEN);
			ids[i].held = 0;
		}
	rc = store_delete(&st, (const uint8_t (*)[GFS_HASH_LEN])h, n, 0);
	if (rc != (int)n)
		nofail = ok(0, "store_delete: %d of %zu", rc, n);
	free(h);
}

/* Compact until nothing is over pct; the number of segments done. */
static int
compact_all(unsigned pct)
{
	static const int	stop;
	uint32_t		n;
	int			done = 0, rc;

	while ((n = store_compact_pick(&st, pct)) != 0) {
		if ((rc = store_compact(&st, n, &lock, &stop)) != 0) {
			nofail = ok(0, "store_compact of segment %u: %d", n, rc);
			break;
		}
		if (++done > 500) {
			nofail = ok(0, "compaction goes on and on");
			break;
		}
	}
	return done;
}

/* Compact segment n, sealed, whatever its garbage. */
static void
compact_one(uint32_t n)
{
	static const int	stop;
	int			rc;

	if (n == 0 || n >= st.active || st.segs[n].fd < 0 ||
	    (rc = store_compact(&st, n, &lock, &stop)) != 0)
		nofail = ok(0, "cannot compact segment %u", n);
}

/* The segment chunk i is indexed in, or 0. */
static uint32_t
seg_of(size_t i)
{
	size_t slot = SIZE_MAX;

	while (index_next(&st.idx, hash_prefix(ids[i].hash), &slot)) {
		uint8_t hdr[REC_HDR];

		if (pread(st.segs[st.idx.tab[slot].seg].fd, hdr, REC_HDR,
		    st.idx.tab[slot].off) == REC_HDR &&
		    memcmp(hdr + 16, ids[i].hash, GFS_HASH_LEN) == 0)
			return st.idx.tab[slot].seg;
	}
	return 0;
}

/* Put filler chunks from *next on until the active segment rolls. */
static void
roll(size_t *next)
{
	uint32_t a = st.active;

	while (st.active == a && *next < NIDS) {
		put_range(*next, *next + 1);
		++*next;
	}
}

/* Bytes of the segment files on disk. */
static uint64_t
disk_bytes(void)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	struct stat	 sb;
	char		 path[512];
	uint64_t	 sum = 0;

	while (d && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "seg-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0)
			sum += (uint64_t)sb.st_size;
	}
	if (d)
		closedir(d);
	return sum;
}

/* The store holds what the model says, and counts it right. */
static int
check(const char *when)
{
	uint8_t		buf[GFS_CHUNK_SIZE];
	uint64_t	chunks = 0, bytes = 0;
	size_t		i, lost = 0, back = 0, bad = 0;
	int		len;

	for (i = 0; i < NIDS; i++) {
		len = store_read(&st, ids[i].hash, buf);
		if (ids[i].held) {
			chunks++;
			bytes += ids[i].len;
			if (len < 0)
				lost++;
			else if ((size_t)len != ids[i].len ||
			    memcmp(buf, ids[i].data, ids[i].len) != 0)
				bad++;
		} else if (len != GFS_ENOENT)
			back++;
	}
	if (!ok(lost == 0 && back == 0 && bad == 0 && st.chunks == chunks &&
	    st.bytes == bytes && st.live == bytes + chunks * REC_HDR &&
	    st.disk == disk_bytes(), "%s: %llu chunks as the model says", when,
	    (unsigned long long)chunks)) {
		fprintf(stderr, "#   lost %zu, resurrected %zu, wrong %zu; "
		    "chunks %llu/%llu bytes %llu/%llu live %llu disk %llu/%llu\n",
		    lost, back, bad, (unsigned long long)st.chunks,
		    (unsigned long long)chunks, (unsigned long long)st.bytes,
		    (unsigned long long)bytes, (unsigned long long)st.live,
		    (unsigned long long)st.disk,
		    (unsigned long long)disk_bytes());
		nofail = 0;
		return 0;
	}
	return 1;
}

static void reopen(void);

/* An empty store; the model holds nothing. */
static void
fresh(void)
{
	char	cmd[128];
	size_t	i;

	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/seg-*.dat", dir);
	if (system(cmd) != 0)
		nofail = ok(0, "%s", cmd);
	for (i = 0; i < NIDS; i++)
		ids[i].held = 0;
	if (store_open(&st, dir) < 0) {
		ok(0, "store_open");
		exit(1);
	}
	st.segsize = SEGSIZE;
}

static void
reopen(void)
{
	store_close(&st);
	if (store_open(&st, dir) < 0) {
		ok(0, "store_open");
		exit(1);
	}
	st.segsize = SEGSIZE;
}

/*
 * A child compacts everything over pct and dies at the n-th pass of a
 * crash point; the parent opens the store afresh.  1 if it died there.
 */
static int
crash_compaction(const char *point, unsigned n, unsigned pct, uint32_t seg)
{
	char	spec[128];
	pid_t	pid;
	int	status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		/* The parent tells; the child only works, then dies. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(1);
		snprintf(spec, sizeof(spec), "%s:%u", point, n);
		setenv("GFS_CRASH", spec, 1);
		crash_init();
		if (seg != 0)
			compact_one(seg);
		else
			compact_all(pct);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	reopen();
	return WIFEXITED(status) && WEXITSTATUS(status) == 99;
}

int
main(void)
{
	uint64_t	before;
	unsigned	round, crashed = 0, done;
	static const int stop;
	static char	inseg[NIDS];
	uint32_t	o, a2;
	size_t		next, i, victim, last;
	char		path[512];
	int		k;

	alarm(120);	/* a compaction that never ends fails */
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	make_ids();
	if (store_open(&st, dir) < 0)
		return 1;
	st.segsize = SEGSIZE;

	/*
	 * Chunk 5 is deleted while its record stays in segment 1, which
	 * has too little garbage to be compacted: its tombstone must be
	 * carried on from segment to segment, never dropped.
	 */
	put_range(0, 120);
	for (k = 0; k < 5; k++) {
		put_range(200 + 200 * (size_t)k, 400 + 200 * (size_t)k);
		if (k == 0)
			delete_range(5, 6);
		delete_range(200 + 200 * (size_t)k, 400 + 200 * (size_t)k);
		done = (unsigned)compact_all(25);
		if (!ok(done > 0 && st.segs[1].fd >= 0, "round %d: %u segments "
		    "compacted, not the first", k, done))
			break;
	}
	check("tombstone carried on");
	reopen();
	check("tombstone carried on, reopened");

	/*
	 * Chunk 5 is deleted, then put again in a later segment, while
	 * its first record stays in segment 1.  The tombstone's segment
	 * is compacted: the tombstone is carried on, after the new
	 * record, and must not take that one out.
	 */
	fresh();
	put_range(0, 120);
	delete_range(5, 6);
	o = st.active;
	next = 200;
	roll(&next);
	put_range(5, 6);
	ok(seg_of(5) > o && st.segs[1].fd >= 0, "put again in segment %u, "
	    "after the tombstone's %u", seg_of(5), o);
	compact_one(o);
	check("put again, tombstone carried after it");
	reopen();
	check("put again, tombstone carried after it, reopened");

	/*
	 * Chunk 5 deleted and put again in the same segment, a few steps
	 * after its tombstone.  Compactions of that segment die after
	 * each step: a copy of the tombstone must not take out the
	 * record that follows it in the segment still there.
	 */
	fresh();
	put_range(0, 120);
	delete_range(5, 6);
	o = st.active;
	put_range(200, 240);
	put_range(5, 6);
	ok(st.active == o && seg_of(5) == o, "put again in segment %u, "
	    "after its tombstone", o);
	next = 240;
	roll(&next);
	delete_range(200, next);
	for (k = 1; k <= 6 && st.segs[o].fd >= 0; k++) {
		char when[64];

		crash_compaction("chunk.compact.after_sync", (unsigned)k, 0, o);
		snprintf(when, sizeof(when), "died after step %d", k);
		check(when);
	}
	ok(k > 3, "%d steps", k - 1);

	/*
	 * A compaction of segment 2 dies after copying a step: on restart
	 * its chunks there are indexed at their copies, and segment 2
	 * still holds the older ones.  A chunk deleted now has a
	 * tombstone that must cover segment 2, or it is dropped once the
	 * copy's segment is gone, and segment 2 brings the chunk back.
	 */
	fresh();
	put_range(0, 120);
	next = 200;
	roll(&next);
	a2 = st.active;
	roll(&next);
	for (i = 200; i < next; i++)
		if (seg_of(i) == a2 && i % 3 != 0)
			delete_range(i, i + 1);
	crash_compaction("chunk.compact.after_sync", 1, 0, a2);
	for (victim = 0, i = 200; i < next && victim == 0; i++)
		if (ids[i].held && seg_of(i) > a2)
			victim = i;
	ok(victim != 0, "chunk %zu moved out of segment %u", victim, a2);
	o = seg_of(victim);
	delete_range(victim, victim + 1);
	roll(&next);
	compact_one(o);
	if (o != st.active - 1)
		compact_one(st.active - 1);
	ok(st.segs[a2].fd >= 0, "segment %u still there", a2);
	reopen();
	check("deleted after its copy, reopened");

	/*
	 * The same with a compaction that stops half way, in the same
	 * process: it cannot roll to a new segment, whose file is in
	 * the way, once a step or two filled the active one.
	 */
	fresh();
	put_range(0, 120);
	next = 200;
	roll(&next);
	a2 = st.active;
	roll(&next);
	for (i = 200; i < next; i++) {
		inseg[i] = seg_of(i) == a2;
		if (inseg[i] && i % 3 != 0)
			delete_range(i, i + 1);
	}
	last = next;
	while (st.segs[st.active].size + SEGSIZE / 8 < SEGSIZE) {
		put_range(next, next + 1);
		next++;
	}
	snprintf(path, sizeof(path), "%s/seg-%08u.dat", dir, st.active + 1);
	fprintf(stderr, "# a warning that seg-%08u.dat exists is expected\n",
	    st.active + 1);
	k = open(path, O_CREAT | O_WRONLY, 0644);
	ok(k >= 0 && store_compact(&st, a2, &lock, &stop) == GFS_EIO,
	    "a compaction of segment %u that cannot roll fails", a2);
	if (k >= 0)
		close(k);
	unlink(path);
	for (victim = 0, i = 200; i < last && victim == 0; i++)
		if (inseg[i] && ids[i].held && seg_of(i) > a2)
			victim = i;
	ok(victim != 0, "chunk %zu moved out of segment %u", victim, a2);
	o = seg_of(victim);
	delete_range(victim, victim + 1);
	roll(&next);
	compact_one(o);
	if (o != st.active - 1)
		compact_one(st.active - 1);
	ok(st.segs[a2].fd >= 0, "segment %u still there", a2);
	check("deleted after its copy, same process");
	reopen();
	check("deleted after its copy, same process, reopened");

	/* Random puts and deletes; some chunks put again. */
	put_some(600);
	check("first puts");
	delete_some(90);
	put_some(100);		/* some of them again */
	done = (unsigned)compact_all(25);
	ok(done > 0, "compacted %u segments", done);
	check("after compaction, same process");
	reopen();
	check("after compaction, reopened");

	/* Random work, compactions and crashes in them. */
	for (round = 0; round < 24; round++) {
		char when[64];

		put_some(100 + rnd() % 500);
		delete_some((unsigned)(rnd() % 80));
		if (round % 3 == 0) {
			compact_all((unsigned)(1 + rnd() % 50));
			snprintf(when, sizeof(when), "round %u, compacted", round);
			check(when);
		} else {
			const char *p = points[rnd() % 3];
			unsigned n = 1 + (unsigned)(rnd() % 12);

			crashed += (unsigned)crash_compaction(p, n,
			    (unsigned)(1 + rnd() % 50), 0);
			snprintf(when, sizeof(when), "round %u, died at %s:%u",
			    round, p, n);
			check(when);
		}
		if (round % 4 == 3) {
			reopen();
			snprintf(when, sizeof(when), "round %u, reopened", round);
			check(when);
		}
	}
	ok(crashed >= 8, "%u compactions died at a crash point", crashed);

	/* Most of it deleted: the files shrink to about what is held. */
	before = disk_bytes();
	delete_some(95);
	for (k = 0; k < 3; k++)
		compact_all(1);
	check("after deleting most");
	ok(disk_bytes() < before / 4 && st.disk - st.live < 4 * SEGSIZE,
	    "disk %llu bytes from %llu, %llu held",
	    (unsigned long long)disk_bytes(), (unsigned long long)before,
	    (unsigned long long)st.live);
	reopen();
	check("after deleting most, reopened");

	store_close(&st);
	if (nofail) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# cannot remove %s\n", dir);
	} else
		fprintf(stderr, "# store kept in %s\n", dir);
	return done_testing();
}
