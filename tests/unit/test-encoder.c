/* SPDX-License-Identifier: MIT */
/* test-encoder: the contrastive loss's gradient against central finite
 * differences, and a short training run on a toy task whose loss falls
 * and whose queries then find their items. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoder.h"
#include "tap.h"

static void test_gradient(void)
{
	struct os_encoder e;
	uint32_t fa[4][3] = {{1, 5, 7}, {2, 6, 6}, {3, 8, 9}, {4, 5, 9}};
	uint32_t fb[4][2] = {{5, 2}, {6, 3}, {7, 4}, {9, 1}};
	struct os_features a[4], b[4];
	size_t rows = 10, d = 4;
	float *grad = calloc(rows * d, sizeof *grad);
	double worst = 0;

	os_encoder_init(&e, 4, 6, d, 3);
	for (int i = 0; i < 4; i++) {
		a[i] = (struct os_features){fa[i], 3};
		b[i] = (struct os_features){fb[i], 2};
	}
	os_encoder_batch_loss(&e, a, b, 4, 0.5, grad);
	for (size_t r = 1; r < rows; r++)
		for (size_t p = 0; p < d; p++) {
			float *w = &e.table[r * d + p], keep = *w;
			double up, down, numeric, err;

			*w = keep + 1e-3f;
			up = os_encoder_batch_loss(&e, a, b, 4, 0.5, NULL);
			*w = keep - 1e-3f;
			down = os_encoder_batch_loss(&e, a, b, 4, 0.5, NULL);
			*w = keep;
			numeric = (up - down) / (double)((keep + 1e-3f) - (keep - 1e-3f));
			err = fabs(numeric - grad[r * d + p]) / fmax(1e-3, fabs(numeric));
			if (err > worst)
				worst = err;
		}
	printf("# largest relative difference %g\n", worst);
	ok(worst < 1e-2, "gradient agrees with central finite differences");
	free(grad);
	os_encoder_release(&e);
}

/* Toy task: query i has word 10 + i and n-grams; its item shares one
 * n-gram bucket with it and has its own word. */
static void test_training(void)
{
	struct os_encoder e;
	enum { N = 64 };
	uint32_t qa[N][2], ib[N][2];
	struct os_features a[N], b[N];
	struct os_encoder_opts o;
	double first = 0, last = 0;
	int hits = 0;
	float *u = malloc(N * 16 * sizeof *u), *v = malloc(N * 16 * sizeof *v);

	os_encoder_init(&e, 200, 100, 16, 5);
	for (int i = 0; i < N; i++) {
		qa[i][0] = (uint32_t)(10 + i);
		qa[i][1] = (uint32_t)(200 + i);
		ib[i][0] = (uint32_t)(100 + i);
		ib[i][1] = (uint32_t)(200 + i);
		a[i] = (struct os_features){qa[i], 2};
		b[i] = (struct os_features){ib[i], 2};
	}
	first = os_encoder_batch_loss(&e, a, b, N, 0.1, NULL);
	os_encoder_opts_default(&o);
	o.batch = 16;
	o.epochs = 30;
	o.temperature = 0.1;
	os_encoder_train(&e, a, b, N, &o, NULL, NULL);
	last = os_encoder_batch_loss(&e, a, b, N, 0.1, NULL);
	printf("# loss %g -> %g\n", first, last);
	ok(last < first / 2, "the training loss falls");
	for (int i = 0; i < N; i++) {
		os_encoder_embed(&e, &a[i], u + i * 16);
		os_encoder_embed(&e, &b[i], v + i * 16);
	}
	for (int i = 0; i < N; i++) {
		int best = 0;
		double best_s = -2;

		for (int j = 0; j < N; j++) {
			double s = 0;

			for (int p = 0; p < 16; p++)
				s += u[i * 16 + p] * v[j * 16 + p];
			if (s > best_s) {
				best_s = s;
				best = j;
			}
		}
		hits += best == i;
	}
	printf("# %d of %d queries find their item first\n", hits, N);
	ok(hits >= N * 9 / 10, "queries find their items");
	free(u), free(v);
	os_encoder_release(&e);
}

int main(void)
{
	test_gradient();
	test_training();
	return tap_done();
}
