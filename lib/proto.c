/*
 * The protocol codec.  Every number from the wire goes through
 * parse_u64(); nothing here does I/O.
 */
#include <errno.h>
#include <string.h>

#include "banned.h"
#include "proto.h"

int
proto_split(char *line, char **argv, int max)
{
	int	 argc = 0;
	char	*p = line;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (argc == max)
			return -1;
		argv[argc++] = p;
		while (*p != ' ' && *p != '\0')
			p++;
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	return argc;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return GFS_EINVAL;
	for (p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return GFS_EINVAL;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return GFS_EINVAL;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return GFS_EINVAL;
	*out = v;
	return 0;
}

int
parse_duration(const char *s, uint64_t *ms)
{
	char		 num[32];
	size_t		 n = strspn(s, "0123456789");
	const char	*unit = s + n;
	uint64_t	 v, mult;

	if (n == 0 || n >= sizeof(num))
		return GFS_EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "s") == 0 || *unit == '\0')
		mult = 1000;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else
		return GFS_EINVAL;
	if (parse_u64(num, 0, UINT64_MAX / mult, &v) < 0)
		return GFS_EINVAL;
	*ms = v * mult;
	return 0;
}

int
parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port)
{
	const char	*colon = strrchr(s, ':');
	uint64_t	 p;
	size_t		 hl;

	if (colon == NULL)
		return GFS_EINVAL;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= hostsz)
		return GFS_EINVAL;
	if (parse_u64(colon + 1, 0, 65535, &p) < 0)
		return GFS_EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* A lower-case hex digit's value plus one; 0 for any other byte. */
static const uint8_t hexv1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
};

static int
hexval(int c)
{
	return (int)hexv1[(unsigned char)c] - 1;
}

/* Every hash of every request passes here: one table look-up a digit. */
int
hash_parse(const char *hex, uint8_t out[GFS_HASH_LEN])
{
	const unsigned char	*p = (const unsigned char *)hex;
	uint8_t			 tmp[GFS_HASH_LEN];
	unsigned		 hi, lo;
	int			 i;

	/* hexv1['\0'] is 0: a short string stops at its NUL as bad. */
	for (i = 0; i < GFS_HASH_LEN; i++) {
		if ((hi = hexv1[p[2 * i]]) == 0 ||
		    (lo = hexv1[p[2 * i + 1]]) == 0)
			return GFS_EINVAL;
		tmp[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	if (hex[GFS_HEX_LEN] != '\0')
		return GFS_EINVAL;
	memcpy(out, tmp, GFS_HASH_LEN);
	return 0;
}

void
hash_hex(const uint8_t h[GFS_HASH_LEN], char out[GFS_HEX_LEN + 1])
{
	static const char	digits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < GFS_HASH_LEN; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[GFS_HEX_LEN] = '\0';
}

int
txid_valid(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > GFS_MAX_TXID)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n;
}

int
name_encode(const char *name, size_t len, char *out, size_t outsz)
{
	static const char	digits[] = "0123456789ABCDEF";
	size_t			i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c == 0x7f || c == '%' || c == '@' || c >= 0x80) {
			if (o + 3 >= outsz)
				return -1;
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 15];
		} else {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return (int)o;
}

static int
uhexval(int c)
{
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return hexval(c);
}

int
name_decode(char *s)
{
	char	*r = s, *w = s;

	while (*r) {
		if (*r == '%') {
			int hi = uhexval((unsigned char)r[1]), lo;

			if (hi < 0)
				return -1;
			lo = uhexval((unsigned char)r[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = '\0';
	return (int)(w - s);
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		need, i;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

const char *
name_check(const char *name, size_t len)
{
	const unsigned char	*p = (const unsigned char *)name;
	size_t			 i, start = 0, step;

	if (len == 0)
		return "name is empty";
	if (len > GFS_MAX_NAME)
		return "name is longer than 1024 bytes";
	for (i = 0; i < len; i += step) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "name contains a control character";
		step = utf8_len(p + i, len - i);
		if (step == 0)
			return "name is not valid UTF-8";
	}
	/* "NAME@12" means version 12 of NAME on the command line. */
	for (i = len; i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9'; i--)
		;
	if (i < len && i > 0 && p[i - 1] == '@')
		return "name ends in '@' and digits, which name a version";
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == start)
			return "name has an empty component";
		if ((i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return "name has a '.' or '..' component";
		start = i + 1;
	}
	return NULL;
}

const char *
gfs_strerror(int e)
{
	switch (e) {
	case GFS_OK:		return "success";
	case GFS_ENOENT:	return "no such file";
	case GFS_EPROTO:	return "protocol error";
	case GFS_EIO:		return "I/O error";
	case GFS_ENET:		return "network error";
	case GFS_ETIMEDOUT:	return "timed out";
	case GFS_EINVAL:	return "invalid argument";
	case GFS_EHASH:		return "data does not match its hash";
	case GFS_EUNAVAIL:	return "no replica could serve a chunk";
	case GFS_ESERVER:	return "server error";
	case GFS_ETOOBIG:	return "too large";
	case GFS_ENOSERVERS:	return "not enough chunk servers";
	case GFS_ECONFLICT:	return "version conflict";
	case GFS_EEXIST:	return "name exists";
	case GFS_ESTALE:	return "ring changed meanwhile";
	}
	return "unknown error";
}
