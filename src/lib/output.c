/* SPDX-License-Identifier: MIT */
/* output.c: write to a temporary file, rename into place (see output.h). */
#include "config.h"

#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int os_output_open(struct os_output *o, const char *path, struct os_error *err)
{
	mode_t mask;
	int fd;
	struct stat st;

	memset(o, 0, sizeof *o);
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (!(o->f = fopen(path, "w"))) {
			os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s", path,
				     strerror(errno));
			return -1;
		}
		o->direct = 1;
		o->path = strdup(path);
		if (!o->path) {
			fclose(o->f);
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
			memset(o, 0, sizeof *o);
			return -1;
		}
		return 0;
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 16);
	if (!o->path || !o->tmp) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto fail;
	}
	sprintf(o->tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(o->tmp); /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot create '%s': %s",
			     o->tmp, strerror(errno));
		goto fail;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "w"))) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s",
			     o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return 0;
fail:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
	return -1;
}

int os_output_commit(struct os_output *o, struct os_error *err)
{
	int failed;

	if (o->direct) {
		failed = fflush(o->f) != 0 || ferror(o->f);
		if (fclose(o->f) != 0)
			failed = 1;
		if (failed)
			os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s",
				     o->path, strerror(errno));
		free(o->path);
		memset(o, 0, sizeof *o);
		return failed ? -1 : 0;
	}
	if (!o->tmp)
		return 0; /* stdout: os_cli_close_stdout() flushes and checks */
	failed = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0;
	if (fclose(o->f) != 0)
		failed = 1;
	o->f = NULL;
	if (failed || rename(o->tmp, o->path) != 0) {
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s",
			     o->path, strerror(errno));
		unlink(o->tmp);
		free(o->tmp);
		free(o->path);
		o->tmp = o->path = NULL;
		return -1;
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
}

void os_output_abort(struct os_output *o)
{
	if (o->direct) {
		fclose(o->f);
		free(o->path);
		memset(o, 0, sizeof *o);
		return;
	}
	if (!o->tmp)
		return;
	if (o->f)
		fclose(o->f);
	unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof *o);
}

void os_output_write_error(struct os_error *err, const char *path)
{
	const char *reason = errno ? strerror(errno) : "unknown error";

	if (!path || strcmp(path, "-") == 0)
		os_error_set(err, OS_EXIT_FAILURE, "write error: %s", reason);
	else
		os_error_set(err, OS_EXIT_FAILURE, "cannot write '%s': %s", path,
			     reason);
}
