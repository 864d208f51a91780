/* SPDX-License-Identifier: MIT */
/* test-normalize: the normalizer, the tokenizer's shop tokens, and hashed
 * character n-grams. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/analyze.h"
#include "lib/ngram.h"
#include "lib/normalize.h"
#include "tap.h"

static const char *norm(const char *s, unsigned flags)
{
	static char buf[1100];
	struct os_error err;
	size_t len;
	char *n = os_normalize(s, strlen(s), flags, &len, &err);

	if (!n)
		snprintf(buf, sizeof buf, "ERROR %d: %s", err.status, err.message);
	else
		snprintf(buf, sizeof buf, "%s", n);
	free(n);
	return buf;
}

/* The tokens of `s` joined by '|', each kind marked: # number, @ unit,
 * ^ CJK. */
static const char *toks(const char *s)
{
	static char buf[512];
	static const char mark[] = {0, '#', '@', '^'};
	struct os_tokens t;
	struct os_error err;
	size_t len = 0;

	os_tokens_init(&t);
	buf[0] = '\0';
	if (os_analyze(&t, s, 0, &err) == 0)
		for (size_t i = 0; i < t.n; i++) {
			int n = snprintf(buf + len, sizeof buf - len, "%s%s%c",
					 i ? "|" : "", os_token_text(&t, i),
					 mark[t.v[i].kind]);

			len += (size_t)n - (mark[t.v[i].kind] == 0);
			buf[len] = '\0';
		}
	os_tokens_release(&t);
	return buf;
}

static void test_normalize(void)
{
	is_str(norm("ＡＢＣ１２３", 0), "abc123", "full-width letters and digits");
	is_str(norm("Café Crème", 0), "cafe creme", "accents folded");
	is_str(norm("Café", OS_NORM_KEEP_ACCENTS), "café", "accents kept on request");
	is_str(norm("STRASSE Straße", 0), "strasse strasse", "case folding of sharp s");
	is_str(norm("Briggs &amp; Stratton &#174; &#x41;", 0), "briggs & stratton ® a",
	       "HTML character references decoded");
	is_str(norm("&bogus; &#xZZ; &", 0), "&bogus; &#xzz; &", "unknown references kept");
	is_str(norm("zero\xe2\x80\x8bwidth soft\xc2\xadhyphen", 0), "zerowidth softhyphen",
	       "default-ignorable characters removed");
	is_str(norm("ﬁ ½ ²", 0), "fi 1⁄2 2", "compatibility forms");
	is_str(norm("电钻 ドリル", 0), "电钻 ドリル", "CJK unchanged");
	is_str(norm("ok \xff", 0), "ERROR 3: invalid UTF-8", "invalid UTF-8 is bad input");
}

static void test_tokenize(void)
{
	is_str(toks("1/2 in. PVC Pipe"), "1/2#|in.@|pvc|pipe", "fraction and unit");
	is_str(toks("1/2in pvc"), "1/2#|in.@|pvc", "glued unit split and made canonical");
	is_str(toks("3/4\" x 8' board"), "3/4#|in.@|x|8#|ft.@|board", "inch and foot marks");
	is_str(toks("1-1/2 in. 1.9 cu. ft. .105 line"),
	       "1-1/2#|in.@|1.9#|cu.@|ft.@|.105#|line", "mixed numbers, decimals, cubic feet");
	is_str(toks("3-Prong #SC-141 Strong-Tie"), "3-prong|#sc-141|strong-tie",
	       "hyphenated words and codes kept whole");
	is_str(toks("Men's B&D 2x4"), "men's|b&d|2x4", "inner apostrophe and ampersand");
	is_str(toks("1,000 sq. ft. (Pack of 2)."), "1000#|sq.@|ft.@|pack|of|2#",
	       "thousands separator and sentence punctuation");
	is_str(toks("in stock in."), "in|stock|in.", "in. keeps its dot, the word in does not get one");
	is_str(toks("iPhone手机壳 🚀 case"), "iphone|手^|机^|壳^|case",
	       "CJK one token per character, emoji separate");
	is_str(toks("60w 12V bulb"), "60#|w@|12#|v@|bulb", "watt and volt glued");
	is_str(toks(""), "", "empty text has no tokens");
}

static void test_ngrams(void)
{
	uint32_t a[64], b[64];
	size_t na = os_ngrams("abc", 3, 1000, a, 64), nb, shared = 0;

	is_long((long)na, 6, "'<abc>' has 3 trigrams, 2 four-grams, 1 five-gram");
	nb = os_ngrams("abc", 3, 1000, b, 64);
	ok(nb == na && memcmp(a, b, na * sizeof *a) == 0, "same token, same buckets");
	for (size_t i = 0; i < na; i++)
		ok(a[i] < 1000, "bucket within range");
	na = os_ngrams("steel", 5, 1u << 20, a, 64);
	nb = os_ngrams("steele", 6, 1u << 20, b, 64);
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++)
			if (a[i] == b[k]) {
				shared++;
				break;
			}
	ok(shared * 2 >= na, "a typo keeps most n-grams of the word");
	is_long((long)os_ngrams("é", 2, 1000, a, 64), 1, "code points, not bytes: '<é>' is one trigram");
	is_long((long)os_ngrams("abcdefgh", 8, 1000, a, 2), 21, "count beyond cap is still reported");
}

int main(void)
{
	test_normalize();
	test_tokenize();
	test_ngrams();
	return tap_done();
}
