/* SPDX-License-Identifier: MIT */
/* cpu.h: the vector instructions of the CPU the program runs on, asked
 * of the compiler's runtime (and of the system's support for their
 * registers); every answer is 0 off x86-64 or without GCC's builtins.
 * The one place the suite's kernel choices look. */
#ifndef OS_CPU_H
#define OS_CPU_H

/* Whether the CPU has `feature` (a string literal of
 * __builtin_cpu_supports). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OS_CPU_HAS(feature)                                                    \
	(__builtin_cpu_init(), __builtin_cpu_supports(feature))
#else
#define OS_CPU_HAS(feature) 0
#endif

/* AVX2 and FMA. */
static inline int os_cpu_avx2(void)
{
	return OS_CPU_HAS("avx2") && OS_CPU_HAS("fma");
}

/* AVX-512 F, the foundation. */
static inline int os_cpu_avx512f(void)
{
	return OS_CPU_HAS("avx512f");
}

/* AVX-512 F, BW, DQ and VL, the set Skylake-X brought. */
static inline int os_cpu_avx512_skylakex(void)
{
	return OS_CPU_HAS("avx512f") && OS_CPU_HAS("avx512bw") &&
	       OS_CPU_HAS("avx512dq") && OS_CPU_HAS("avx512vl");
}

/* AVX512-BF16's dot products. */
static inline int os_cpu_avx512bf16(void)
{
	return OS_CPU_HAS("avx512bf16");
}

#endif
