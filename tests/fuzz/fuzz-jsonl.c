/* SPDX-License-Identifier: MIT */
/* fuzz-jsonl: libFuzzer harness for the line and JSONL readers (through
 * libarchive, so compressed and tar inputs too) and the JSONL writer. The
 * input is a file's bytes. */
#include "config.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/jsonl.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static FILE *sink;
	char path[64], *paths[1] = {path};
	int fd = memfd_create("input", 0);
	struct os_jsonl_reader *r;
	struct os_error err;
	cJSON *obj;
	int rc;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	r = os_jsonl_reader_new(paths, 1, 1 << 16);
	while ((rc = os_jsonl_reader_next(r, &obj, &err)) != 0)
		if (rc > 0) {
			os_jsonl_write(sink, obj);
			cJSON_Delete(obj);
		}
	os_jsonl_reader_free(r);
	close(fd);
	return 0;
}
