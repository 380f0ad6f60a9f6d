/*
 * The protocol codec: tokenizing, number and hash parsing, name
 * encoding.  No I/O, so it is unit-testable and fuzzable.
 */
#ifndef GFS_PROTO_H
#define GFS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "gfs.h"

/*
 * Split line (NUL-terminated, no terminator) in place on runs of spaces.
 * Returns the token count, or -1 when there are more than max tokens.
 */
int	proto_split(char *line, char **argv, int max);

/* Decimal, no sign, no spaces, no 0x, no overflow, min <= v <= max. */
int	parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* "10m", "250ms", "2s", "1h"; a bare number is seconds.  Result in ms. */
int	parse_duration(const char *s, uint64_t *ms);

/* "HOST:PORT"; host copied into host (size hostsz). */
int	parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port);

/* 64 lower-case hex digits to 32 bytes. */
int	hash_parse(const char *hex, uint8_t out[GFS_HASH_LEN]);
void	hash_hex(const uint8_t h[GFS_HASH_LEN], char out[GFS_HEX_LEN + 1]);

/* 1..GFS_MAX_TXID bytes of [A-Za-z0-9_-]. */
int	txid_valid(const char *);

/*
 * Names on the wire: bytes <= 0x20, 0x7f, '%', '@' and >= 0x80 become
 * %XX, so that a literal '@' can only separate a name from a version.
 * name_encode writes at most outsz bytes including the NUL and returns
 * the length, or -1 if it did not fit.  name_decode works in place and
 * returns the decoded length, or -1 on a bad escape or an embedded NUL.
 */
int	name_encode(const char *name, size_t len, char *out, size_t outsz);
int	name_decode(char *s);

/*
 * Name rules: UTF-8, 1..GFS_MAX_NAME bytes, no control characters,
 * "/" separates non-empty components that are not "." or "..".
 * Returns NULL when fine, else a message saying why not.
 */
const char *name_check(const char *name, size_t len);

#endif
