#ifndef GFS_XMALLOC_H
#define GFS_XMALLOC_H

#include <stddef.h>

/* These abort on out-of-memory; durable state is written before any reply. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
