/* SPDX-License-Identifier: MIT */
/* error.c: filling struct os_error (see error.h). */
#include "config.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

void os_error_clear(struct os_error *err)
{
	if (!err)
		return;
	err->status = 0;
	err->where[0] = '\0';
	err->line = 0;
	err->message[0] = '\0';
}

void os_error_vset(struct os_error *err, int status, const char *fmt,
		   va_list ap)
{
	if (!err)
		return;
	err->status = status;
	err->where[0] = '\0';
	err->line = 0;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
}

void os_error_set(struct os_error *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	os_error_vset(err, status, fmt, ap);
	va_end(ap);
}

void os_error_set_at(struct os_error *err, int status, const char *where,
		     long line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	os_error_vset(err, status, fmt, ap);
	va_end(ap);
	snprintf(err->where, sizeof err->where, "%s", where ? where : "");
	err->line = line;
}

void os_error_locate(struct os_error *err, const char *where, long line)
{
	if (!err)
		return;
	snprintf(err->where, sizeof err->where, "%s", where ? where : "");
	err->line = line;
}
