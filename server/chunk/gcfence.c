/*
 * What keeps the leader's garbage collection from deleting a chunk
 * that a put has just committed (see server/leader/gc.c for the whole
 * argument).
 *
 * The leader numbers each deletion round; a put learns the last number
 * handed out when its mapping takes its references (PUT_PENDING at the
 * leader), and its COMMIT here carries that number as a tag.  A round s
 * must not delete a chunk committed with a tag >= s: that put's
 * references were taken after round s chose its chunks.  So:
 *
 *   - a COMMIT with tag t notes (hash, t) in a table, unless t < seq,
 *     the highest round seen: rounds older than seq are refused anyway;
 *   - DELETE_BATCH s is refused (STALE) when s < seq, or s <= floor;
 *     otherwise seq = s and notes with tags below s are forgotten, and
 *     each named chunk is deleted unless noted with a tag >= s;
 *   - until the leader's HELLO reply tells us its current number n,
 *     every DELETE_BATCH is refused, and then floor = n: a round
 *     numbered before we started may have been meant for chunks a put
 *     committed to the process we replace, whose notes are gone;
 *   - when the table is full, floor rises to the highest tag in it and
 *     the table is emptied: rounds up to there are refused instead.
 *
 * Refusing is always safe: the leader keeps the chunks in its queue
 * and sends them again in a later round.
 *
 * Repair copies a chunk to its owners with the tag noted here for it
 * (gc_tag), so that an owner that has not yet seen a round that kept
 * it here does not delete the copy it is given; and with gc_asof() as
 * it was before it read the chunks, read under cd->lock, which a round
 * holds from its acceptance to its last tombstone.  (Not gc_seq(): a
 * server that restarted has accepted no round yet, but the rounds up
 * to its floor are ones it carried out before, or refused, which keeps
 * their chunks queued for a later round everywhere.)  An owner that has
 * accepted a later round leaves the copies out: that round may have
 * deleted them there, and a copy committed after it would be a chunk
 * no round names again.  The event loop and the repair thread share
 * the table under gc_lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chunkd.h"
#include "xmalloc.h"

#define NOTES_MAX	(1 << 18)	/* table slots: 10 MB */

struct note {
	uint8_t		hash[GFS_HASH_LEN];
	uint64_t	tag;		/* 0: empty slot */
};

static struct note	*notes;
static size_t		 nnotes;
static uint64_t		 seq, floor_seq;
static int		 ready;
static pthread_mutex_t	 gc_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
slot(const uint8_t *hash)
{
	uint64_t	h;

	memcpy(&h, hash, sizeof(h));
	return (size_t)(h & (NOTES_MAX - 1));
}

static struct note *
find(const uint8_t *hash)
{
	size_t i = slot(hash);

	if (notes == NULL)
		return NULL;
	for (;; i = (i + 1) & (NOTES_MAX - 1)) {
		if (notes[i].tag == 0)
			return NULL;
		if (memcmp(notes[i].hash, hash, GFS_HASH_LEN) == 0)
			return &notes[i];
	}
}

static void
insert(const uint8_t *hash, uint64_t tag)
{
	size_t i = slot(hash);

	for (;; i = (i + 1) & (NOTES_MAX - 1)) {
		if (notes[i].tag == 0) {
			memcpy(notes[i].hash, hash, GFS_HASH_LEN);
			notes[i].tag = tag;
			nnotes++;
			return;
		}
		if (memcmp(notes[i].hash, hash, GFS_HASH_LEN) == 0) {
			if (tag > notes[i].tag)
				notes[i].tag = tag;
			return;
		}
	}
}

/* Keep only the notes with tags >= min. */
static void
prune(uint64_t min)
{
	struct note	*old = notes;
	size_t		 i;

	if (old == NULL)
		return;
	notes = xcalloc(NOTES_MAX, sizeof(*notes));
	nnotes = 0;
	for (i = 0; i < NOTES_MAX; i++)
		if (old[i].tag >= min && old[i].tag != 0)
			insert(old[i].hash, old[i].tag);
	free(old);
}

void
gc_hello(uint64_t leader_seq)
{
	pthread_mutex_lock(&gc_lock);
	/* Later HELLOs of this process: its notes are all there. */
	if (!ready && leader_seq > floor_seq)
		floor_seq = leader_seq;
	ready = 1;
	pthread_mutex_unlock(&gc_lock);
}

static void
note(const uint8_t hash[GFS_HASH_LEN], uint64_t tag)
{
	size_t i;

	if (tag == 0 || tag < seq)
		return;
	if (notes == NULL)
		notes = xcalloc(NOTES_MAX, sizeof(*notes));
	if (nnotes >= NOTES_MAX / 4 * 3) {
		for (i = 0; i < NOTES_MAX; i++)
			if (notes[i].tag > floor_seq)
				floor_seq = notes[i].tag;
		if (tag > floor_seq)
			floor_seq = tag;
		memset(notes, 0, NOTES_MAX * sizeof(*notes));
		nnotes = 0;
		return;
	}
	insert(hash, tag);
}

void
gc_note(const uint8_t hash[GFS_HASH_LEN], uint64_t tag)
{
	pthread_mutex_lock(&gc_lock);
	note(hash, tag);
	pthread_mutex_unlock(&gc_lock);
}

int
gc_round(uint64_t s)
{
	int rc = 0;

	pthread_mutex_lock(&gc_lock);
	if (!ready || s < seq || s <= floor_seq)
		rc = -1;
	else if (s > seq) {
		seq = s;
		if (nnotes > 0)
			prune(s);
	}
	pthread_mutex_unlock(&gc_lock);
	return rc;
}

int
gc_keep(const uint8_t hash[GFS_HASH_LEN], uint64_t s)
{
	struct note	*n;
	int		 keep;

	pthread_mutex_lock(&gc_lock);
	n = find(hash);
	keep = n != NULL && n->tag >= s;
	pthread_mutex_unlock(&gc_lock);
	return keep;
}

uint64_t
gc_tag(const uint8_t hash[GFS_HASH_LEN])
{
	struct note	*n;
	uint64_t	 tag;

	pthread_mutex_lock(&gc_lock);
	n = find(hash);
	tag = n ? n->tag : 0;
	pthread_mutex_unlock(&gc_lock);
	return tag;
}

uint64_t
gc_seq(void)
{
	uint64_t s;

	pthread_mutex_lock(&gc_lock);
	s = seq;
	pthread_mutex_unlock(&gc_lock);
	return s;
}

uint64_t
gc_asof(void)
{
	uint64_t s;

	pthread_mutex_lock(&gc_lock);
	s = seq > floor_seq ? seq : floor_seq;
	pthread_mutex_unlock(&gc_lock);
	return s;
}

void
gc_free(void)
{
	pthread_mutex_lock(&gc_lock);
	free(notes);
	notes = NULL;
	nnotes = 0;
	pthread_mutex_unlock(&gc_lock);
}
