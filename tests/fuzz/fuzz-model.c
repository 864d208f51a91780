/* SPDX-License-Identifier: MIT */
/* fuzz-model: libFuzzer harness for the model file loader: the bytes are
 * read as a model (container, settings, configuration, tensor shapes).
 * For inputs of even size the checksum at the end is made right first, so
 * that mutations reach the parser behind it. */
#include "config.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/model_io.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char path[64];
	int fd = memfd_create("model", 0);
	struct os_model m;
	struct os_tensorfile settings;
	struct os_error err;
	unsigned char *bytes = malloc(size + 1);
	int written;

	if (!bytes)
		return 0;
	memcpy(bytes, data, size);
	if (size >= 8 && size % 2 == 0) {
		uint64_t h = os_hash_bytes(OS_FNV_OFFSET, bytes, size - 8);

		for (int i = 0; i < 8; i++)
			bytes[size - 8 + i] = (unsigned char)(h >> (8 * i));
	}
	written = fd >= 0 && write(fd, bytes, size) == (ssize_t)size;
	free(bytes);
	if (!written) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (os_model_load(&m, path, 1, &settings, &err) == 0) {
		os_tensorfile_release(&settings);
		os_model_release(&m);
	}
	close(fd);
	return 0;
}
