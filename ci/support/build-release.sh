#!/usr/bin/env bash
# Builds the binary lambda-deploy ships and prints its path: release, with the Swift runtime and
# Foundation linked in (--static-swift-stdlib), so the installed binary needs no Swift toolchain
# at run time, only the system's libgit2, libdeflate, libcrypto and libcurl (see the README).
#
# Why static: a dynamically linked Swift binary loads and binds some 20 Swift and Foundation
# libraries at every start, about 5 ms; `hook pre-push` runs on every `git push` and
# `history --json` has to keep up with `git log` (BENCHMARKS.md). It links with the toolchain's
# lld. FoundationNetworking's archive links libcurl, so libcurl's development files must be
# present (libcurl4-openssl-dev, installed here when no libcurl.pc is found).
#
# Usage: bash ci/support/build-release.sh        (builds into .build/static, prints the binary)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! pkg-config --exists libcurl 2>/dev/null; then
  echo "installing: libcurl4-openssl-dev (needed to link the static release binary)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev >&2
fi

flags=(-c release --static-swift-stdlib -Xswiftc -use-ld=lld --scratch-path .build/static)
swift build "${flags[@]}" >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/lambda-deploy"
