#include "sf_build_info.h"

// A C file rather than a Swift constant because SwiftPM passes a value to a build only as a
// C preprocessor definition (-Xcc -D…); scripts/package.sh sets it.
#ifndef STYLEFARM_COMMIT
#define STYLEFARM_COMMIT "unknown"
#endif

const char *sf_build_commit(void) { return STYLEFARM_COMMIT; }
