/* SPDX-License-Identifier: MIT */
/* cli.h: what every program's main() shares: its name, error messages in the
 * `prog: FILE:LINE: message` form, the `Try 'prog --help'` hint, --version,
 * number parsing for options, and the check that stdout was written.
 *
 * These functions print to the stream they are given (stderr for
 * diagnostics) and never exit: main() decides the status. */
#ifndef OS_CLI_H
#define OS_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "error.h"

/* The long options of every program's table, before its terminating
 * entry: -q, -v, -h, -V. */
#define OS_CLI_STANDARD_LONG_OPTIONS                                         \
	{"quiet", no_argument, NULL, 'q'},                                   \
		{"verbose", no_argument, NULL, 'v'},                         \
		{"help", no_argument, NULL, 'h'},                            \
		{"version", no_argument, NULL, 'V'}

/* The options every program takes besides those: --seed, --threads,
 * --max-line, -q and -v, parsed by os_cli_common_option() into a struct
 * os_cli_common. Their getopt values lie above any program's own. */
enum {
	OS_CLI_OPT_SEED = 0x1000,
	OS_CLI_OPT_THREADS,
	OS_CLI_OPT_MAX_LINE,
};

#define OS_CLI_COMMON_LONG_OPTIONS                                           \
	{"seed", required_argument, NULL, OS_CLI_OPT_SEED},                  \
		{"threads", required_argument, NULL, OS_CLI_OPT_THREADS},    \
		{"max-line", required_argument, NULL, OS_CLI_OPT_MAX_LINE}

struct os_cli_common {
	long seed;     /* --seed (default 1) */
	int seed_given;
	long threads;  /* --threads (default 0: all cores) */
	long max_line; /* --max-line (default OS_MAX_LINE_DEFAULT) */
	int quiet, verbose;
};

void os_cli_common_init(struct os_cli_common *co);
/* Takes getopt_long()'s result c (and optarg) when it is one of the
 * common options. Returns 1 when it was, 0 when it is not one of them, -1
 * after printing a bad value (a usage error). */
int os_cli_common_option(int c, const char *arg, struct os_cli_common *co);

/* Remembers the program name (the basename of argv0); call first. */
void os_cli_init(const char *argv0);
const char *os_cli_program(void);

/* `prog: message` on stderr. */
void os_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `prog: [WHERE:LINE: ]message` on stderr. */
void os_cli_report(const struct os_error *err);
/* The usage-error tail: `Try 'prog --help' for more information.` */
void os_cli_try_help(void);
/* The end of every --help text: -h, -V, the exit statuses and the
 * manual pages `see` names. */
void os_cli_help_tail(const char *see);

/* `prog (onesearch) VERSION` and the licence line, to `out`. */
void os_cli_version(FILE *out);

/* The getopt_long() results every program handles alike (optstring
 * starting with ':'): 'h' calls help(), 'V' prints the version, ':' and
 * '?' report the bad option. Returns 1 after help or version (exit 0), -1
 * after a usage error, 0 when c is none of these. */
int os_cli_standard_option(int c, char *const *argv, void (*help)(void));

/* The exit status of a program whose option parsing did not lead to a
 * run: `parsed` -1 is a usage error (the hint is printed, status 2), 1 a
 * --help or --version already printed (stdout is checked, status 0 or 1). */
int os_cli_options_exit(int parsed);

/* Option values. Each returns 0, or -1 after printing `prog: invalid
 * OPTION value 'ARG'` (a usage error). */
int os_cli_parse_long(const char *option, const char *arg, long min, long max,
		      long *out);
int os_cli_parse_double(const char *option, const char *arg, double min,
			double max, double *out);

/* A comma-separated list of at most `max_n` integers from min to max, into
 * out[0..*n). Returns 0, or -1 after printing `prog: invalid OPTION value
 * 'ARG' (up to MAX_N WHAT from MIN to MAX, comma-separated)`. */
int os_cli_parse_list(const char *option, const char *arg, long min, long max,
		      const char *what, long *out, size_t max_n, size_t *n);

/* One word of a fixed set: *out is the index of `arg` in `names` (a
 * NULL-terminated list). Returns 0, or -1 after printing `prog: invalid
 * OPTION value 'ARG' (known: NAME, NAME...)`. */
int os_cli_parse_choice(const char *option, const char *arg,
			const char *const *names, int *out);

/* Flushes and closes stdout; on a write error (disk full, closed pipe)
 * returns -1, after printing `prog: write error: ...` when `report` is
 * set (main() passes 0 when it already reported a failure). */
int os_cli_close_stdout(int report);

/* Seconds on a monotonic clock, for progress and reports. */
double os_cli_now(void);

#endif
