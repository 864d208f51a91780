/* SPDX-License-Identifier: MIT */
/* dense.c: exact dense retrieval (see dense.h): one matrix-vector product
 * (BLAS where configure found it) and a k-element min-heap. */
#include "config.h"

#include "dense.h"

#include "matmul.h"

/* Whether a ranks below b: a lower score, or the same score and a later
 * row. */
static int worse(const struct os_dense_hit *a, const struct os_dense_hit *b)
{
	return a->score < b->score || (a->score == b->score && a->row > b->row);
}

/* Restores the heap (worst at the root) below position i. */
static void sift_down(struct os_dense_hit *h, size_t n, size_t i)
{
	for (;;) {
		size_t least = i, l = 2 * i + 1, r = l + 1;
		struct os_dense_hit t;

		if (l < n && worse(&h[l], &h[least]))
			least = l;
		if (r < n && worse(&h[r], &h[least]))
			least = r;
		if (least == i)
			return;
		t = h[i];
		h[i] = h[least];
		h[least] = t;
		i = least;
	}
}

/* The k best of n scores (k at most n, above 0) into out, best first. */
static void top_of_scores(const float *scores, size_t n, size_t k,
			  struct os_dense_hit *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct os_dense_hit h = {i, scores[i]};

		if (m < k) {
			size_t c = m++;

			out[c] = h; /* sift up */
			while (c > 0 && worse(&out[c], &out[(c - 1) / 2])) {
				struct os_dense_hit t = out[c];

				out[c] = out[(c - 1) / 2];
				out[(c - 1) / 2] = t;
				c = (c - 1) / 2;
			}
		} else if (worse(&out[0], &h)) {
			out[0] = h;
			sift_down(out, m, 0);
		}
	}
	/* heap sort: the worst goes to the end each time */
	for (size_t end = m; end > 1; end--) {
		struct os_dense_hit t = out[0];

		out[0] = out[end - 1];
		out[end - 1] = t;
		sift_down(out, end - 1, 0);
	}
}

size_t os_dense_top(const float *x, size_t n, size_t dim, const float *q,
		    size_t k, float *scores, struct os_dense_hit *out)
{
	return os_dense_top_many(x, n, dim, q, 1, k, scores, out);
}

size_t os_dense_top_many(const float *x, size_t n, size_t dim, const float *q,
			 size_t m, size_t k, float *scores,
			 struct os_dense_hit *out)
{
	if (k > n)
		k = n;
	if (k == 0 || m == 0)
		return k;
	os_matmul_abt(scores, q, x, m, n, dim);
	for (size_t i = 0; i < m; i++)
		top_of_scores(scores + i * n, n, k, out + i * k);
	return k;
}
