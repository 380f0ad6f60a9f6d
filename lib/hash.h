#ifndef GFS_HASH_H
#define GFS_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"

/* SHA-256 of buf (OpenSSL). */
void	hash_sha256(const void *buf, size_t len, uint8_t out[GFS_HASH_LEN]);

/* Incremental SHA-256 over a whole stream. */
struct hash_ctx;
struct hash_ctx	*hash_ctx_new(void);
void		 hash_ctx_update(struct hash_ctx *, const void *, size_t);
void		 hash_ctx_final(struct hash_ctx *, uint8_t out[GFS_HASH_LEN]);
void		 hash_ctx_free(struct hash_ctx *);

/* First 8 bytes, big-endian: a hash's position on the ring. */
uint64_t	hash_prefix(const uint8_t h[GFS_HASH_LEN]);

/* Fill buf with len random hex digits and a NUL. */
void	random_hex(char *buf, size_t len);

#endif
