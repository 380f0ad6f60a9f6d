/*
 * Every limit of gfs, in one place.  Servers check sizes against these
 * before any arithmetic or allocation.
 */
#ifndef GFS_LIMITS_H
#define GFS_LIMITS_H

#define GFS_MAX_LINE		16384		/* bytes, terminator included */
#define GFS_MAX_ARGS		256		/* tokens on a line, verb included */
#define GFS_CHUNK_SIZE		1024		/* bytes of payload per fixed chunk */
#define GFS_MAX_CHUNK		4096		/* largest chunk of any chunking (cdc) */
#define GFS_MAX_BATCH		250		/* hashes in one *_BATCH request: fits a line */
#define GFS_MAX_CONNS		1024		/* connections per server */
#define GFS_MAX_OUTBUF		(4 * 1024 * 1024) /* pause reading above this */
#define GFS_IDLE_TIMEOUT	300		/* seconds */
#define GFS_MAX_NAME		1024		/* bytes of a file name */
#define GFS_MAX_TXID		64		/* bytes of a transaction id */
#define GFS_MAX_GROUP		1000000		/* files in one COMMIT_GROUP (put -r) */
#define GFS_MAX_FILE_SIZE	(1ULL << 30)	/* bytes of one file version */
#define GFS_MAX_FILE_CHUNKS	(GFS_MAX_FILE_SIZE / GFS_CHUNK_SIZE)
#define GFS_MAX_PENDING_BYTES	(512ULL * 1024 * 1024) /* per chunk server */
#define GFS_MAX_REPLICAS	8
#define GFS_MAX_TOKENS		1024		/* ring tokens per server */
#define GFS_MAX_SERVERS		256
#define GFS_MAX_ID		64		/* bytes of a chunk server id */
#define GFS_SEGMENT_SIZE	(64U * 1024 * 1024) /* roll segment files here */
#define GFS_EXTRA_CANDIDATES	3		/* servers tried past the replicas */

#endif
