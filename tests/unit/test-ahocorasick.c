/* SPDX-License-Identifier: MIT */
/* test-ahocorasick: the automaton against a naive leftmost-longest matcher
 * on random patterns and texts, hand-made cases, and the keyword
 * dictionary built on it (types, spec pattern, TSV errors). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ahocorasick.h"
#include "lib/analyze.h"
#include "lib/keywords.h"
#include "lib/rng.h"
#include "tap.h"

struct pattern {
	uint32_t sym[4];
	size_t n;
};

/* The reference: at each position the longest pattern that starts there
 * (the last added wins among equal ones), then skip past it. */
static size_t naive(const struct pattern *p, size_t np, const uint32_t *text,
		    size_t n, struct os_ac_match *out)
{
	size_t count = 0;

	for (size_t i = 0; i < n;) {
		size_t best = 0;
		uint32_t val = 0;

		for (size_t k = 0; k < np; k++)
			if (p[k].n >= best && i + p[k].n <= n &&
			    memcmp(text + i, p[k].sym, p[k].n * sizeof *text) == 0) {
				best = p[k].n;
				val = (uint32_t)k;
			}
		if (!best) {
			i++;
			continue;
		}
		out[count].start = i;
		out[count].len = best;
		out[count].value = val;
		count++;
		i += best;
	}
	return count;
}

static void test_against_naive(void)
{
	struct os_rng rng;
	int agree = 1;

	os_rng_seed(&rng, 7);
	for (int round = 0; round < 300 && agree; round++) {
		struct pattern p[12];
		size_t np = 1 + os_rng_below(&rng, 12);
		struct os_ac *ac = os_ac_new();
		uint32_t text[80];
		struct os_ac_match got[80], want[80];
		size_t ng, nw;

		for (size_t k = 0; k < np; k++) {
			p[k].n = 1 + os_rng_below(&rng, 4);
			for (size_t i = 0; i < p[k].n; i++)
				p[k].sym[i] = (uint32_t)os_rng_below(&rng, 3);
			/* a repeated pattern takes the later value in both */
			os_ac_add(ac, p[k].sym, p[k].n, (uint32_t)k);
		}
		os_ac_build(ac);
		for (size_t i = 0; i < 80; i++)
			text[i] = (uint32_t)os_rng_below(&rng, 4);
		ng = os_ac_find(ac, text, 80, got, 80);
		nw = naive(p, np, text, 80, want);
		agree = ng == nw;
		for (size_t i = 0; agree && i < ng; i++)
			agree = got[i].start == want[i].start &&
				got[i].len == want[i].len;
		os_ac_free(ac);
	}
	ok(agree, "300 random automata agree with the naive matcher");
}

static void test_cases(void)
{
	/* he=0 she=1 his=2 hers=3 over letters as symbols */
	const char *pats[] = {"he", "she", "his", "hers"};
	struct os_ac *ac = os_ac_new();
	struct os_ac_match m[16];
	uint32_t text[16];
	const char *s = "ushers";
	size_t n;

	for (size_t k = 0; k < 4; k++) {
		uint32_t sym[8];

		for (size_t i = 0; pats[k][i]; i++)
			sym[i] = (uint32_t)pats[k][i];
		os_ac_add(ac, sym, strlen(pats[k]), (uint32_t)k);
	}
	os_ac_build(ac);
	for (size_t i = 0; s[i]; i++)
		text[i] = (uint32_t)s[i];
	n = os_ac_find(ac, text, strlen(s), m, 16);
	is_long((long)n, 1, "ushers: one leftmost-longest match");
	ok(n == 1 && m[0].start == 1 && m[0].value == 1, "it is 'she' at 1, nested 'he' and overlapping 'hers' dropped");
	text[0] = OS_AC_NO_SYMBOL;
	is_long((long)os_ac_find(ac, text, 1, m, 16), 0, "an unknown symbol matches nothing");
	os_ac_free(ac);
}

static const char *annotate(const struct os_dict *d, const char *text)
{
	static char out[1024];
	struct os_tokens t;
	struct os_keyword_hit hits[32];
	struct os_error err;
	long n;
	size_t len = 0;
	char buf[256];

	os_tokens_init(&t);
	os_analyze(&t, text, 0, &err);
	n = os_dict_find(d, &t, hits, 32);
	out[0] = '\0';
	for (long i = 0; i < n && i < 32; i++)
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s",
					i ? "," : "", hits[i].type,
					os_keyword_hit_text(d, &t, &hits[i], buf, sizeof buf));
	os_tokens_release(&t);
	return out;
}

static void test_dict(void)
{
	struct os_dict d;
	struct os_error err;
	char path[] = "/tmp/test-dict-XXXXXX";
	int fd;

	os_dict_init(&d, 0);
	os_dict_add(&d, "color", "Oil Rubbed Bronze", "user", 0, &err);
	os_dict_add(&d, "color", "Bronze", "user", 0, &err);
	os_dict_add(&d, "material", "bronze", "user", 0, &err);
	os_dict_add(&d, "brand", "Hampton Bay", "user", 0, &err);
	os_dict_add(&d, "product", "ceiling fan", "user", 0, &err);
	is_long(os_dict_add(&d, "brand", "HAMPTON   bay", "user", 0, &err), 3,
		"the same keyword in another spelling is the same entry");
	is_long(os_dict_add(&d, "brand", " !! ", "user", 0, &err), -1, "a keyword without words is refused");
	is_long(err.status, 3, "with status 3");
	os_dict_build(&d);
	is_str(annotate(&d, "Hampton Bay 52 in. Ceiling Fan in Oil Rubbed Bronze"),
	       "brand=hampton bay,spec=52 in.,product=ceiling fan,color=oil rubbed bronze",
	       "phrases in order, the longest color wins over nested bronze");
	is_str(annotate(&d, "bronze 12-gauge wire, 1.9 cu. ft., 12-gauge"),
	       "color=bronze,material=bronze,spec=12-gauge,spec=1.9 cu. ft.",
	       "a phrase with two types gives both; specs once each");
	is_str(annotate(&d, "nothing here"), "", "no keywords");
	os_dict_release(&d);

	os_dict_init(&d, 0);
	os_dict_add(&d, "spec", "1/2 in.", "user", 0, &err);
	os_dict_build(&d);
	is_str(annotate(&d, "1/2in pipe"), "spec=1/2 in.",
	       "a spec in the dictionary and the pattern is reported once");
	os_dict_release(&d);

	fd = mkstemp(path);
	if (write(fd, "# comment\n\nbrand\tBEHR\nbroken line\n", 33) != 33)
		return;
	close(fd);
	os_dict_init(&d, 0);
	is_long(os_dict_load_tsv(&d, path, "user", &err), -1, "a TSV line without a tab is refused");
	is_long(err.line, 4, "at its line");
	is_str(err.message, "expected 'type<TAB>keyword'", "with a clear message");
	is_long((long)d.n, 1, "the lines before it were read");
	os_dict_release(&d);
	unlink(path);
}

int main(void)
{
	test_against_naive();
	test_cases();
	test_dict();
	return tap_done();
}
