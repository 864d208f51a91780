/* SPDX-License-Identifier: MIT */
/* sidindex.c: the SID table and its trie (see sidindex.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidindex.h"

void os_sidindex_release(struct os_sidindex *s)
{
	os_strmap_release(&s->ids);
	free(s->codes);
	free(s->first);
	free(s->count);
	free(s->code);
	free(s->parent);
	free(s->item);
	memset(s, 0, sizeof *s);
}

long os_sidindex_find(const struct os_sidindex *s, const char *id)
{
	return os_strmap_find(&s->ids, id, strlen(id));
}

uint32_t os_trie_child(const struct os_sidindex *s, uint32_t node,
		       uint32_t code)
{
	uint32_t lo = s->first[node], hi = lo + s->count[node];

	if (s->first[node] == OS_TRIE_NONE)
		return OS_TRIE_NONE;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->code[mid] < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->first[node] + s->count[node] && s->code[lo] == code
		       ? lo
		       : OS_TRIE_NONE;
}

/* Orders item indices by their codes (ctx: the index). */
static int by_codes(const void *a, const void *b, void *ctx)
{
	const struct os_sidindex *s = ctx;
	const uint32_t *x = s->codes + *(const uint32_t *)a * s->levels;
	const uint32_t *y = s->codes + *(const uint32_t *)b * s->levels;

	for (size_t l = 0; l < s->levels; l++)
		if (x[l] != y[l])
			return x[l] < y[l] ? -1 : 1;
	return 0;
}

/* Builds the trie over the items sorted by codes: level by level, each
 * node's children are the runs of equal codes inside its range. */
static int build_trie(struct os_sidindex *s, const uint32_t *order, size_t n,
		      struct os_error *err)
{
	size_t L = s->levels;
	/* item ranges [lo, hi) of the nodes of the current level */
	uint32_t *lo = malloc((n + 1) * sizeof *lo), *hi = malloc((n + 1) * sizeof *hi);
	uint32_t *nlo = malloc((n + 1) * sizeof *nlo), *nhi = malloc((n + 1) * sizeof *nhi);
	size_t level_first = 0, level_count = 1;
	int rc = -1;

	if (!lo || !hi || !nlo || !nhi)
		goto oom;
	lo[0] = 0;
	hi[0] = (uint32_t)n;
	s->parent[0] = 0;
	s->code[0] = 0;
	s->nnodes = 1;
	for (size_t l = 0; l <= L; l++) {
		size_t next = 0;

		for (size_t k = 0; k < level_count; k++) {
			size_t node = level_first + k;

			if (l == L) {
				s->first[node] = OS_TRIE_NONE;
				s->count[node] = 0;
				s->item[node] = order[lo[k]];
				continue;
			}
			s->first[node] = (uint32_t)(s->nnodes + next);
			s->count[node] = 0;
			s->item[node] = OS_TRIE_NONE;
			for (uint32_t i = lo[k]; i < hi[k];) {
				uint32_t c = s->codes[(size_t)order[i] * L + l], j = i;

				while (j < hi[k] && s->codes[(size_t)order[j] * L + l] == c)
					j++;
				s->code[s->nnodes + next] = c;
				s->parent[s->nnodes + next] = (uint32_t)node;
				nlo[next] = i;
				nhi[next] = j;
				next++;
				s->count[node]++;
				i = j;
			}
		}
		if (l == L)
			break;
		level_first = s->nnodes;
		level_count = next;
		s->nnodes += next;
		memcpy(lo, nlo, next * sizeof *lo);
		memcpy(hi, nhi, next * sizeof *hi);
	}
	rc = 0;
	goto done;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
done:
	free(lo), free(hi), free(nlo), free(nhi);
	return rc;
}

int os_sidindex_build(struct os_sidindex *s, const char *const *ids,
		      const uint32_t *codes, size_t n, size_t levels,
		      struct os_error *err)
{
	uint32_t *order = NULL;
	size_t most = (levels + 1) * n + 1;

	memset(s, 0, sizeof *s);
	os_strmap_init(&s->ids);
	s->levels = levels;
	s->codes = malloc(n * levels * sizeof *s->codes + 1);
	order = malloc(n * sizeof *order + 1);
	/* a trie has at most one node per item and level, plus the root */
	s->first = malloc(most * sizeof *s->first);
	s->count = malloc(most * sizeof *s->count);
	s->code = malloc(most * sizeof *s->code);
	s->parent = malloc(most * sizeof *s->parent);
	s->item = malloc(most * sizeof *s->item);
	if (!s->codes || !order || !s->first || !s->count || !s->code || !s->parent ||
	    !s->item)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int added = 0;

		if (os_strmap_intern(&s->ids, ids[i], strlen(ids[i]), &added) < 0)
			goto oom;
		if (!added) {
			os_error_set(err, OS_EXIT_FAILURE, "item '%s' has two SIDs", ids[i]);
			goto fail;
		}
		memcpy(s->codes + i * levels, codes + i * levels, levels * sizeof *codes);
		for (size_t l = 0; l < levels; l++)
			if (codes[i * levels + l] + 1 > s->level_codes[l])
				s->level_codes[l] = codes[i * levels + l] + 1;
		order[i] = (uint32_t)i;
	}
	qsort_r(order, n, sizeof *order, by_codes, s);
	for (size_t i = 1; i < n; i++)
		if (by_codes(&order[i - 1], &order[i], s) == 0) {
			os_error_set(err, OS_EXIT_FAILURE,
				     "items '%s' and '%s' share one SID (run os-quantize again)",
				     ids[order[i - 1]], ids[order[i]]);
			goto fail;
		}
	if (build_trie(s, order, n, err) < 0)
		goto fail;
	free(order);
	return 0;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "out of memory");
fail:
	free(order);
	os_sidindex_release(s);
	return -1;
}

/* SIDs read from the catalog, before the index is built. */
struct loading {
	char **ids;
	uint32_t *codes;
	size_t n, cap, levels;
	struct os_error *err;
};

static int load_row(void *ctx, const char *item, const char *sid)
{
	struct loading *ld = ctx;
	size_t levels = 1;
	uint32_t *codes;
	char **ids;
	const char *p = sid;

	for (const char *q = sid; *q; q++)
		levels += *q == ',';
	if (!ld->levels)
		ld->levels = levels;
	if (levels != ld->levels || levels > OS_SID_MAX_LEVELS) {
		os_error_set(ld->err, OS_EXIT_FAILURE,
			     "item '%s' has a SID of %zu levels, others have %zu",
			     item, levels, ld->levels);
		return -1;
	}
	if (ld->n == ld->cap) {
		size_t cap = ld->cap ? 2 * ld->cap : 1024;

		if (!(ids = realloc(ld->ids, cap * sizeof *ids)))
			return 1;
		ld->ids = ids;
		if (!(codes = realloc(ld->codes, cap * levels * sizeof *codes)))
			return 1;
		ld->codes = codes;
		ld->cap = cap;
	}
	for (size_t l = 0; l < levels; l++) {
		char *end;
		unsigned long c = strtoul(p, &end, 10);

		if (end == p || c >= UINT32_MAX || *end != (l + 1 < levels ? ',' : 0)) {
			os_error_set(ld->err, OS_EXIT_FAILURE,
				     "item '%s' has a malformed SID '%s'", item, sid);
			return -1;
		}
		ld->codes[ld->n * levels + l] = (uint32_t)c;
		p = end + 1;
	}
	if (!(ld->ids[ld->n] = strdup(item)))
		return 1;
	ld->n++;
	return 0;
}

int os_sidindex_load(struct os_sidindex *s, struct os_catalog *c,
		     struct os_error *err)
{
	struct loading ld = {.err = err};
	char *fp;
	int rc = os_catalog_sids_each(c, load_row, &ld, err);

	memset(s, 0, sizeof *s);
	if (rc > 0)
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
	else if (rc == 0 && ld.n == 0)
		os_error_set(err, OS_EXIT_FAILURE,
			     "the catalog has no SIDs (run os-quantize first)");
	if (rc == 0 && ld.n > 0)
		rc = os_sidindex_build(s, (const char *const *)ld.ids, ld.codes,
				       ld.n, ld.levels, err);
	else
		rc = -1;
	for (size_t i = 0; i < ld.n; i++)
		free(ld.ids[i]);
	free(ld.ids);
	free(ld.codes);
	if (rc < 0)
		return -1;
	fp = os_catalog_meta_get(c, "sid_fingerprint", err);
	if (!fp && err->status) {
		os_sidindex_release(s);
		return -1;
	}
	snprintf(s->fingerprint, sizeof s->fingerprint, "%s", fp ? fp : "");
	free(fp);
	return 0;
}
