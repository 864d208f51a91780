/* SPDX-License-Identifier: MIT */
/* kmeans.c: k-means (see kmeans.h). Distances are |x|^2 - 2 x.c + |c|^2,
 * the middle term from os_matmul_abt() over blocks of points; sums for the
 * update are kept in double and added in point order, so results do not
 * depend on the number of threads. */
#include "config.h"

#include "kmeans.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matmul.h"
#include "rng.h"

#define BLOCK 1024 /* points per matrix product */

void os_kmeans_opts_default(struct os_kmeans_opts *o, size_t k)
{
	o->k = k;
	o->iterations = 25;
	o->tolerance = 1e-4;
	o->max_per_centroid = 256;
	o->seed = 1;
}

static void row_norms(const float *x, size_t n, size_t d, float *out)
{
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		double s = 0;

		for (size_t j = 0; j < d; j++)
			s += (double)x[i * d + j] * x[i * d + j];
		out[i] = (float)s;
	}
}

int os_kmeans_distances(const float *x, size_t n, size_t d,
			const float *centroids, size_t k, float *out)
{
	float *xn = malloc((n + 1) * sizeof *xn), *cn = malloc((k + 1) * sizeof *cn);

	if (!xn || !cn) {
		free(xn);
		free(cn);
		return -1;
	}
	row_norms(x, n, d, xn);
	row_norms(centroids, k, d, cn);
	for (size_t b = 0; b < n; b += BLOCK) {
		size_t m = n - b < BLOCK ? n - b : BLOCK;

		os_matmul_abt(out + b * k, x + b * d, centroids, m, k, d);
	}
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < k; j++) {
			float v = xn[i] - 2 * out[i * k + j] + cn[j];

			out[i * k + j] = v > 0 ? v : 0;
		}
	free(xn);
	free(cn);
	return 0;
}

int os_kmeans_assign(const float *x, size_t n, size_t d, const float *centroids,
		     size_t k, uint32_t *assign, float *dist2)
{
	float *cn = malloc((k + 1) * sizeof *cn);
	int failed = 0;

	if (!cn)
		return -1;
	row_norms(centroids, k, d, cn);
	/* a block of points a thread, each with its own matrix product; the
	 * nearest centroid minimizes |c|^2 - 2 x.c */
#pragma omp parallel reduction(| : failed)
	{
		float *dot = malloc(BLOCK * k * sizeof *dot);

#pragma omp for schedule(dynamic, 1)
		for (size_t b = 0; b < n; b += BLOCK) {
			size_t m = n - b < BLOCK ? n - b : BLOCK;

			if (!dot) {
				failed = 1;
				continue;
			}
			os_matmul_abt(dot, x + b * d, centroids, m, k, d);
			for (size_t i = 0; i < m; i++) {
				const float *row = dot + i * k;
				float best_v = cn[0] - 2 * row[0];
				size_t best = 0;

				for (size_t j = 1; j < k; j++) {
					float v = cn[j] - 2 * row[j];

					if (v < best_v) {
						best_v = v;
						best = j;
					}
				}
				assign[b + i] = (uint32_t)best;
				if (dist2) {
					double xn = 0;

					for (size_t p = 0; p < d; p++)
						xn += (double)x[(b + i) * d + p] *
						      x[(b + i) * d + p];
					dist2[b + i] = xn + best_v > 0 ? (float)(xn + best_v) : 0;
				}
			}
		}
		free(dot);
	}
	free(cn);
	return failed ? -1 : 0;
}

/* k-means++: the first centroid uniformly, each next one with probability
 * proportional to the squared distance to the nearest chosen so far. The
 * distances to each new centroid come from a matrix product per block of
 * points (|x|^2 + |c|^2 - 2 x.c), a block a thread. */
static int seed_plus_plus(const float *x, size_t n, size_t d, size_t k,
			  struct os_rng *rng, float *c, double *mind)
{
	float *xn = malloc((n + 1) * sizeof *xn);
	int failed = 0;

	if (!xn)
		return -1;
	row_norms(x, n, d, xn);
	memcpy(c, x + os_rng_below(rng, n) * d, d * sizeof *c);
	for (size_t i = 0; i < n; i++)
		mind[i] = INFINITY;
	for (size_t j = 1; j <= k && !failed; j++) {
		const float *cj = c + (j - 1) * d;
		double total = 0, r, cn = 0;
		size_t pick = n - 1;

		for (size_t p = 0; p < d; p++)
			cn += (double)cj[p] * cj[p];
#pragma omp parallel reduction(| : failed)
		{
			float *dot = malloc(BLOCK * sizeof *dot);

#pragma omp for schedule(static)
			for (size_t b = 0; b < n; b += BLOCK) {
				size_t m = n - b < BLOCK ? n - b : BLOCK;

				if (!dot) {
					failed = 1;
					continue;
				}
				os_matmul_abt(dot, x + b * d, cj, m, 1, d);
				for (size_t i = 0; i < m; i++) {
					double s = xn[b + i] + cn - 2.0 * dot[i];

					if (s < 0)
						s = 0;
					if (s < mind[b + i])
						mind[b + i] = s;
				}
			}
			free(dot);
		}
		if (j == k)
			break;
		for (size_t i = 0; i < n; i++)
			total += mind[i];
		r = os_rng_uniform(rng) * total;
		for (size_t i = 0; i < n; i++) {
			r -= mind[i];
			if (r < 0) {
				pick = i;
				break;
			}
		}
		memcpy(c + j * d, x + pick * d, d * sizeof *c);
	}
	free(xn);
	return failed ? -1 : 0;
}

/* A sample of m of the n points (m <= n), in point order. */
static float *sample(const float *x, size_t n, size_t d, size_t m,
		     struct os_rng *rng)
{
	float *s = malloc(m * d * sizeof *s);
	size_t taken = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n && taken < m; i++) /* selection sampling */
		if (os_rng_below(rng, n - i) < m - taken)
			memcpy(s + taken++ * d, x + i * d, d * sizeof *s);
	return s;
}

double os_kmeans_train(const float *x, size_t n, size_t d,
		       const struct os_kmeans_opts *o, float *centroids)
{
	size_t k = o->k, m = n;
	struct os_rng rng;
	float *train = (float *)x, *dist2;
	uint32_t *assign;
	double *sum, *mind, inertia = -1, previous = INFINITY;
	size_t *count;

	os_rng_seed(&rng, o->seed);
	if (o->max_per_centroid && n > k * o->max_per_centroid) {
		m = k * o->max_per_centroid;
		if (!(train = sample(x, n, d, m, &rng)))
			return -1;
	}
	assign = malloc(m * sizeof *assign);
	dist2 = malloc(m * sizeof *dist2);
	mind = malloc(m * sizeof *mind);
	sum = malloc(k * d * sizeof *sum);
	count = malloc(k * sizeof *count);
	if (!assign || !dist2 || !mind || !sum || !count)
		goto out;
	if (seed_plus_plus(train, m, d, k, &rng, centroids, mind) < 0)
		goto out;
	for (int it = 0; it < o->iterations; it++) {
		double total = 0;

		if (os_kmeans_assign(train, m, d, centroids, k, assign, dist2) < 0)
			goto out;
		memset(sum, 0, k * d * sizeof *sum);
		memset(count, 0, k * sizeof *count);
		for (size_t i = 0; i < m; i++) {
			double *s = sum + (size_t)assign[i] * d;

			count[assign[i]]++;
			total += dist2[i];
			for (size_t p = 0; p < d; p++)
				s[p] += train[i * d + p];
		}
		inertia = total / (double)m;
		for (size_t j = 0; j < k; j++) {
			if (count[j] == 0) {
				/* an empty cluster takes the worst-placed point */
				size_t far = 0;

				for (size_t i = 1; i < m; i++)
					if (dist2[i] > dist2[far])
						far = i;
				memcpy(centroids + j * d, train + far * d,
				       d * sizeof *centroids);
				dist2[far] = 0;
				continue;
			}
			for (size_t p = 0; p < d; p++)
				centroids[j * d + p] =
					(float)(sum[j * d + p] / (double)count[j]);
		}
		if (previous - inertia < o->tolerance * previous)
			break;
		previous = inertia;
	}
	if (os_kmeans_assign(train, m, d, centroids, k, assign, dist2) < 0) {
		inertia = -1;
		goto out;
	}
	inertia = 0;
	for (size_t i = 0; i < m; i++)
		inertia += dist2[i];
	inertia /= (double)m;
out:
	if (train != x)
		free(train);
	free(assign);
	free(dist2);
	free(mind);
	free(sum);
	free(count);
	return inertia;
}
