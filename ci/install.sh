#!/usr/bin/env bash
# Build lambda-deploy from this source tree and install it: the README's "Install", as a script
# for CI images and machines. Needs Swift 6.3 to build and root (or a writable PREFIX); the
# installed binary itself needs only the C libraries (libgit2, libdeflate, libcrypto, libcurl).
#   bash ci/install.sh                 # -> /usr/local/bin/lambda-deploy
#   PREFIX=$HOME/.local bash ci/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
missing=()
for pkg in libgit2-dev libdeflate-dev libssl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# Release build with the Swift runtime linked in: the installed binary runs without a Swift
# toolchain, so it can be copied into CI images that only have the C libraries.
binary="$(bash ci/support/build-release.sh)"
mkdir -p "$prefix/bin"
install -m 0755 "$binary" "$prefix/bin/lambda-deploy"
"$prefix/bin/lambda-deploy" --version
