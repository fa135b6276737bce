#ifndef SF_CPU_FEATURES_H
#define SF_CPU_FEATURES_H

/// 1 when this CPU and its OS run x86-64-v3 code (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE, with
/// the YMM state enabled): what the F4KernelsAVX2 module is compiled for. 0 elsewhere, and on
/// other architectures.
int sf_cpu_runs_x86_64_v3(void);

#endif
