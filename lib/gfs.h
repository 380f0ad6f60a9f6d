/*
 * Public types and error codes shared by every part of gfs.
 */
#ifndef GFS_H
#define GFS_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

#define GFS_VERSION	"0.1.0"

#define GFS_HASH_LEN	32	/* SHA-256 bytes */
#define GFS_HEX_LEN	64	/* SHA-256 in hex */

/* lib/ never exits and never prints: it returns 0 or one of these. */
enum {
	GFS_OK = 0,
	GFS_ENOENT = -1,	/* name, version or txid does not exist */
	GFS_EPROTO = -2,	/* peer spoke something we did not expect */
	GFS_EIO = -3,		/* local I/O failed, see errno */
	GFS_ENET = -4,		/* connect, send or receive failed */
	GFS_ETIMEDOUT = -5,	/* peer did not answer in time */
	GFS_EINVAL = -6,	/* bad argument */
	GFS_EHASH = -7,		/* data does not match its hash */
	GFS_EUNAVAIL = -8,	/* no replica could serve a chunk */
	GFS_ESERVER = -9,	/* server replied with an ERROR line */
	GFS_ETOOBIG = -10,	/* over a limit of limits.h */
	GFS_ENOSERVERS = -11,	/* not enough chunk servers for the replicas */
	GFS_ECONFLICT = -12,	/* the current version is not the one expected */
	GFS_EEXIST = -13,	/* the name exists */
	GFS_ESTALE = -14,	/* the ring changed under a put: try again */
};

const char	*gfs_strerror(int);

#endif
