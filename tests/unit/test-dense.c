/* SPDX-License-Identifier: MIT */
/* test-dense: exact dense retrieval against its naive reference (every
 * dot product in double, all rows sorted), ties broken by row, and k
 * larger than the matrix; the best k rows of many queries at once against
 * the same reference. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "lib/dense.h"
#include "lib/rng.h"
#include "tap.h"

struct ref {
	size_t row;
	double score;
};

static int by_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Every row of x ranked for query vector q, into ref (n entries). */
static void reference_rank(const float *x, size_t n, size_t dim, const float *q,
			   struct ref *ref)
{
	for (size_t i = 0; i < n; i++) {
		double s = 0;

		for (size_t j = 0; j < dim; j++)
			s += (double)x[i * dim + j] * q[j];
		ref[i] = (struct ref){i, s};
	}
	qsort(ref, n, sizeof *ref, by_ref);
}

static void test_against_reference(void)
{
	struct os_rng rng;
	size_t n = 2003, dim = 37, k = 25, got, agree = 1;
	float *x = malloc(n * dim * sizeof *x), *q = malloc(dim * sizeof *q);
	float *scratch = malloc(n * sizeof *scratch);
	struct os_dense_hit *hits = malloc(k * sizeof *hits);
	struct ref *ref = malloc(n * sizeof *ref);
	double worst = 0;

	os_rng_seed(&rng, 3);
	for (size_t i = 0; i < n * dim; i++)
		x[i] = (float)os_rng_normal(&rng);
	for (size_t t = 0; t < 5; t++) {
		for (size_t j = 0; j < dim; j++)
			q[j] = (float)os_rng_normal(&rng);
		reference_rank(x, n, dim, q, ref);
		got = os_dense_top(x, n, dim, q, k, scratch, hits);
		agree &= got == k;
		for (size_t i = 0; i < got; i++) {
			agree &= hits[i].row == ref[i].row;
			worst = fmax(worst, fabs(hits[i].score - ref[i].score));
		}
	}
	ok(agree, "the top 25 of 2003 rows are the reference's, in its order");
	ok(worst < 1e-4, "their scores agree with the reference");
	printf("# largest difference %g\n", worst);
	free(x), free(q), free(scratch), free(hits), free(ref);
}

static void test_top_of_many(void)
{
	struct os_rng rng;
	size_t n = 2003, dim = 37, m = 67, ks[] = {1, 5};
	const char *names[] = {
	    "the best row of 2003 for 67 queries at once is the reference's",
	    "the best 5 rows of 2003 for 67 queries at once are the "
	    "reference's, in its order"};
	float *x = malloc(n * dim * sizeof *x),
	      *q = malloc(m * dim * sizeof *q);
	float *scratch = malloc(m * n * sizeof *scratch);
	struct os_dense_hit *hits = malloc(m * 5 * sizeof *hits);
	struct ref *ref = malloc(n * sizeof *ref);

	os_rng_seed(&rng, 4);
	for (size_t i = 0; i < n * dim; i++)
		x[i] = (float)os_rng_normal(&rng);
	for (size_t i = 0; i < m * dim; i++)
		q[i] = (float)os_rng_normal(&rng);
	for (size_t c = 0; c < 2; c++) {
		size_t k = ks[c], agree = 1;

		agree &=
		    os_dense_top_many(x, n, dim, q, m, k, scratch, hits) == k;
		for (size_t t = 0; t < m; t++) {
			reference_rank(x, n, dim, q + t * dim, ref);
			for (size_t i = 0; i < k; i++)
				agree &= hits[t * k + i].row == ref[i].row;
		}
		ok(agree, names[c]);
	}
	free(x), free(q), free(scratch), free(hits), free(ref);
}

static void test_ties_and_small(void)
{
	/* rows 1 and 3 tie for the best, row 0 and 2 for the next */
	float x[] = {1, 0, 2, 0, 1, 0, 2, 0}, q[] = {1, 0}, scratch[4];
	struct os_dense_hit hits[8];
	size_t got = os_dense_top(x, 4, 2, q, 8, scratch, hits);

	ok(got == 4, "k larger than the matrix gives every row");
	ok(hits[0].row == 1 && hits[1].row == 3 && hits[2].row == 0 &&
	       hits[3].row == 2,
	   "equal scores come by lower row");
	ok(hits[0].score == 2 && hits[3].score == 1,
	   "the scores are the dot products");
	ok(os_dense_top(x, 4, 2, q, 0, scratch, hits) == 0,
	   "k = 0 gives nothing");
	{
		float q2[] = {1, 0, -1, 0}, scores[8];
		struct os_dense_hit two[10];

		ok(os_dense_top_many(x, 4, 2, q2, 2, 5, scores, two) == 4,
		   "k larger than the matrix gives every row, for each query");
		ok(two[0].row == 1 && two[1].row == 3 && two[4].row == 0 &&
		       two[5].row == 2,
		   "equal scores come by lower row, for each query");
	}
}

int main(void)
{
	test_against_reference();
	test_top_of_many();
	test_ties_and_small();
	return tap_done();
}
