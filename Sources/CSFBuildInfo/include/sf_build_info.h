#ifndef SF_BUILD_INFO_H
#define SF_BUILD_INFO_H

/// The commit this binary was built from, as scripts/package.sh passes it
/// (`-Xcc -DSTYLEFARM_COMMIT="..."`); "unknown" in a plain `swift build`.
const char *sf_build_commit(void);

#endif
