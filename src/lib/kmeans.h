/* SPDX-License-Identifier: MIT */
/* kmeans.h: k-means over float vectors (row-major, n x d): k-means++
 * seeding on a sample, Lloyd iterations with distances from one matrix
 * product per block of points, and empty clusters re-seeded with the point
 * farthest from its centroid. The same seed gives the same result, for any
 * thread count. */
#ifndef OS_KMEANS_H
#define OS_KMEANS_H

#include <stddef.h>
#include <stdint.h>

struct os_kmeans_opts {
	size_t k;
	int iterations;          /* at most (25) */
	double tolerance;        /* stop when inertia improves by less (1e-4) */
	size_t max_per_centroid; /* train on at most k * this points (256) */
	uint64_t seed;
};

void os_kmeans_opts_default(struct os_kmeans_opts *o, size_t k);

/* Trains k centroids (written to `centroids`, k x d) on x (n x d, n >= k).
 * Returns the mean squared distance of the training points to their
 * centroids, or -1 when out of memory. */
double os_kmeans_train(const float *x, size_t n, size_t d,
		       const struct os_kmeans_opts *o, float *centroids);

/* The nearest of k centroids for each of n points, and (when dist2 is not
 * NULL) the squared distance to it. Returns 0 or -1 (memory). */
int os_kmeans_assign(const float *x, size_t n, size_t d, const float *centroids,
		     size_t k, uint32_t *assign, float *dist2);

/* The squared distances of n points to k centroids (n x k). */
int os_kmeans_distances(const float *x, size_t n, size_t d,
			const float *centroids, size_t k, float *out);

#endif
