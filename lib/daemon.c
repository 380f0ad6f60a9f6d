#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "daemon.h"
#include "proto.h"

int
daemon_mkdir(const char *dir)
{
	char	path[4096];
	size_t	i, n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		path[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static void __attribute__((noreturn))
bad(const char *prog, const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "%s: bad %s '%s': %s\n", prog, opt, arg, why);
	exit(2);
}

void
daemon_addr(const char *prog, const char *opt, const char *arg, char *host,
    size_t hostsz, uint16_t *port)
{
	struct in_addr ia;

	if (parse_hostport(arg, host, hostsz, port) < 0 ||
	    inet_pton(AF_INET, host, &ia) != 1)
		bad(prog, opt, arg, "want IPv4-ADDRESS:PORT");
}

uint64_t
daemon_duration(const char *prog, const char *opt, const char *arg)
{
	uint64_t ms;

	if (parse_duration(arg, &ms) < 0 || ms == 0)
		bad(prog, opt, arg, "want a duration like 500ms, 10s, 10m, 1h");
	return ms;
}

uint64_t
daemon_number(const char *prog, const char *opt, const char *arg,
    uint64_t min, uint64_t max)
{
	uint64_t	v;
	char		why[64];

	if (parse_u64(arg, min, max, &v) < 0) {
		snprintf(why, sizeof(why), "want a number from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
		bad(prog, opt, arg, why);
	}
	return v;
}
