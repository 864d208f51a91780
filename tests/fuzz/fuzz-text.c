/* SPDX-License-Identifier: MIT */
/* fuzz-text: libFuzzer harness for the normalizer, the tokenizer, hashed
 * n-grams and the keyword matcher. The input is a text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/keywords.h"
#include "lib/ngram.h"
#include "lib/normalize.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct os_dict dict;
	static int ready;
	struct os_tokens t;
	struct os_keyword_hit hits[64];
	struct os_error err;
	char *text, *norm;
	size_t len;

	if (!ready) {
		os_dict_init(&dict, 0);
		os_dict_add_lexicon(&dict, &err);
		os_dict_add(&dict, "brand", "hampton bay", "user", 0, &err);
		os_dict_add(&dict, "spec", "1/2 in.", "user", 0, &err);
		os_dict_build(&dict);
		ready = 1;
	}
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	norm = os_normalize(text, size, (size & 1) ? OS_NORM_KEEP_ACCENTS : 0,
			    &len, &err);
	if (norm) {
		os_tokens_init(&t);
		if (os_tokenize(&t, norm, len) == 0) {
			for (size_t i = 0; i < t.n; i++) {
				uint32_t ids[64];

				os_ngrams(os_token_text(&t, i), t.v[i].len, 1000,
					  ids, 64);
			}
			os_dict_find(&dict, &t, hits, 64);
		}
		os_tokens_release(&t);
		free(norm);
	}
	free(text);
	return 0;
}
