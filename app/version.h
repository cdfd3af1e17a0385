/* version: what `flowetl --version` prints and etl.run.version records: the release
 * (CMake's project version) and the commit the binary was built from. The build
 * generates the definition on every build (cmake/commit.cmake, rewritten only when
 * the text changes): commit "abcdef1", "abcdef1-dirty" (uncommitted changes to
 * tracked files) or "unknown" (built outside a git checkout, e.g. from a release
 * tarball, or without git). */
#ifndef FE_VERSION_H
#define FE_VERSION_H

/* "X.Y.Z (commit abcdef1)". Static storage. */
const char *version_text(void);

#endif
