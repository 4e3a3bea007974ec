/* How petseg's compiled passes (effects/_disk.c, inference/_matte.c) declare their row loops. */
#ifndef PETSEG_NATIVE_PASSES_H
#define PETSEG_NATIVE_PASSES_H

/* a pass's arrays do not overlap, so the compiler may vectorise freely */
#if defined(_MSC_VER)
#define PLAIN __restrict
#else
#define PLAIN restrict
#endif

/* Each row pass on its own, built twice where GCC can: once for AVX2 (twice the floats per
   instruction of the x86-64 baseline), chosen at load time on CPUs that have it. Not inlined:
   inlined, GCC fused consecutive passes and lost the restrict promise, leaving scalar loops
   (measured 1.5x slower in _disk.c). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ROW_PASS static __attribute__((noinline, target_clones("avx2", "default"))) void
#elif defined(__GNUC__)
#define ROW_PASS static __attribute__((noinline)) void
#else
#define ROW_PASS static void
#endif

#endif
