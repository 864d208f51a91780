/* SPDX-License-Identifier: MIT */
/* parallel.h: the thread count of OpenMP regions, set by --threads, in one
 * place so that builds without OpenMP compile unchanged. */
#ifndef OS_PARALLEL_H
#define OS_PARALLEL_H

#ifdef _OPENMP
#include <omp.h>
#endif

/* Uses `n` threads for the parallel loops that follow (n <= 0: all cores). */
static inline void os_parallel_set_threads(long n)
{
#ifdef _OPENMP
	if (n > 0)
		omp_set_num_threads((int)n);
#else
	(void)n;
#endif
}

/* The threads a parallel loop started here would use (1 inside one, and
 * in builds without OpenMP). */
static inline int os_parallel_threads(void)
{
#ifdef _OPENMP
	return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
	return 1;
#endif
}

#endif
