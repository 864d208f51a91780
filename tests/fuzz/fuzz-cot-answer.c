/* SPDX-License-Identifier: MIT */
/* fuzz-cot-answer: libFuzzer harness for os-cot's reading of a chat
 * model's answer: the bytes are the HTTP response body. An answer that
 * is accepted must pass the CoT schema check. */
#include "config.h"

#include <stdlib.h>

#include "lib/cot.h"
#include "lib/cot_answer.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct os_error err;
	cJSON *cot = os_cot_answer_parse((const char *)data, size, &err);

	if (cot && os_cot_check(cot, &err) != 0)
		abort();
	cJSON_Delete(cot);
	return 0;
}
