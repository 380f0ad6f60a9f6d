#ifndef GFS_LOG_H
#define GFS_LOG_H

#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *progname, int verbose);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);	/* appends strerror */
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(const char *, ...) PRINTFLIKE(1, 2);
void	fatal(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));

#endif
