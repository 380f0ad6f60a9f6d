#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "proto.h"

const char	*crash_spec;
static uint64_t	 crash_count;

void
crash_init(void)
{
	crash_spec = getenv("GFS_CRASH");
	if (crash_spec != NULL && *crash_spec == '\0')
		crash_spec = NULL;
}

void
crash_hit(const char *name)
{
	size_t		 n = strlen(name);
	uint64_t	 want = 1;

	if (strncmp(crash_spec, name, n) != 0)
		return;
	if (crash_spec[n] == ':')
		parse_u64(crash_spec + n + 1, 1, UINT64_MAX, &want);
	else if (crash_spec[n] != '\0')
		return;
	/* Only the want-th hit: a stopped process goes on when continued. */
	if (++crash_count != want)
		return;
	if (getenv("GFS_CRASH_STOP"))
		raise(SIGSTOP);
	else
		_exit(99);
}
