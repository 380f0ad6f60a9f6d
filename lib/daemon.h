/*
 * Start-up helpers both daemons share.
 */
#ifndef GFS_DAEMON_H
#define GFS_DAEMON_H

#include <stdint.h>

#include "server.h"

/* mkdir -p for a data directory; 0 or -1 with errno. */
int	daemon_mkdir(const char *dir);
/* Parse HOST:PORT (IPv4) or die with a usage message. */
void	daemon_addr(const char *prog, const char *opt, const char *arg,
	    char *host, size_t hostsz, uint16_t *port);
/* Parse a duration or die with a usage message. */
uint64_t daemon_duration(const char *prog, const char *opt, const char *arg);
/* Parse a number in [min, max] or die with a usage message. */
uint64_t daemon_number(const char *prog, const char *opt, const char *arg,
	    uint64_t min, uint64_t max);

#endif
