/* SPDX-License-Identifier: MIT */
/* blascpu.h: makes OpenBLAS run the kernels the CPU is made for.
 *
 * Debian's OpenBLAS is built for every x86-64 CPU and picks its kernels
 * by the CPU's model number when it is loaded. A model it does not know
 * (a CPU newer than the library, or a virtual CPU that hides its model)
 * gets the oldest kernels, SSE3's ("Prescott"): on a CPU with AVX-512 the
 * training runs 4.5 times slower with them. The environment variable
 * OPENBLAS_CORETYPE overrides the choice, but it is read only while the
 * library loads, before main(), so a program that finds the wrong kernels
 * sets it and executes itself again. */
#ifndef OS_BLASCPU_H
#define OS_BLASCPU_H

/* The kernels OpenBLAS should run instead of `core` (its name for the
 * kernels it chose) on a CPU with AVX2 and FMA (`avx2` nonzero) and with
 * AVX-512 F, BW, DQ and VL (`avx512` nonzero): "SkylakeX" or "Haswell",
 * or NULL when `core` already uses AVX2 or the CPU has nothing better. */
const char *os_blas_better_core(const char *core, int avx2, int avx512);

/* The kernels in use: OpenBLAS's name for them, or NULL for another BLAS
 * or none. The string is the library's. */
const char *os_blas_core(void);

/* When OPENBLAS_CORETYPE is unset and os_blas_better_core() names better
 * kernels than OpenBLAS chose, sets it and executes the program again
 * (/proc/self/exe) with `argv`. Returns when there is nothing to do or
 * the execution fails (the program then goes on with the kernels it has).
 * Call first in main(), before anything is read or written. */
void os_blas_fit_cpu(char **argv);

#endif
