/* SPDX-License-Identifier: MIT */
/* rng.h: the suite's only source of randomness: xoshiro256** seeded through
 * splitmix64, so that the same --seed gives the same output on every
 * platform. A generator is a plain value; copy it to fork a stream. */
#ifndef OS_RNG_H
#define OS_RNG_H

#include <stdint.h>

struct os_rng {
	uint64_t s[4];
};

void os_rng_seed(struct os_rng *rng, uint64_t seed);
uint64_t os_rng_next(struct os_rng *rng);
/* Uniform in [0, n), without modulo bias; n > 0. */
uint64_t os_rng_below(struct os_rng *rng, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double os_rng_uniform(struct os_rng *rng);
/* Standard normal (Box-Muller, one value per call). */
double os_rng_normal(struct os_rng *rng);

#endif
