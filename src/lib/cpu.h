/* SPDX-License-Identifier: MIT */
/* cpu.h: the vector instructions of the CPU the program runs on, asked
 * of the compiler's runtime (and of the system's support for their
 * registers); every answer is 0 off x86-64 or without GCC's builtins.
 * The one place the suite's kernel choices look. */
#ifndef OS_CPU_H
#define OS_CPU_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OS_CPU_X86 1
#endif

/* AVX2 and FMA. */
static inline int os_cpu_avx2(void)
{
#ifdef OS_CPU_X86
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return 0;
#endif
}

/* AVX-512 F, the foundation. */
static inline int os_cpu_avx512f(void)
{
#ifdef OS_CPU_X86
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
#else
	return 0;
#endif
}

/* AVX-512 F, BW, DQ and VL, the set Skylake-X brought. */
static inline int os_cpu_avx512_skylakex(void)
{
#ifdef OS_CPU_X86
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512vl");
#else
	return 0;
#endif
}

/* AVX512-BF16's dot products. */
static inline int os_cpu_avx512bf16(void)
{
#ifdef OS_CPU_X86
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512bf16");
#else
	return 0;
#endif
}

#endif
