/* SPDX-License-Identifier: MIT */
/* test-kmeans: the matrix products against their naive reference (the
 * few-rows product with each kernel the CPU has, in float and in
 * bfloat16), OpenBLAS's kernels fitted to the CPU, k-means on
 * well-separated Gaussian clusters (recovered exactly, the same for a
 * seed), residual quantization's error falling with each level, and the
 * disambiguation making every SID unique. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/blascpu.h"
#include "lib/kmeans.h"
#include "lib/matmul.h"
#include "lib/rng.h"
#include "lib/rowmm.h"
#include "lib/rq.h"
#include "tap.h"

static void test_matmul(void)
{
	struct os_rng rng;
	size_t m = 37, n = 29, k = 61;
	float *a = malloc(m * k * sizeof *a), *b = malloc(n * k * sizeof *b);
	float *c = malloc(m * n * sizeof *c), *ref = malloc(m * n * sizeof *ref);
	double worst = 0;

	os_rng_seed(&rng, 1);
	for (size_t i = 0; i < m * k; i++)
		a[i] = (float)os_rng_normal(&rng);
	for (size_t i = 0; i < n * k; i++)
		b[i] = (float)os_rng_normal(&rng);
	os_matmul_abt(c, a, b, m, n, k);
	os_matmul_abt_naive(ref, a, b, m, n, k);
	for (size_t i = 0; i < m * n; i++)
		if (fabs(c[i] - ref[i]) > worst)
			worst = fabs(c[i] - ref[i]);
	ok(worst < 1e-4, "the matrix product agrees with the naive reference");
	printf("# backend %s, largest difference %g\n", os_matmul_backend(), worst);
	free(a), free(b), free(c), free(ref);
}

/* os_rowmm() with kernel `kernel` against the naive product, over shapes
 * that take every path of the kernels: whole blocks of 4 rows and 4
 * vectors, rows left over, columns left over, widths no vector kernel
 * takes; with and without bias. */
static void test_rowmm_kernel(const char *kernel)
{
	static const size_t ms[] = {1, 4, 7, 20}, ns[] = {8, 16, 24, 48, 64, 80, 136, 768, 10};
	static const size_t ks[] = {1, 13, 256};
	struct os_rng rng;
	double worst = 0;
	size_t used = 0;

	os_rng_seed(&rng, 7);
	for (size_t x = 0; x < sizeof ms / sizeof *ms; x++)
		for (size_t y = 0; y < sizeof ns / sizeof *ns; y++)
			for (size_t z = 0; z < sizeof ks / sizeof *ks; z++) {
				size_t m = ms[x], n = ns[y], k = ks[z];
				float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
				float *bias = malloc(n * sizeof *bias);
				float *c = malloc(m * n * sizeof *c), *ref = malloc(m * n * sizeof *ref);

				for (size_t i = 0; i < m * k; i++)
					a[i] = (float)os_rng_normal(&rng);
				for (size_t i = 0; i < k * n; i++)
					b[i] = (float)os_rng_normal(&rng);
				for (size_t j = 0; j < n; j++)
					bias[j] = (float)os_rng_normal(&rng);
				for (int with_bias = 0; with_bias < 2; with_bias++) {
					os_gemm_naive(0, 0, m, n, k, 1, a, k, b, n, 0, ref, n);
					for (size_t i = 0; i < m * n; i++)
						ref[i] += with_bias ? bias[i % n] : 0;
					memset(c, 0xff, m * n * sizeof *c); /* NaN */
					os_rowmm(c, a, b, with_bias ? bias : NULL, m, n, k);
					for (size_t i = 0; i < m * n; i++) {
						double e = fabs(c[i] - ref[i]) / (1 + fabs(ref[i]));

						if (!(e <= worst))
							worst = e;
					}
				}
				used += !strcmp(os_rowmm_kernel(n), kernel);
				free(a), free(b), free(bias), free(c), free(ref);
			}
	char name[128];

	snprintf(name, sizeof name, "few-rows product, %s kernel: agrees with the naive product", kernel);
	ok(worst < 1e-4, name);
	printf("# largest relative difference %g\n", worst);
	snprintf(name, sizeof name, "the %s kernel took some of the shapes", kernel);
	ok(used > 0, name);
}

static void test_rowmm(void)
{
	static const char *const kernels[] = {"avx512", "avx2", "gemm"};
	size_t tested = 0;

	for (size_t i = 0; i < 3; i++)
		if (os_rowmm_force(kernels[i]) == 0) {
			test_rowmm_kernel(kernels[i]);
			tested++;
		} else {
			printf("# this CPU has no %s kernel\n", kernels[i]);
		}
	ok(tested > 0 && os_rowmm_force("gemm") == 0, "the gemm kernel is always there");
	ok(os_rowmm_force("sse9") < 0, "an unknown kernel is refused");
	os_rowmm_force(NULL);
	printf("# this CPU's kernel for width 768: %s\n", os_rowmm_kernel(768));
}

/* x rounded to the nearest number with 8 significant bits (bfloat16's),
 * ties to even, by another way than the library's. */
static double round_bf16(float x)
{
	int e;
	double m = frexp(x, &e);

	return ldexp(nearbyint(ldexp(m, 8)), e - 8);
}

/* os_rowmm_bf16() with the kernel the CPU gives under `force` against
 * the product of A and B rounded to bfloat16, in double. */
static void test_rowmm_bf16_kernel(const char *force, const char *kernel)
{
	static const size_t ms[] = {1, 4, 7, 20}, ns[] = {16, 64, 80, 768, 10, 24};
	static const size_t ks[] = {1, 13, 45, 256};
	struct os_rng rng;
	double worst = 0, from_float = 0;
	size_t used = 0, same_pack = 1;
	char name[160];

	os_rowmm_force(force);
	os_rng_seed(&rng, 9);
	for (size_t x = 0; x < sizeof ms / sizeof *ms; x++)
		for (size_t y = 0; y < sizeof ns / sizeof *ns; y++)
			for (size_t z = 0; z < sizeof ks / sizeof *ks; z++) {
				size_t m = ms[x], n = ns[y], k = ks[z], k2 = (k + 1) / 2;
				float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
				float *bt = malloc(k * n * sizeof *bt), *bias = malloc(n * sizeof *bias);
				float *c = malloc(m * n * sizeof *c), *cf = malloc(m * n * sizeof *cf);
				uint32_t *packed = malloc(k2 * n * sizeof *packed);
				uint32_t *packed_t = malloc(k2 * n * sizeof *packed_t);
				uint32_t *pairs = malloc(m * k2 * sizeof *pairs);

				for (size_t i = 0; i < m * k; i++)
					a[i] = (float)os_rng_normal(&rng);
				for (size_t i = 0; i < k * n; i++)
					b[i] = (float)os_rng_normal(&rng);
				for (size_t p = 0; p < k; p++)
					for (size_t j = 0; j < n; j++)
						bt[j * k + p] = b[p * n + j];
				for (size_t j = 0; j < n; j++)
					bias[j] = (float)os_rng_normal(&rng);
				os_rowmm_bf16_pack(packed, b, k, n, n, 1);
				os_rowmm_bf16_pack(packed_t, bt, k, n, 1, k);
				same_pack &= !memcmp(packed, packed_t, k2 * n * sizeof *packed);
				memset(c, 0xff, m * n * sizeof *c); /* NaN */
				os_rowmm_bf16(c, a, packed, bias, m, n, k, pairs);
				os_rowmm(cf, a, b, bias, m, n, k);
				for (size_t i = 0; i < m; i++)
					for (size_t j = 0; j < n; j++) {
						double ref = bias[j], size = fabs(bias[j]), e;

						for (size_t p = 0; p < k; p++) {
							double t = round_bf16(a[i * k + p]) *
								   round_bf16(b[p * n + j]);

							ref += t;
							size += fabs(t);
						}
						e = fabs(c[i * n + j] - ref) / (1 + size);
						if (!(e <= worst))
							worst = e;
						e = fabs(cf[i * n + j] - ref) / (1 + size);
						from_float = fmax(from_float, e);
					}
				used += !strcmp(os_rowmm_bf16_kernel(n), kernel);
				free(a), free(b), free(bt), free(bias), free(c), free(cf);
				free(packed), free(packed_t), free(pairs);
			}
	snprintf(name, sizeof name, "bfloat16 product, %s kernel: agrees with the rounded product", kernel);
	ok(worst < 1e-6, name);
	printf("# largest relative difference %g (the float product's: %g)\n", worst, from_float);
	snprintf(name, sizeof name, "the %s kernel took some of the shapes", kernel);
	ok(used > 0, name);
	ok(same_pack, "a matrix and its transpose pack alike");
	ok(from_float > 100 * worst, "the float product is farther from it: the rounding is bfloat16's");
	os_rowmm_force(NULL);
}

static void test_rowmm_bf16(void)
{
	if (os_rowmm_force("avx512") == 0 && !strcmp(os_rowmm_bf16_kernel(768), "avx512bf16"))
		test_rowmm_bf16_kernel("avx512", "avx512bf16");
	else
		printf("# this CPU has no avx512bf16 kernel\n");
	test_rowmm_bf16_kernel("gemm", "c");
}

/* n points around `centers` well-separated centers in d dimensions. */
static float *clusters(size_t n, size_t d, size_t centers, uint64_t seed,
		       uint32_t *truth)
{
	struct os_rng rng;
	float *c = malloc(centers * d * sizeof *c), *x = malloc(n * d * sizeof *x);

	os_rng_seed(&rng, seed);
	for (size_t i = 0; i < centers * d; i++)
		c[i] = (float)(20 * os_rng_normal(&rng));
	for (size_t i = 0; i < n; i++) {
		truth[i] = (uint32_t)(i % centers);
		for (size_t p = 0; p < d; p++)
			x[i * d + p] = c[truth[i] * d + p] + (float)(0.1 * os_rng_normal(&rng));
	}
	free(c);
	return x;
}

/* Whether two labelings are the same partition. */
static int same_partition(const uint32_t *a, const uint32_t *b, size_t n, size_t k)
{
	uint32_t *map = malloc(k * sizeof *map);
	int same = 1;

	for (size_t j = 0; j < k; j++)
		map[j] = UINT32_MAX;
	for (size_t i = 0; i < n && same; i++) {
		if (map[a[i]] == UINT32_MAX)
			map[a[i]] = b[i];
		same = map[a[i]] == b[i];
	}
	free(map);
	return same;
}

/* Old kernels on a CPU with AVX2 or AVX-512 are replaced; kernels with
 * AVX2, or a CPU without it, are left alone. */
static void test_blas_better_core(void)
{
	const char *got;

	got = os_blas_better_core("Prescott", 1, 1);
	is_str(got ? got : "(none)", "SkylakeX",
	       "SSE3 kernels on AVX-512: SkylakeX");
	got = os_blas_better_core("Sandybridge", 1, 0);
	is_str(got ? got : "(none)", "Haswell", "AVX kernels on AVX2: Haswell");
	ok(!os_blas_better_core("Prescott", 0, 0),
	   "SSE3 kernels without AVX2: left");
	ok(!os_blas_better_core("Haswell", 1, 1),
	   "AVX2 kernels on AVX-512: left");
	ok(!os_blas_better_core("Zen", 1, 0), "Zen's kernels: left");
	ok(!os_blas_better_core("SapphireRapids", 1, 1),
	   "AVX-512 kernels: left");
	ok(!os_blas_better_core(NULL, 1, 1), "another BLAS: left");
}

static void test_kmeans(void)
{
	size_t n = 600, d = 16, k = 6;
	uint32_t *truth = malloc(n * sizeof *truth), *got = malloc(n * sizeof *got);
	float *x = clusters(n, d, k, 7, truth);
	float *c1 = malloc(k * d * sizeof *c1), *c2 = malloc(k * d * sizeof *c2);
	struct os_kmeans_opts o;
	double inertia;

	os_kmeans_opts_default(&o, k);
	inertia = os_kmeans_train(x, n, d, &o, c1);
	os_kmeans_assign(x, n, d, c1, k, got, NULL);
	ok(same_partition(truth, got, n, k) && same_partition(got, truth, n, k),
	   "well-separated Gaussian clusters are recovered exactly");
	ok(inertia > 0 && inertia < 16 * 0.01 * 2, "error is the noise's variance");
	os_kmeans_train(x, n, d, &o, c2);
	ok(memcmp(c1, c2, k * d * sizeof *c1) == 0, "the same seed, the same centroids");
	o.seed = 99;
	o.max_per_centroid = 20; /* trains on a sample of 120 points */
	os_kmeans_train(x, n, d, &o, c2);
	os_kmeans_assign(x, n, d, c2, k, got, NULL);
	ok(same_partition(truth, got, n, k), "recovered from a sample, another seed");
	free(truth), free(got), free(x), free(c1), free(c2);
}

static void test_rq(void)
{
	size_t n = 2000, d = 8, levels = 3, k[] = {8, 8, 8};
	uint32_t *truth = malloc(n * sizeof *truth);
	float *x = clusters(n, d, 40, 3, truth);
	uint32_t *codes = malloc(n * levels * sizeof *codes), *extra = malloc(n * sizeof *extra);
	uint32_t *again = malloc(n * levels * sizeof *again);
	struct os_kmeans_opts o;
	struct os_rq rq;
	struct os_rq_report rep;
	int unique = 1;

	os_kmeans_opts_default(&o, 0);
	os_rq_init(&rq);
	ok(os_rq_train(&rq, x, n, n, d, k, levels, 0, &o, codes, &rep, NULL, NULL) == 0,
	   "trains without balancing");
	ok(rep.error[0] > rep.error[1] && rep.error[1] > rep.error[2],
	   "the error falls with each level");
	ok(os_rq_train(&rq, x, n, n, d, k, levels, 1, &o, codes, &rep, NULL, NULL) == 0,
	   "trains with the last level balanced");
	printf("# errors %g %g %g\n", rep.error[0], rep.error[1], rep.error[2]);
	/* the last level is balanced, which trades error for unique SIDs */
	ok(rep.error[0] > rep.error[1], "the error falls from level 1 to 2");
	ok(rep.used[0] == 8 && rep.perplexity[0] > 4, "level 1 uses its codes");
	os_rq_disambiguate(codes, n, levels, extra);
	for (size_t i = 0; i < n && unique; i++)
		for (size_t j = i + 1; j < n && unique; j++)
			unique = memcmp(codes + i * levels, codes + j * levels,
					levels * sizeof *codes) != 0 || extra[i] != extra[j];
	ok(unique, "codes and disambiguation give every item a unique SID");
	ok(rep.icr > 0 && rep.icr <= 1 && rep.largest_bucket >= 1, "ICR and largest bucket reported");
	os_rq_encode(&rq, x, n, again);
	{
		size_t agree = 0;

		for (size_t i = 0; i < n; i++)
			agree += memcmp(codes + i * levels, again + i * levels,
					(levels - 1) * sizeof *codes) == 0;
		ok(agree == n, "encoding the training points gives their upper codes");
	}
	os_rq_release(&rq);
	free(truth), free(x), free(codes), free(extra), free(again);
}

int main(void)
{
	test_matmul();
	test_rowmm();
	test_rowmm_bf16();
	test_blas_better_core();
	test_kmeans();
	test_rq();
	return tap_done();
}
