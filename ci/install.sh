#!/usr/bin/env bash
# Build lambda-deploy from this source tree and install it: the README's "Install", as a script
# for CI images and machines. Needs Swift 6.3 and root (or a writable PREFIX).
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
swift build -c release
mkdir -p "$prefix/bin"
install -m 0755 "$(swift build -c release --show-bin-path)/lambda-deploy" "$prefix/bin/lambda-deploy"
"$prefix/bin/lambda-deploy" --version
