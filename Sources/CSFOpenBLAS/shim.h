#ifndef CSF_OPENBLAS_SHIM_H
#define CSF_OPENBLAS_SHIM_H

#include <cblas.h>

// OpenBLAS extensions (declared in openblas_config.h / cblas.h of the openblas-pthread build):
// the thread count is set per process so that renders are deterministic for a given count.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

#include <malloc.h>

/// Every allocation of 4 MB or more its own mapping, returned to the system when freed (glibc
/// otherwise raises the threshold to the largest block freed; see ProcessMemory).
static inline int sf_map_large_allocations(void) { return mallopt(M_MMAP_THRESHOLD, 4 << 20); }

#endif
