/* SPDX-License-Identifier: MIT */
/* cli.c: the shared command-line helpers (see cli.h). */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lines.h"

static const char *program_name = "onesearch";

void os_cli_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	program_name = slash ? slash + 1 : argv0;
}

const char *os_cli_program(void)
{
	return program_name;
}

void os_cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void os_cli_report(const struct os_error *err)
{
	if (err->where[0] && err->line > 0)
		fprintf(stderr, "%s: %s:%ld: %s\n", program_name, err->where,
			err->line, err->message);
	else if (err->where[0])
		fprintf(stderr, "%s: %s: %s\n", program_name, err->where,
			err->message);
	else
		fprintf(stderr, "%s: %s\n", program_name, err->message);
}

void os_cli_try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n",
		program_name);
}

void os_cli_version(FILE *out)
{
	fprintf(out,
		"%s (%s) %s\n"
		"Copyright (c) 2026 the onesearch authors.\n"
		"License MIT: this is free software; you are free to change "
		"and redistribute it.\n",
		program_name, PACKAGE_NAME, PACKAGE_VERSION);
}

void os_cli_help_tail(const char *see)
{
	printf("  -h, --help               display this help and exit\n"
	       "  -V, --version            output version information and exit\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage error, 3 bad "
	       "input.\n"
	       "See %s.\n",
	       see);
}

int os_cli_standard_option(int c, char *const *argv, void (*help)(void))
{
	switch (c) {
	case 'h':
		help();
		return 1;
	case 'V':
		os_cli_version(stdout);
		return 1;
	case ':':
		os_cli_warn("option '%s' requires an argument", argv[optind - 1]);
		return -1;
	case '?':
		if (optopt)
			os_cli_warn("invalid option -- '%c'", optopt);
		else
			os_cli_warn("unrecognized option '%s'", argv[optind - 1]);
		return -1;
	default:
		return 0;
	}
}

void os_cli_common_init(struct os_cli_common *co)
{
	memset(co, 0, sizeof *co);
	co->seed = 1;
	co->max_line = (long)OS_MAX_LINE_DEFAULT;
}

int os_cli_common_option(int c, const char *arg, struct os_cli_common *co)
{
	switch (c) {
	case OS_CLI_OPT_SEED:
		co->seed_given = 1;
		return os_cli_parse_long("--seed", arg, 0, 1L << 62, &co->seed) < 0
			       ? -1
			       : 1;
	case OS_CLI_OPT_THREADS:
		return os_cli_parse_long("--threads", arg, 1, 1024, &co->threads) < 0
			       ? -1
			       : 1;
	case OS_CLI_OPT_MAX_LINE:
		return os_cli_parse_long("--max-line", arg, 16, 1L << 40,
					 &co->max_line) < 0
			       ? -1
			       : 1;
	case 'q':
		co->quiet = 1;
		return 1;
	case 'v':
		co->verbose = 1;
		return 1;
	default:
		return 0;
	}
}

int os_cli_parse_long(const char *option, const char *arg, long min, long max,
		      long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		os_cli_warn("invalid %s value '%s' (an integer from %ld to %ld)",
			    option, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int os_cli_parse_list(const char *option, const char *arg, long min, long max,
		      const char *what, long *out, size_t max_n, size_t *n)
{
	const char *p = arg;

	*n = 0;
	for (;;) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || (*end && *end != ',') || v < min ||
		    v > max || *n == max_n) {
			os_cli_warn("invalid %s value '%s' (up to %zu %s from %ld "
				    "to %ld, comma-separated)",
				    option, arg, max_n, what, min, max);
			return -1;
		}
		out[(*n)++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int os_cli_parse_choice(const char *option, const char *arg,
			const char *const *names, int *out)
{
	char known[256];
	size_t used = 0;

	for (int i = 0; names[i]; i++)
		if (strcmp(arg, names[i]) == 0) {
			*out = i;
			return 0;
		}
	known[0] = '\0';
	for (int i = 0; names[i] && used < sizeof known; i++)
		used += (size_t)snprintf(known + used, sizeof known - used,
					 "%s%s", i ? ", " : "", names[i]);
	os_cli_warn("invalid %s value '%s' (known: %s)", option, arg, known);
	return -1;
}

int os_cli_parse_double(const char *option, const char *arg, double min,
			double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min && v <= max)) {
		os_cli_warn("invalid %s value '%s' (a number from %g to %g)",
			    option, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int os_cli_close_stdout(int report)
{
	int failed, saved;

	errno = 0;
	failed = fflush(stdout) != 0 || ferror(stdout);
	saved = errno;
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	if (failed && report)
		os_cli_warn("write error: %s",
			    saved ? strerror(saved) : "unknown error");
	return failed ? -1 : 0;
}

double os_cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int os_cli_options_exit(int parsed)
{
	if (parsed < 0) {
		os_cli_try_help();
		return OS_EXIT_USAGE;
	}
	return os_cli_close_stdout(1) < 0 ? OS_EXIT_FAILURE : OS_EXIT_OK;
}
