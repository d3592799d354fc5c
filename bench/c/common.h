/* Helpers shared by the benchmark's C programs: a stop flag set by
 * SIGTERM/SIGINT, a monotonic clock, CPU time, and argument parsing. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static volatile sig_atomic_t stop_flag;

static inline void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* No SA_RESTART: a blocking recv must return EINTR so the loop sees the flag. */
static inline void install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void cpu_times(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* arg_num returns the number after flag name in argv, or def. Flags are
 * "-name value" pairs; anything else is a usage error. */
static inline double arg_num(int argc, char **argv, const char *name, double def)
{
	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], name) == 0)
			return strtod(argv[i + 1], NULL);
	return def;
}

static inline void check_args(int argc, char **argv, const char *usage)
{
	if (argc % 2 == 1)
		return;
	fprintf(stderr, "usage: %s %s\n", argv[0], usage);
	exit(2);
}

#endif
