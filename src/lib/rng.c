/* SPDX-License-Identifier: MIT */
/* rng.c: xoshiro256** (Blackman and Vigna, 2018) seeded with splitmix64. */
#include "config.h"

#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void os_rng_seed(struct os_rng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t os_rng_next(struct os_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t os_rng_below(struct os_rng *rng, uint64_t n)
{
	/* Rejection of the short final interval keeps every value equally
	 * likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = os_rng_next(rng);
	while (x >= limit);
	return x % n;
}

double os_rng_uniform(struct os_rng *rng)
{
	return (double)(os_rng_next(rng) >> 11) * 0x1.0p-53;
}

double os_rng_normal(struct os_rng *rng)
{
	double u1, u2;

	do
		u1 = os_rng_uniform(rng);
	while (u1 <= 0.0);
	u2 = os_rng_uniform(rng);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
