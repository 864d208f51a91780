/* SPDX-License-Identifier: MIT */
/* fuzz-evaldata: libFuzzer harness for os-eval's inputs: the bytes are read
 * as judgments and as a run (TREC or JSONL, compressed or not), the run
 * both ways (by score and by rank), ranked and cut after 3 results with
 * the ranks of those the judgments hold relevant below. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/evaldata.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char path[64];
	int fd = memfd_create("input", 0);
	struct os_qrels q;
	struct os_qrels_opts o = {size & 1 ? 2.0 : NAN, 1 << 16};
	struct os_run run;
	struct os_error err;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	os_qrels_init(&q);
	if (os_qrels_load(&q, path, &o, &err) < 0) {
		os_qrels_release(&q);
		os_qrels_init(&q);
	}
	for (int by_rank = 0; by_rank < 2; by_rank++) {
		struct os_run_opts ro = {1 << 16, by_rank, 2, 3, &q};

		os_run_init(&run);
		os_run_load(&run, path, &ro, &err);
		os_run_release(&run);
	}
	os_qrels_release(&q);
	close(fd);
	return 0;
}
