/*
 * Segment files seg-NNNNNNNN.dat under the data directory, each at
 * most segsize (GFS_SEGMENT_SIZE) bytes, written only at the end.
 * Start-up scans them in order, rebuilds the index, and cuts a torn
 * tail: a record with a bad magic or one that runs past the end of its
 * file.  The active segment is zero-filled ahead of its records (up to
 * ZERO_STEP at a time) so that the fdatasync of a commit writes data
 * only: the file's length does not change, and ext4 has no journal to
 * commit.  A run of zeros to the end of a file is its end, not a tear;
 * a segment's zeros are cut when the next one starts.  A record whose
 * CRC fails (bit rot) is skipped and counted, never served.  The last
 * chunk record of a hash is the one indexed (all hold the same bytes);
 * a tombstone takes out what is indexed when the scan reaches it, if
 * that is in a segment of its range.
 *
 * Each segment counts the bytes of its records that the index points
 * to (live) and of its tombstones; the rest of it is garbage, which
 * compaction (store_compact, driven by compact.c, whose comment has the
 * rules) gets back by copying the live records to the active segment
 * and removing the file.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "crash.h"
#include "log.h"
#include "segment.h"
#include "xmalloc.h"

#define REC_MAX		GFS_MAX_CHUNK	/* data bytes a record may hold */
#define COMPACT_STEP	(256 * 1024)	/* most bytes of a segment a step */
#define ZERO_STEP	(1024 * 1024)	/* zero-fill ahead this much */

/* CRC-32 (IEEE, as zlib's), eight bytes a step ("slicing-by-8"). */
static uint32_t	crc_table[8][256];

static void
crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
			    crc_table[0][crc_table[j - 1][i] & 0xff];
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

uint32_t
crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	uint32_t	 a, b;

	if (crc_table[0][1] == 0)
		crc_init();	/* callers outside a store: unit tests */
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		a = le32(p) ^ crc;
		b = le32(p + 4);
		crc = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^
		    crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24] ^
		    crc_table[3][b & 0xff] ^ crc_table[2][(b >> 8) & 0xff] ^
		    crc_table[1][(b >> 16) & 0xff] ^ crc_table[0][b >> 24];
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Build a record header for data; returns the record's size. */
static size_t
rec_build(uint8_t *hdr, int type, const uint8_t *hash, const uint8_t *data,
    size_t len, uint32_t hi)
{
	uint32_t crc;

	memset(hdr, 0, REC_HDR);
	put32(hdr, REC_MAGIC);
	hdr[4] = (uint8_t)type;
	hdr[6] = (uint8_t)len;
	hdr[7] = (uint8_t)(len >> 8);
	put32(hdr + 12, hi);
	memcpy(hdr + 16, hash, GFS_HASH_LEN);
	crc = crc32_update(0, hdr, REC_HDR);
	crc = crc32_update(crc, data, len);
	put32(hdr + 8, crc);
	return REC_HDR + len;
}

/* 1 if the record at hdr (with len data bytes after it) is intact. */
static int
rec_valid(const uint8_t *rec, size_t len)
{
	uint8_t		hdr[REC_HDR];
	uint32_t	crc;

	memcpy(hdr, rec, REC_HDR);
	put32(hdr + 8, 0);
	crc = crc32_update(0, hdr, REC_HDR);
	crc = crc32_update(crc, rec + REC_HDR, len);
	return crc == get32(rec + 8);
}

/*
 * The size of the record at rec, of which have bytes are at hand: 0
 * when they do not hold all of it, SIZE_MAX when it is no record (bad
 * magic, type or length).
 */
static size_t
rec_size(const uint8_t *rec, size_t have)
{
	size_t len;

	if (have < REC_HDR)
		return 0;
	len = (size_t)rec[6] | (size_t)rec[7] << 8;
	if (get32(rec) != REC_MAGIC || len > REC_MAX ||
	    (rec[4] != REC_CHUNK && rec[4] != REC_DELETE))
		return SIZE_MAX;
	return have < REC_HDR + len ? 0 : REC_HDR + len;
}

/* Payload bytes a record header claims, bounded for the accounting. */
static size_t
rec_len(const uint8_t *hdr)
{
	size_t len = (size_t)hdr[6] | (size_t)hdr[7] << 8;

	return len > REC_MAX ? 0 : len;
}

/* Build a tombstone for hash covering segments lo to hi, at out. */
static size_t
tomb_build(uint8_t *out, const uint8_t *hash, uint32_t lo, uint32_t hi)
{
	put32(out + REC_HDR, lo);
	return rec_build(out, REC_DELETE, hash, out + REC_HDR, 4, hi);
}

/* The segments the tombstone rec, in segment n, covers. */
static void
tomb_range(const uint8_t *rec, uint32_t n, uint32_t *lo, uint32_t *hi)
{
	*hi = get32(rec + 12);
	if (*hi == 0 || *hi > n)
		*hi = n;
	*lo = rec_len(rec) >= 4 ? get32(rec + REC_HDR) : 1;
	if (*lo == 0 || *lo > *hi)
		*lo = 1;
}

/* Count bytes of tombstones covering lo to hi in segment s. */
static void
tomb_count(struct seg *s, uint32_t lo, uint32_t hi, size_t bytes)
{
	if (s->tomb == 0 || lo < s->tlo)
		s->tlo = lo;
	if (s->tomb == 0 || hi > s->thi)
		s->thi = hi;
	s->tomb += bytes;
}

/*
 * The lowest segment number >= n with a file, or nsegs.  Numbers with
 * no file chain on to higher ones, and the chains are cut short on the
 * way (union-find), so that this stays cheap however many are gone.
 */
static uint32_t
seg_next(struct store *st, uint32_t n)
{
	uint32_t r = n, t;

	while (r < st->nsegs && st->segs[r].fd < 0)
		r = st->segs[r].next;
	while (n < r && n < st->nsegs) {
		t = st->segs[n].next;
		st->segs[n].next = r;
		n = t;
	}
	return r;
}

/* 1 if a segment from lo to hi has a file. */
static int
seg_any(struct store *st, uint32_t lo, uint32_t hi)
{
	return lo <= hi && seg_next(st, lo) <= hi;
}

/* Mark segment n as one that may hold older copies of indexed chunks. */
static void
seg_moved(struct store *st, uint32_t n)
{
	if (!st->segs[n].moved)
		st->nmoved++;
	st->segs[n].moved = 1;
}

/*
 * The lowest segment with moved set, or UINT32_MAX: a chunk indexed in
 * segment n may have records in segments from the lower of the two on.
 */
static uint32_t
seg_lowmoved(struct store *st)
{
	uint32_t i;

	if (st->nmoved == 0)
		return UINT32_MAX;
	for (i = seg_next(st, 1); i < st->nsegs; i = seg_next(st, i + 1))
		if (st->segs[i].moved)
			return i;
	return UINT32_MAX;
}

/* *v -= d, but never below 0: damaged headers make counts inexact. */
static void
sub(uint64_t *v, uint64_t d)
{
	*v = *v > d ? *v - d : 0;
}

static char *
seg_path(struct store *st, uint32_t n)
{
	char *p;

	if (asprintf(&p, "%s/seg-%08u.dat", st->dir, n) < 0)
		abort();
	return p;
}

static int
seg_open(struct store *st, uint32_t n, int create)
{
	char		*path = seg_path(st, n);
	struct stat	 sb;
	int		 fd;

	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0),
	    0644);
	if (fd < 0) {
		log_warn("open %s", path);
		free(path);
		return -1;
	}
	free(path);
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -1;
	}
	if (n >= st->nsegs) {
		st->segs = xreallocarray(st->segs, n + 1, sizeof(*st->segs));
		memset(st->segs + st->nsegs, 0,
		    sizeof(*st->segs) * (n + 1 - st->nsegs));
		for (uint32_t i = st->nsegs; i <= n; i++) {
			st->segs[i].fd = -1;
			st->segs[i].next = i + 1;
		}
		st->nsegs = n + 1;
	}
	memset(&st->segs[n], 0, sizeof(st->segs[n]));
	st->segs[n].fd = fd;
	st->segs[n].size = st->segs[n].zeroed = (uint64_t)sb.st_size;
	st->files++;
	if (create && fsync(st->dirfd) < 0) {
		log_warn("fsync %s", st->dir);
		return -1;
	}
	return 0;
}

/*
 * Find the index slot of hash; fills hdr (and data, when asked) from
 * disk.  Returns the slot or SIZE_MAX.
 */
static size_t
store_find(struct store *st, const uint8_t *hash, uint8_t *rec, int want_data)
{
	uint32_t	key = index_key(hash);
	size_t		slot = SIZE_MAX;
	ssize_t		n;

	while (index_next(&st->idx, key, &slot)) {
		struct idx_entry *e = &st->idx.tab[slot];

		/*
		 * One pread of the header and a fixed chunk's worth: most
		 * chunks are 1 KB or less; a bigger one takes a second.
		 */
		n = pread(st->segs[e->seg].fd, rec,
		    want_data ? REC_HDR + GFS_CHUNK_SIZE : REC_HDR, e->off);
		if (n < REC_HDR)
			continue;
		if (memcmp(rec + 16, hash, GFS_HASH_LEN) != 0)
			continue;
		if (want_data) {
			size_t len = (size_t)rec[6] | (size_t)rec[7] << 8;

			if (len > GFS_CHUNK_SIZE && len <= GFS_MAX_CHUNK &&
			    (size_t)n < REC_HDR + len &&
			    pread(st->segs[e->seg].fd, rec + n,
			    REC_HDR + len - (size_t)n, e->off + n) < 0)
				continue;
		}
		return slot;
	}
	return SIZE_MAX;
}

/* Index the chunk record of len data bytes at (n, off). */
static void
seg_index(struct store *st, const uint8_t *hash, uint32_t n, uint32_t off,
    size_t len)
{
	index_insert(&st->idx, index_key(hash), n, off);
	st->chunks++;
	st->bytes += len;
	st->live += REC_HDR + len;
	st->segs[n].live += REC_HDR + len;
	st->segs[n].nlive++;
}

/*
 * Point the entry at slot, of a record of len data bytes, at the copy
 * at (n, off).
 */
static void
seg_repoint(struct store *st, size_t slot, uint32_t n, uint32_t off,
    size_t len)
{
	struct idx_entry	*e = &st->idx.tab[slot];
	struct seg		*from = &st->segs[e->seg], *to = &st->segs[n];

	sub(&from->live, REC_HDR + len);
	if (from->nlive > 0)
		from->nlive--;
	to->live += REC_HDR + len;
	to->nlive++;
	e->seg = n;
	e->off = off;
}

/* Take the entry at slot, of a record of len data bytes, out of the index. */
static void
seg_unindex(struct store *st, size_t slot, size_t len)
{
	struct seg *s = &st->segs[st->idx.tab[slot].seg];

	st->chunks--;
	sub(&st->bytes, len);
	sub(&st->live, REC_HDR + len);
	sub(&s->live, REC_HDR + len);
	if (s->nlive > 0)
		s->nlive--;
	index_remove(&st->idx, slot);
}

int
store_has(struct store *st, const uint8_t hash[GFS_HASH_LEN])
{
	uint8_t rec[REC_HDR];

	return store_find(st, hash, rec, 0) != SIZE_MAX;
}

int
store_read(struct store *st, const uint8_t hash[GFS_HASH_LEN], uint8_t *buf)
{
	uint8_t	rec[REC_HDR + GFS_MAX_CHUNK];
	size_t	slot, len;

	slot = store_find(st, hash, rec, 1);
	if (slot == SIZE_MAX)
		return GFS_ENOENT;
	len = (size_t)rec[6] | (size_t)rec[7] << 8;
	if (len > GFS_MAX_CHUNK || !rec_valid(rec, len)) {
		/*
		 * Bit rot: never served; the reader fails over, and the
		 * scrub drops the record (store_drop) and fetches a copy.
		 */
		log_warnx("chunk record at segment %u offset %u fails its CRC",
		    st->idx.tab[slot].seg, st->idx.tab[slot].off);
		return GFS_EHASH;
	}
	memcpy(buf, rec + REC_HDR, len);
	return (int)len;
}

/* Whether s holds only zeros from off to its end; -1 on error. */
static int
seg_zeros(struct seg *s, uint64_t off)
{
	uint8_t	buf[65536];
	ssize_t	r, i;

	while (off < s->zeroed) {
		r = pread(s->fd, buf, sizeof(buf), (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 1;
		for (i = 0; i < r; i++)
			if (buf[i] != 0)
				return 0;
		off += (uint64_t)r;
	}
	return 1;
}

/*
 * Cut s back to its records (after a failed write or sync, or when the
 * next segment starts): its zeros go too.
 */
static int
seg_cut(struct store *st, struct seg *s)
{
	if (s->zeroed == s->size)
		return 0;
	if (ftruncate(s->fd, (off_t)s->size) < 0)
		return -1;
	sub(&st->disk, s->zeroed - s->size);
	sub(&st->ahead, s->zeroed - s->size);
	s->zeroed = s->size;
	return 0;
}

/* The records of s grew by len: count what the file grew by. */
static void
seg_grew(struct store *st, struct seg *s, uint64_t len)
{
	sub(&st->ahead, len < s->zeroed - s->size ? len :
	    s->zeroed - s->size);
	s->size += len;
	if (s->size > s->zeroed) {
		st->disk += s->size - s->zeroed;
		s->zeroed = s->size;
	}
}

/*
 * Zero-fill s past end, a ZERO_STEP at a time, no further than the
 * segment size.  Only to spare the syncs a journal commit: a failure
 * (a full disk) cuts the zeros back and leaves the write to extend.
 */
static void
seg_zero_ahead(struct store *st, struct seg *s, uint64_t end)
{
	static const uint8_t	zeros[65536];
	uint64_t		to, at;
	ssize_t			w;

	if (end <= s->zeroed)
		return;
	to = (end + ZERO_STEP - 1) / ZERO_STEP * ZERO_STEP;
	if (to > st->segsize)
		to = end > st->segsize ? end : st->segsize;
	for (at = s->zeroed; at < to; at += (uint64_t)w) {
		size_t n = to - at < sizeof(zeros) ? (size_t)(to - at) :
		    sizeof(zeros);

		w = pwrite(s->fd, zeros, n, (off_t)at);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			if (ftruncate(s->fd, (off_t)s->zeroed) < 0)
				log_warn("cut zeros of a segment");
			return;
		}
	}
	st->disk += to - s->zeroed;
	st->ahead += to - s->zeroed;
	s->zeroed = to;
}

/* Start the next segment; the one before keeps no zeros. */
static int
seg_roll(struct store *st)
{
	if (seg_cut(st, &st->segs[st->active]) < 0)
		log_warn("cut zeros of segment %u", st->active);
	if (seg_open(st, st->active + 1, 1) < 0)
		return -1;
	st->active++;
	return 0;
}

/* Scan one segment, apply its records to the index, cut a torn tail. */
static int
seg_scan(struct store *st, uint32_t n)
{
	struct seg	*s = &st->segs[n];
	size_t		 bufsz = 1 << 20, have = 0, pos = 0;
	uint8_t		*buf = xmalloc(bufsz);
	uint64_t	 off = 0;	/* file offset of buf[pos] */
	ssize_t		 r;

	for (;;) {
		size_t	len, reclen;
		uint8_t	*rec;
		int	valid;

		if (have - pos < REC_HDR + REC_MAX) {
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
			r = pread(s->fd, buf + have, bufsz - have,
			    (off_t)(off + have));
			if (r < 0) {
				log_warn("read segment %u", n);
				free(buf);
				return -1;
			}
			have += (size_t)r;
		}
		if (have - pos == 0)
			break;
		rec = buf + pos;
		reclen = rec_size(rec, have - pos);
		if (reclen == 0 || reclen == SIZE_MAX)
			goto torn;
		len = reclen - REC_HDR;
		valid = rec_valid(rec, len);
		if (!valid && seg_zeros(s, off + reclen) == 1) {
			/* The last: torn into the zeros, or rotten. */
			st->corrupt++;
			goto torn;
		}
		if (!valid) {
			st->corrupt++;
			log_warnx("segment %u offset %llu: record fails its CRC, "
			    "skipped", n, (unsigned long long)off);
		} else if (rec[4] == REC_CHUNK) {
			uint8_t	tmp[REC_HDR];
			size_t	slot = store_find(st, rec + 16, tmp, 0);

			if (slot == SIZE_MAX)
				seg_index(st, rec + 16, n, (uint32_t)off, len);
			else {
				/* A copy (compaction): the older one stays. */
				if (st->idx.tab[slot].seg != n)
					seg_moved(st, st->idx.tab[slot].seg);
				seg_repoint(st, slot, n, (uint32_t)off,
				    rec_len(tmp));
			}
		} else {
			uint8_t		tmp[REC_HDR];
			size_t		slot = store_find(st, rec + 16, tmp, 0);
			uint32_t	lo, hi, seg;

			tomb_range(rec, n, &lo, &hi);
			tomb_count(s, lo, hi, reclen);
			if (slot != SIZE_MAX) {
				seg = st->idx.tab[slot].seg;
				if (seg >= lo && seg <= hi)
					seg_unindex(st, slot, rec_len(tmp));
			}
		}
		pos += reclen;
		off += reclen;
	}
	free(buf);
	return 0;
 torn:
	free(buf);
	switch (seg_zeros(s, off)) {
	case -1:
		log_warn("read segment %u", n);
		return -1;
	case 1:
		s->size = off;	/* zero-filled ahead: the end */
		st->ahead += s->zeroed - off;
		return 0;
	}
	log_warnx("segment %u: torn tail at offset %llu (%llu bytes), cut", n,
	    (unsigned long long)off, (unsigned long long)(s->zeroed - off));
	st->truncated += s->zeroed - off;
	if (ftruncate(s->fd, (off_t)off) < 0 || fdatasync(s->fd) < 0) {
		log_warn("truncate segment %u", n);
		return -1;
	}
	s->size = s->zeroed = off;
	return 0;
}

static int
seg_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
store_open(struct store *st, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	uint32_t	*nums = NULL, n;
	size_t		 count = 0, i;
	char		 tail;

	memset(st, 0, sizeof(*st));
	crc_init();	/* here, before any second thread can race on it */
	st->dir = xstrdup(dir);
	st->segsize = GFS_SEGMENT_SIZE;
	index_init(&st->idx, 1 << 16);
	if ((st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dup(st->dirfd))) == NULL) {
		log_warn("open %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "seg-%8u.dat%c", &n, &tail) != 1 || n == 0)
			continue;
		nums = xreallocarray(nums, count + 1, sizeof(*nums));
		nums[count++] = n;
	}
	closedir(d);
	if (count > 0)
		qsort(nums, count, sizeof(*nums), seg_cmp);
	for (i = 0; i < count; i++) {
		if (seg_open(st, nums[i], 0) < 0 || seg_scan(st, nums[i]) < 0) {
			free(nums);
			return -1;
		}
		st->disk += st->segs[nums[i]].zeroed;
	}
	st->active = count ? nums[count - 1] : 0;
	free(nums);
	if (st->active == 0) {
		st->active = 1;
		if (seg_open(st, 1, 1) < 0)
			return -1;
	}
	return 0;
}

void
store_trim(struct store *st)
{
	if (st->active > 0 && st->active < st->nsegs &&
	    st->segs[st->active].fd >= 0 &&
	    seg_cut(st, &st->segs[st->active]) < 0)
		log_warn("cut zeros of segment %u", st->active);
}

void
store_close(struct store *st)
{
	uint32_t i;

	for (i = 0; i < st->nsegs; i++)
		if (st->segs[i].fd >= 0)
			close(st->segs[i].fd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st->segs);
	free(st->dir);
	index_release(&st->idx);
	memset(st, 0, sizeof(*st));
}

/*
 * Write iov, len bytes in all, at the end of the active segment (the
 * caller has made room: batch_room).  A failed write is cut back so the
 * segment ends on a record boundary.
 */
static int
seg_writev(struct store *st, struct iovec *iov, int niov, size_t len)
{
	struct seg	*s = &st->segs[st->active];
	ssize_t		 w;
	off_t		 off = (off_t)s->size;
	int		 i = 0;

	seg_zero_ahead(st, s, s->size + len);
	while (i < niov) {
		w = pwritev(s->fd, iov + i, niov - i < UIO_MAXIOV ?
		    niov - i : UIO_MAXIOV, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("write segment %u", st->active);
			if (seg_cut(st, s) < 0)
				log_warn("cut segment %u", st->active);
			return GFS_EIO;
		}
		off += w;
		/* Past what went out; into the middle of a short write. */
		for (; i < niov && (size_t)w >= iov[i].iov_len; i++)
			w -= (ssize_t)iov[i].iov_len;
		if (i < niov) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int
seg_write(struct store *st, const uint8_t *buf, size_t len)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	return seg_writev(st, &iov, 1, len);
}

/*
 * Records are gathered per segment and written at once: tombstones into
 * buf, chunk records as iovecs of their headers and their data where it
 * already is (no copy).
 */
struct batch {
	uint8_t		*buf;
	struct iovec	*iov;	/* or NULL */
	int		 niov;
	size_t		 len;
	uint32_t	 seg;
	uint64_t	 base;	/* file offset of the first record */
	uint32_t	 ntomb;	/* tombstones in buf, hi seg */
	uint32_t	 tlo;	/* their lowest lo */
	int		 nosync;	/* STORE_NOSYNC: synced by the caller */
};

static int
batch_flush(struct store *st, struct batch *b)
{
	struct seg *s = &st->segs[b->seg];

	if (b->len == 0)
		return 0;
	if ((b->iov ? seg_writev(st, b->iov, b->niov, b->len) :
	    seg_write(st, b->buf, b->len)) < 0)
		return GFS_EIO;
	CRASH_POINT("chunk.commit.after_append");
	if (b->nosync) {
		s->dirty = 1;
		if (st->dirty_lo == 0 || b->seg < st->dirty_lo)
			st->dirty_lo = b->seg;
	} else if (fdatasync(s->fd) < 0) {
		log_warn("fdatasync segment %u", b->seg);
		if (seg_cut(st, s) < 0)
			log_warn("cut segment %u", b->seg);
		return GFS_EIO;
	}
	seg_grew(st, s, b->len);
	if (b->ntomb > 0)
		tomb_count(s, b->tlo, b->seg, (size_t)b->ntomb * REC_TOMB);
	b->len = 0;
	b->niov = 0;
	b->ntomb = 0;
	return 0;
}

/* Make room for reclen bytes in the active segment, rolling if needed. */
static int
batch_room(struct store *st, struct batch *b, size_t reclen)
{
	if (st->segs[st->active].size + b->len + reclen <= st->segsize)
		return 0;
	if (batch_flush(st, b) < 0 || seg_roll(st) < 0)
		return GFS_EIO;
	b->seg = st->active;
	b->base = 0;
	return 0;
}

struct placed {
	const uint8_t	*hash;
	uint32_t	 seg, off;
	size_t		 len;
};

int
store_dirty(struct store *st, int *fds, int max)
{
	uint32_t	n;
	int		k = 0;

	if (st->dirty_lo == 0)
		return 0;
	for (n = st->dirty_lo; n <= st->active && n < st->nsegs; n++) {
		struct seg *s = &st->segs[n];

		if (!s->dirty)
			continue;
		if (k == max)
			return k;	/* the rest next time */
		s->dirty = 0;
		/* Compacted away meanwhile: its copies were synced. */
		if (s->fd >= 0 && (fds[k] = dup(s->fd)) >= 0)
			k++;
		else if (s->fd >= 0)
			fds[k++] = -1;	/* cannot dup: the caller fails */
	}
	st->dirty_lo = 0;
	return k;
}

int
store_append(struct store *st, const struct chunk_in *in, size_t n, int flags)
{
	struct batch	 b;
	struct placed	*pl = xreallocarray(NULL, n + 1, sizeof(*pl));
	size_t		 i, np = 0;
	int		 rc = 0;

	memset(&b, 0, sizeof(b));
	b.buf = xmalloc(n * REC_HDR + 1);	/* the headers */
	b.iov = xreallocarray(NULL, 2 * n + 1, sizeof(*b.iov));
	b.nosync = flags & STORE_NOSYNC;
	b.seg = st->active;
	b.base = st->segs[st->active].size;
	for (i = 0; i < n; i++) {
		size_t reclen = REC_HDR + in[i].len;

		if (store_has(st, in[i].hash))
			continue;
		if ((rc = batch_room(st, &b, reclen)) < 0)
			goto out;
		if (b.len == 0)
			b.base = st->segs[st->active].size;
		rec_build(b.buf + np * REC_HDR, REC_CHUNK, in[i].hash,
		    in[i].data, in[i].len, 0);
		b.iov[b.niov].iov_base = b.buf + np * REC_HDR;
		b.iov[b.niov++].iov_len = REC_HDR;
		b.iov[b.niov].iov_base = (void *)(uintptr_t)in[i].data;
		b.iov[b.niov++].iov_len = in[i].len;
		pl[np].hash = in[i].hash;
		pl[np].seg = b.seg;
		pl[np].off = (uint32_t)(b.base + b.len);
		pl[np].len = in[i].len;
		np++;
		b.len += reclen;
	}
	if ((rc = batch_flush(st, &b)) < 0)
		goto out;
	/* Written (durable unless STORE_NOSYNC): now visible. */
	for (i = 0; i < np; i++)
		seg_index(st, pl[i].hash, pl[i].seg, pl[i].off, pl[i].len);
	rc = (int)np;
 out:
	free(b.buf);
	free(b.iov);
	free(pl);
	return rc;
}

int
store_delete(struct store *st, const uint8_t (*hashes)[GFS_HASH_LEN], size_t n,
    int flags)
{
	uint8_t		 rec[REC_HDR];
	struct batch	 b;
	size_t		 i, count = 0;
	uint32_t	 low = seg_lowmoved(st), lo;
	int		 rc;

	memset(&b, 0, sizeof(b));
	b.nosync = flags & STORE_NOSYNC;
	b.buf = xmalloc(n * REC_TOMB + 1);
	for (i = 0; i < n; i++) {
		size_t slot = store_find(st, hashes[i], rec, 0);

		if (slot == SIZE_MAX)
			continue;
		lo = st->idx.tab[slot].seg;
		if (lo > low)
			lo = low;
		if ((rc = batch_room(st, &b, REC_TOMB)) < 0)
			goto fail;
		b.seg = st->active;
		tomb_build(b.buf + b.len, hashes[i], lo, b.seg);
		b.len += REC_TOMB;
		if (b.ntomb++ == 0 || lo < b.tlo)
			b.tlo = lo;
	}
	if ((rc = batch_flush(st, &b)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		size_t slot = store_find(st, hashes[i], rec, 0);

		if (slot == SIZE_MAX)
			continue;
		seg_unindex(st, slot, rec_len(rec));
		count++;
	}
	free(b.buf);
	return (int)count;
 fail:
	free(b.buf);
	return rc;
}

size_t
store_scan(struct store *st, size_t *cursor, uint8_t (*hashes)[GFS_HASH_LEN],
    size_t max)
{
	uint8_t	hdr[REC_HDR];
	size_t	n = 0, slot = *cursor;

	while (n < max && slot < st->idx.cap) {
		struct idx_entry *e = &st->idx.tab[slot];

		if (e->seg == 0) {
			slot++;
			continue;
		}
		if (pread(st->segs[e->seg].fd, hdr, REC_HDR, e->off) != REC_HDR ||
		    get32(hdr) != REC_MAGIC || hdr[4] != REC_CHUNK ||
		    index_key(hdr + 16) != e->key) {
			/*
			 * The header no longer names the chunk it was
			 * indexed for: no read can find it.  Forget it; a
			 * start-up scan would skip it for its CRC anyway.
			 */
			log_warnx("chunk record at segment %u offset %u has a "
			    "damaged header: dropped from the index", e->seg,
			    e->off);
			seg_unindex(st, slot, rec_len(hdr)); /* slot refilled */
			st->corrupt++;
			continue;
		}
		memcpy(hashes[n++], hdr + 16, GFS_HASH_LEN);
		slot++;
	}
	*cursor = slot;
	return n;
}

int
store_drop(struct store *st, const uint8_t hash[GFS_HASH_LEN])
{
	uint8_t		rec[REC_HDR];
	struct batch	b;
	size_t		slot;
	int		rc;

	if ((slot = store_find(st, hash, rec, 0)) == SIZE_MAX)
		return 0;
	memset(&b, 0, sizeof(b));
	b.buf = xmalloc(REC_TOMB);
	b.tlo = st->idx.tab[slot].seg;
	if (b.tlo > seg_lowmoved(st))
		b.tlo = seg_lowmoved(st);
	if ((rc = batch_room(st, &b, REC_TOMB)) == 0) {
		b.seg = st->active;
		tomb_build(b.buf, hash, b.tlo, b.seg);
		b.len = REC_TOMB;
		b.ntomb = 1;
		rc = batch_flush(st, &b);
	}
	free(b.buf);
	if (rc < 0)
		return rc;
	if ((slot = store_find(st, hash, rec, 0)) == SIZE_MAX)
		return 0;
	seg_unindex(st, slot, rec_len(rec));
	st->corrupt++;
	return 1;
}

/*
 * Compaction.  What is copied and which tombstones may go, and why a
 * kill at any moment loses nothing, is explained in compact.c.
 */

uint32_t
store_compact_pick(struct store *st, unsigned pct)
{
	uint32_t	n;
	uint64_t	keep;

	for (n = seg_next(st, 1); n < st->active; n = seg_next(st, n + 1)) {
		struct seg *s = &st->segs[n];

		if (s->damaged)
			continue;
		keep = s->live;
		/* Carried on unless what they cover is gone: a guess. */
		if (s->tomb > 0 && seg_any(st, s->tlo, s->thi < n ? s->thi :
		    n - 1))
			keep += s->tomb;
		if (s->size == 0 || (keep < s->size &&
		    (s->size - keep) * 100 > (uint64_t)pct * s->size))
			return n;
	}
	return 0;
}

/* The index slot of the chunk record at (n, off), or SIZE_MAX. */
static size_t
slot_at(struct store *st, const uint8_t *hash, uint32_t n, uint64_t off)
{
	size_t slot = SIZE_MAX;

	while (index_next(&st->idx, index_key(hash), &slot))
		if (st->idx.tab[slot].seg == n && st->idx.tab[slot].off == off)
			return slot;
	return SIZE_MAX;
}

/* The records a compaction step keeps, bound for the active segment. */
struct cout {
	uint8_t		*buf;
	size_t		 len;
	uint32_t	 seg;
	uint32_t	 ntomb;		/* tombstones in buf */
	uint32_t	 tlo, thi;	/* what they cover */
	uint64_t	 written;	/* bytes written for this compaction */
};

/* A chunk record a step copies: from (n, off) to (seg, noff). */
struct moved {
	const uint8_t	*hash;
	uint64_t	 off;
	uint32_t	 seg, noff;
	size_t		 len;
};

/* Append what o holds to the active segment, durably. */
static int
cout_flush(struct store *st, struct cout *o)
{
	struct seg *s = &st->segs[o->seg];

	if (o->len == 0)
		return 0;
	if (seg_write(st, o->buf, o->len) < 0)
		return GFS_EIO;
	CRASH_POINT("chunk.compact.after_copy");
	if (fdatasync(s->fd) < 0) {
		log_warn("fdatasync segment %u", o->seg);
		if (seg_cut(st, s) < 0)
			log_warn("cut segment %u", o->seg);
		return GFS_EIO;
	}
	CRASH_POINT("chunk.compact.after_sync");
	seg_grew(st, s, o->len);
	if (o->ntomb > 0)
		tomb_count(s, o->tlo, o->thi, (size_t)o->ntomb * REC_TOMB);
	o->written += o->len;
	o->len = 0;
	o->ntomb = 0;
	return 0;
}

/*
 * One step, under the lock: the len bytes of whole records at buf were
 * read from segment n at offset base.  Copy the live chunk records and
 * the tombstones still needed to the active segment, fdatasync, then
 * point the index at the copies.
 */
static int
compact_step(struct store *st, uint32_t n, const uint8_t *buf, size_t len,
    uint64_t base, struct cout *o)
{
	struct moved	*mv = xreallocarray(NULL, len / REC_HDR + 1, sizeof(*mv));
	size_t		 pos, reclen, slot, nmv = 0, i;
	int		 rc = 0;

	o->seg = st->active;
	for (pos = 0; pos < len; pos += reclen) {
		const uint8_t	*rec = buf + pos;
		uint32_t	 lo = 0, hi = 0;
		size_t		 outlen = reclen = rec_size(rec, len - pos);

		if (!rec_valid(rec, reclen - REC_HDR)) {
			/* Never copied: a new CRC would bless bad bytes. */
			if (rec[4] != REC_CHUNK ||
			    (slot = slot_at(st, rec + 16, n, base + pos)) ==
			    SIZE_MAX)
				continue;
			log_warnx("segment %u offset %llu: chunk record fails "
			    "its CRC: dropped from the index", n,
			    (unsigned long long)(base + pos));
			seg_unindex(st, slot, reclen - REC_HDR);
			st->corrupt++;
			continue;
		}
		if (rec[4] == REC_CHUNK) {
			if (slot_at(st, rec + 16, n, base + pos) == SIZE_MAX)
				continue;	/* deleted, or a copy */
		} else {
			tomb_range(rec, n, &lo, &hi);
			if (hi >= n)
				hi = n - 1;	/* n's own records go with it */
			if (!seg_any(st, lo, hi))
				continue;	/* nothing left to take out */
			outlen = REC_TOMB;
		}
		if (st->segs[o->seg].size + o->len + outlen > st->segsize) {
			if ((rc = cout_flush(st, o)) < 0)
				goto out;
			if (seg_roll(st) < 0) {
				rc = GFS_EIO;
				goto out;
			}
			o->seg = st->active;
		}
		if (rec[4] == REC_CHUNK) {
			mv[nmv].hash = rec + 16;
			mv[nmv].off = base + pos;
			mv[nmv].seg = o->seg;
			mv[nmv].noff = (uint32_t)(st->segs[o->seg].size + o->len);
			mv[nmv].len = reclen - REC_HDR;
			nmv++;
			memcpy(o->buf + o->len, rec, reclen);
		} else {
			tomb_build(o->buf + o->len, rec + 16, lo, hi);
			if (o->ntomb++ == 0 || lo < o->tlo)
				o->tlo = lo;
			if (o->ntomb == 1 || hi > o->thi)
				o->thi = hi;
		}
		o->len += outlen;
	}
	if ((rc = cout_flush(st, o)) < 0)
		goto out;
	/* Durable: reads go to the copies from now on. */
	if (nmv > 0)
		seg_moved(st, n);
	for (i = 0; i < nmv; i++)
		if ((slot = slot_at(st, mv[i].hash, n, mv[i].off)) != SIZE_MAX)
			seg_repoint(st, slot, mv[i].seg, mv[i].noff, mv[i].len);
 out:
	free(mv);
	return rc;
}

/*
 * Entries that still point into segment n after every record of it was
 * looked at: records too damaged to be recognised.  Drop them.
 */
static void
compact_purge(struct store *st, uint32_t n)
{
	uint8_t	hdr[REC_HDR];
	size_t	slot = 0;

	while (st->segs[n].nlive > 0 && slot < st->idx.cap) {
		struct idx_entry *e = &st->idx.tab[slot];

		if (e->seg != n) {
			slot++;
			continue;
		}
		log_warnx("segment %u offset %u: damaged chunk record dropped "
		    "from the index", n, e->off);
		if (pread(st->segs[n].fd, hdr, REC_HDR, e->off) != REC_HDR)
			memset(hdr, 0, sizeof(hdr));
		seg_unindex(st, slot, rec_len(hdr));	/* slot refilled */
		st->corrupt++;
	}
	st->segs[n].nlive = 0;
	st->segs[n].live = 0;
}

int
store_compact(struct store *st, uint32_t n, pthread_mutex_t *lock,
    const int *stop)
{
	size_t		 step = st->segsize / 8 < COMPACT_STEP ?
			    st->segsize / 8 : COMPACT_STEP;
	size_t		 cap = step + REC_HDR + REC_MAX, have = 0, used, r;
	uint8_t		*buf = xmalloc(cap);
	uint64_t	 off = 0, size, zeroed;
	struct cout	 o;
	ssize_t		 got;
	char		*path;
	int		 fd, rc = 0;

	memset(&o, 0, sizeof(o));
	o.buf = xmalloc(2 * cap);	/* old tombstones grow by 4 bytes */
	pthread_mutex_lock(lock);
	fd = st->segs[n].fd;
	size = st->segs[n].size;
	zeroed = st->segs[n].zeroed;
	pthread_mutex_unlock(lock);
	/* The segment is sealed: read without the lock, act with it. */
	while (off < size) {
		while (have < cap && off + have < size) {
			got = pread(fd, buf + have, cap - have, (off_t)(off + have));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				log_warn("read segment %u", n);
				rc = GFS_EIO;
				goto out;
			}
			have += (size_t)got;
		}
		for (used = 0; used < have && used < step; used += r) {
			r = rec_size(buf + used, have - used);
			if (r == 0 || r == SIZE_MAX)
				break;
		}
		if (used == 0) {
			log_warnx("segment %u offset %llu: no record there; the "
			    "segment is left as it is", n,
			    (unsigned long long)off);
			pthread_mutex_lock(lock);
			st->segs[n].damaged = 1;
			pthread_mutex_unlock(lock);
			rc = GFS_EPROTO;
			goto out;
		}
		pthread_mutex_lock(lock);
		if (*stop)
			rc = 1;
		else
			rc = compact_step(st, n, buf, used, off, &o);
		pthread_mutex_unlock(lock);
		if (rc != 0)
			goto out;
		memmove(buf, buf + used, have - used);
		have -= used;
		off += used;
	}
	pthread_mutex_lock(lock);
	compact_purge(st, n);
	pthread_mutex_unlock(lock);
	/* Nothing points into it, and all it kept is durable elsewhere. */
	path = seg_path(st, n);
	if (unlink(path) < 0) {
		log_warn("unlink %s", path);
		free(path);
		rc = GFS_EIO;
		goto out;
	}
	free(path);
	if (fsync(st->dirfd) < 0)
		log_warn("fsync %s", st->dir);
	CRASH_POINT("chunk.compact.after_unlink");
	pthread_mutex_lock(lock);
	close(fd);
	if (st->segs[n].moved)
		st->nmoved--;
	memset(&st->segs[n], 0, sizeof(st->segs[n]));
	st->segs[n].fd = -1;
	st->segs[n].next = n + 1;
	st->files--;
	sub(&st->disk, zeroed);
	sub(&st->ahead, zeroed - size);
	st->compactions++;
	st->compacted += zeroed > o.written ? zeroed - o.written : 0;
	pthread_mutex_unlock(lock);
 out:
	free(o.buf);
	free(buf);
	return rc;
}
