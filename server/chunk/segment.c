/*
 * Segment files seg-NNNNNNNN.dat under the data directory, each at
 * most GFS_SEGMENT_SIZE bytes, written only at the end.  Start-up scans
 * them in order, rebuilds the index, and cuts a torn tail: a record
 * with a bad magic or one that runs past the end of its file.  A record
 * whose CRC fails (bit rot) is skipped and counted, never served.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "crash.h"
#include "hash.h"
#include "log.h"
#include "segment.h"
#include "xmalloc.h"

static uint32_t	crc_table[256];

static void
crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (crc_table[1] == 0)
		crc_init();	/* callers outside a store: unit tests */
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
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
    size_t len)
{
	uint32_t crc;

	memset(hdr, 0, REC_HDR);
	put32(hdr, REC_MAGIC);
	hdr[4] = (uint8_t)type;
	hdr[6] = (uint8_t)len;
	hdr[7] = (uint8_t)(len >> 8);
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
		for (uint32_t i = st->nsegs; i <= n; i++)
			st->segs[i].fd = -1;
		st->nsegs = n + 1;
	}
	st->segs[n].fd = fd;
	st->segs[n].size = (uint64_t)sb.st_size;
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
	uint64_t	key = hash_prefix(hash);
	size_t		slot = SIZE_MAX;
	ssize_t		n;

	while (index_next(&st->idx, key, &slot)) {
		struct idx_entry *e = &st->idx.tab[slot];

		n = pread(st->segs[e->seg].fd, rec,
		    want_data ? REC_HDR + GFS_MAX_CHUNK : REC_HDR, e->off);
		if (n < REC_HDR)
			continue;
		if (memcmp(rec + 16, hash, GFS_HASH_LEN) == 0)
			return slot;
	}
	return SIZE_MAX;
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

		if (have - pos < REC_HDR + GFS_MAX_CHUNK) {
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
		if (have - pos < REC_HDR || get32(rec) != REC_MAGIC)
			goto torn;
		len = (size_t)rec[6] | (size_t)rec[7] << 8;
		reclen = REC_HDR + len;
		if (len > GFS_MAX_CHUNK || have - pos < reclen ||
		    (rec[4] != REC_CHUNK && rec[4] != REC_DELETE))
			goto torn;
		if (!rec_valid(rec, len)) {
			st->corrupt++;
			log_warnx("segment %u offset %llu: record fails its CRC, "
			    "skipped", n, (unsigned long long)off);
		} else if (rec[4] == REC_CHUNK) {
			uint8_t tmp[REC_HDR];

			if (store_find(st, rec + 16, tmp, 0) == SIZE_MAX) {
				index_insert(&st->idx, hash_prefix(rec + 16), n,
				    (uint32_t)off);
				st->chunks++;
				st->bytes += len;
			}
		} else {
			uint8_t	tmp[REC_HDR];
			size_t	slot = store_find(st, rec + 16, tmp, 0);

			if (slot != SIZE_MAX) {
				index_remove(&st->idx, slot);
				st->chunks--;
				st->bytes -= (size_t)tmp[6] | (size_t)tmp[7] << 8;
			}
		}
		pos += reclen;
		off += reclen;
	}
	free(buf);
	return 0;
 torn:
	free(buf);
	log_warnx("segment %u: torn tail at offset %llu (%llu bytes), cut", n,
	    (unsigned long long)off, (unsigned long long)(s->size - off));
	st->truncated += s->size - off;
	if (ftruncate(s->fd, (off_t)off) < 0 || fdatasync(s->fd) < 0) {
		log_warn("truncate segment %u", n);
		return -1;
	}
	s->size = off;
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
		st->disk += st->segs[nums[i]].size;
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
 * Write buf at the end of the active segment, rolling to a new one
 * first when it would pass GFS_SEGMENT_SIZE.  A short write is cut
 * back so the segment ends on a record boundary.
 */
static int
seg_write(struct store *st, const uint8_t *buf, size_t len)
{
	struct seg	*s = &st->segs[st->active];
	ssize_t		 w;
	size_t		 done = 0;

	while (done < len) {
		w = pwrite(s->fd, buf + done, len - done, (off_t)(s->size + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("write segment %u", st->active);
			if (ftruncate(s->fd, (off_t)s->size) < 0)
				log_warn("cut segment %u", st->active);
			return GFS_EIO;
		}
		done += (size_t)w;
	}
	return 0;
}

/* Records are gathered into one buffer per segment and written at once. */
struct batch {
	uint8_t		*buf;
	size_t		 len;
	uint32_t	 seg;
	uint64_t	 base;	/* file offset of buf[0] */
};

static int
batch_flush(struct store *st, struct batch *b)
{
	struct seg *s = &st->segs[b->seg];

	if (b->len == 0)
		return 0;
	if (seg_write(st, b->buf, b->len) < 0)
		return GFS_EIO;
	CRASH_POINT("chunk.commit.after_append");
	if (fdatasync(s->fd) < 0) {
		log_warn("fdatasync segment %u", b->seg);
		if (ftruncate(s->fd, (off_t)s->size) < 0)
			log_warn("cut segment %u", b->seg);
		return GFS_EIO;
	}
	s->size += b->len;
	st->disk += b->len;
	b->len = 0;
	return 0;
}

/* Make room for reclen bytes in the active segment, rolling if needed. */
static int
batch_room(struct store *st, struct batch *b, size_t reclen)
{
	if (st->segs[st->active].size + b->len + reclen <= GFS_SEGMENT_SIZE)
		return 0;
	if (batch_flush(st, b) < 0 || seg_open(st, st->active + 1, 1) < 0)
		return GFS_EIO;
	st->active++;
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
store_append(struct store *st, const struct chunk_in *in, size_t n)
{
	struct batch	 b;
	struct placed	*pl = xreallocarray(NULL, n + 1, sizeof(*pl));
	size_t		 i, np = 0, cap = 0;
	int		 rc = 0;

	memset(&b, 0, sizeof(b));
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
		if (b.len + reclen > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			while (cap < b.len + reclen)
				cap *= 2;
			b.buf = xrealloc(b.buf, cap);
		}
		rec_build(b.buf + b.len, REC_CHUNK, in[i].hash, in[i].data,
		    in[i].len);
		memcpy(b.buf + b.len + REC_HDR, in[i].data, in[i].len);
		pl[np].hash = in[i].hash;
		pl[np].seg = b.seg;
		pl[np].off = (uint32_t)(b.base + b.len);
		pl[np].len = in[i].len;
		np++;
		b.len += reclen;
	}
	if ((rc = batch_flush(st, &b)) < 0)
		goto out;
	/* Durable: now visible. */
	for (i = 0; i < np; i++) {
		index_insert(&st->idx, hash_prefix(pl[i].hash), pl[i].seg,
		    pl[i].off);
		st->chunks++;
		st->bytes += pl[i].len;
	}
	rc = (int)np;
 out:
	free(b.buf);
	free(pl);
	return rc;
}

int
store_delete(struct store *st, const uint8_t (*hashes)[GFS_HASH_LEN], size_t n)
{
	uint8_t		 rec[REC_HDR];
	struct batch	 b;
	size_t		 i, count = 0;
	int		 rc;

	memset(&b, 0, sizeof(b));
	b.buf = xmalloc(n * REC_HDR + 1);
	for (i = 0; i < n; i++) {
		if (store_find(st, hashes[i], rec, 0) == SIZE_MAX)
			continue;
		if ((rc = batch_room(st, &b, REC_HDR * (n - i))) < 0)
			goto fail;
		b.seg = st->active;
		rec_build(b.buf + b.len, REC_DELETE, hashes[i], NULL, 0);
		b.len += REC_HDR;
	}
	if ((rc = batch_flush(st, &b)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		size_t slot = store_find(st, hashes[i], rec, 0);

		if (slot == SIZE_MAX)
			continue;
		index_remove(&st->idx, slot);
		st->chunks--;
		st->bytes -= (size_t)rec[6] | (size_t)rec[7] << 8;
		count++;
	}
	free(b.buf);
	return (int)count;
 fail:
	free(b.buf);
	return rc;
}

/* Payload bytes a record header claims, bounded for the accounting. */
static size_t
rec_len(const uint8_t *hdr)
{
	size_t len = (size_t)hdr[6] | (size_t)hdr[7] << 8;

	return len > GFS_MAX_CHUNK ? 0 : len;
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
		    hash_prefix(hdr + 16) != e->key) {
			/*
			 * The header no longer names the chunk it was
			 * indexed for: no read can find it.  Forget it; a
			 * start-up scan would skip it for its CRC anyway.
			 */
			log_warnx("chunk record at segment %u offset %u has a "
			    "damaged header: dropped from the index", e->seg,
			    e->off);
			index_remove(&st->idx, slot);	/* slot refilled */
			st->chunks--;
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

	if (store_find(st, hash, rec, 0) == SIZE_MAX)
		return 0;
	memset(&b, 0, sizeof(b));
	b.buf = xmalloc(REC_HDR);
	if ((rc = batch_room(st, &b, REC_HDR)) == 0) {
		b.seg = st->active;
		rec_build(b.buf, REC_DELETE, hash, NULL, 0);
		b.len = REC_HDR;
		rc = batch_flush(st, &b);
	}
	free(b.buf);
	if (rc < 0)
		return rc;
	if ((slot = store_find(st, hash, rec, 0)) == SIZE_MAX)
		return 0;
	index_remove(&st->idx, slot);
	st->chunks--;
	st->bytes -= rec_len(rec);
	st->corrupt++;
	return 1;
}
