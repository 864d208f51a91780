/* SPDX-License-Identifier: MIT */
/* blascpu.c: OpenBLAS's kernels fitted to the CPU (see blascpu.h). */
#include "config.h"

#include "blascpu.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"

#ifdef HAVE_OPENBLAS_GET_CORENAME
char *openblas_get_corename(void); /* not in every cblas.h */
#endif

const char *os_blas_better_core(const char *core, int avx2, int avx512)
{
	/* OpenBLAS's x86-64 kernels that use AVX2 or AVX-512 */
	static const char *const modern[] = {"Haswell", "Zen", "SkylakeX",
					     "Cooperlake", "SapphireRapids"};

	if (!core || !avx2)
		return NULL;
	for (size_t i = 0; i < sizeof modern / sizeof *modern; i++)
		if (strcmp(core, modern[i]) == 0)
			return NULL;
	return avx512 ? "SkylakeX" : "Haswell";
}

const char *os_blas_core(void)
{
#ifdef HAVE_OPENBLAS_GET_CORENAME
	return openblas_get_corename();
#else
	return NULL;
#endif
}

void os_blas_fit_cpu(char **argv)
{
#ifdef HAVE_OPENBLAS_GET_CORENAME
	const char *better;

	if (getenv("OPENBLAS_CORETYPE"))
		return;
	better = os_blas_better_core(os_blas_core(), os_cpu_avx2(),
				     os_cpu_avx512_skylakex());
	if (!better || setenv("OPENBLAS_CORETYPE", better, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	unsetenv("OPENBLAS_CORETYPE"); /* not re-executed: as it was */
#else
	(void)argv;
#endif
}
