/*
 * What the test helpers (gfs-raw, gfs-proxy, chunk-bench) share: dying
 * with a message, bounded numbers, loopback addresses, a monotonic
 * clock.  No libgfs, so gfs-raw and gfs-proxy stay self-contained.
 */
#ifndef GFS_HUTIL_H
#define GFS_HUTIL_H

#include <netinet/in.h>

#define HELPER_EXIT_USAGE	2

extern const char	*helper_name;	/* "gfs-raw: " prefixes messages */

void	die(int code, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
/* Decimal digits only, no sign, min <= value <= max; 0 or -1. */
int	parse_num(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out);
/* "HOST:PORT" in 127.0.0.0/8 with port >= minport, or die (usage). */
void	parse_loopback(const char *addr, unsigned long minport,
	    struct sockaddr_in *sin);
long long	mono_ms(void);

#endif
