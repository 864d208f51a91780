/* SPDX-License-Identifier: MIT */
/* ngram.c: hashed character n-grams (see ngram.h). */
#include "config.h"

#include "ngram.h"

#include "hash.h"

/* Byte length of the UTF-8 sequence that starts with byte c. */
static size_t seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

size_t os_ngrams(const char *token, size_t len, uint32_t buckets,
		 uint32_t *out, size_t cap)
{
	/* Code point starts of "<token>": index 0 is '<', the last is '>'. */
	size_t starts[130], ncp = 0, count = 0;
	size_t i = 0;

	while (i < len && ncp < 128) {
		starts[ncp++] = i;
		i += seq_len((unsigned char)token[i]);
	}
	if (i > len)
		i = len;
	starts[ncp] = i; /* end of the (possibly cut) token */
	for (size_t n = OS_NGRAM_MIN; n <= OS_NGRAM_MAX; n++) {
		/* positions -1 ('<') .. ncp ('>') in code points */
		for (long a = -1; a + (long)n <= (long)ncp + 1; a++) {
			long b = a + (long)n; /* one past the last position */
			uint64_t h = OS_FNV_OFFSET;
			size_t from, to;

			if (a < 0)
				h = os_hash_bytes(h, "<", 1);
			from = starts[a < 0 ? 0 : a];
			to = starts[b > (long)ncp ? (long)ncp : b];
			h = os_hash_bytes(h, token + from, to - from);
			if (b > (long)ncp)
				h = os_hash_bytes(h, ">", 1);
			if (count < cap)
				out[count] = (uint32_t)(os_hash_mix(h) % buckets);
			count++;
		}
	}
	return count;
}
