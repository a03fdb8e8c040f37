#!/usr/bin/env bash
# Build lambda-deploy from this source tree and install it: the README's "Install" from source,
# for machines with Swift 6.3 (release binaries: install.sh at the repository root). Needs root
# (or a writable PREFIX); the installed binary is the release build (ci/support/build-release.sh),
# which needs only glibc 2.34+, libcurl.so.4, zlib and git at run time.
#   bash ci/install.sh                 # -> /usr/local/bin/lambda-deploy
#   PREFIX=$HOME/.local bash ci/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
# build-release.sh installs the -dev packages it links (libgit2, libdeflate, OpenSSL, libcurl).
binary="$(bash ci/support/build-release.sh)"
mkdir -p "$prefix/bin"
install -m 0755 "$binary" "$prefix/bin/lambda-deploy"
"$prefix/bin/lambda-deploy" --version
