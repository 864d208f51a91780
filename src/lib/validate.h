/* SPDX-License-Identifier: MIT */
/* validate.h: Recall@10 and MRR@10 of a model on judged queries, measured
 * while it trains, with os-search's beam search (decode.h) and os-eval's
 * metric definitions (metrics.h). The validator owns the queries; the
 * context and configuration it was loaded with must outlive it. */
#ifndef OS_VALIDATE_H
#define OS_VALIDATE_H

#include "error.h"
#include "generative.h"
#include "model.h"

struct os_validator;

struct os_valid_result {
	size_t queries; /* judged queries with a relevant catalog item */
	double recall, mrr;
};

/* Reads the judged query records of `path`. Returns NULL with err. */
struct os_validator *os_validator_load(const char *path, size_t max_line,
				       double min_grade,
				       struct os_generative *g,
				       const struct os_model_config *cfg,
				       struct os_error *err);
void os_validator_free(struct os_validator *v);

/* Searches every query with `beam` beams (on all threads) and averages the
 * metrics. Returns 0, or -1 with err (memory). */
int os_validate(struct os_validator *v, const struct os_model *m,
		size_t beam, struct os_valid_result *r, struct os_error *err);

#endif
