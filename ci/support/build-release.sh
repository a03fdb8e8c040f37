#!/usr/bin/env bash
# Builds the binary lambda-deploy ships and prints its path: release, Swift runtime and Foundation
# linked in (--static-swift-stdlib), and libgit2, libdeflate and libcrypto linked in too, with
# what Debian's libgit2.a needs (mbedtls, libssh2, http-parser, pcre2). What it loads from the
# system at start (readelf -d: NEEDED) is glibc (libc, libm, ld-linux), libstdc++/libgcc_s and
# zlib, then libcurl.so.4 on its first request; it needs no symbol newer than GLIBC_2.34 and
# GLIBCXX_3.4.29 (GCC 11), so Ubuntu 22.04, Amazon Linux 2023 and RHEL 9 can run it.
# ci/test-release.sh proves it in a minimal Debian 12 root; BENCHMARKS.md has its size and
# start-up time.
#
# How, and why:
# - Static C libraries: SwiftPM links what each module's pkg-config file says, so this script
#   points PKG_CONFIG_PATH at its own libgit2.pc, libcrypto.pc, libdeflate.pc and libcurl.pc
#   (.build/static/link-inputs) whose -L is a directory holding only the .a files: the linker
#   takes the first directory on its path that has the library, and picks the archives.
# - libcurl stays the system's (its soname libcurl.so.4 has not changed in 18 years and every CI
#   image has it) but is loaded on the first request, not at start-up: its ~30 libraries cost
#   ~7 ms of CPU per start that `--version`, `hook pre-push` and `history` never need, and
#   looking its functions up by name works with Debian's versioned symbols (CURL_OPENSSL_4) and
#   Amazon Linux's unversioned ones alike. See libcurl-on-first-use.c.
# - gssapi-unavailable.c: Debian's libgit2.a calls GSS-API for HTTP Negotiate authentication,
#   which lambda-deploy never uses (libgit2 works on the local repository; the git CLI fetches
#   and pushes), and there is no static libgssapi_krb5: those calls fail cleanly instead.
# - glibc-compat.c: the only GLIBC_2.35 symbols were hypot and hypotf (new versions in 2.35);
#   --wrap sends them to the 2.2.5 versions (see that file).
# - libstdcxx-compat.c: likewise the one GLIBCXX_3.4.30 symbol (GCC 12's
#   condition_variable::wait, from ICU), so GCC 11's libstdc++ (Amazon Linux 2023, RHEL 9) will do.
# - The static Swift runtime links with -export-dynamic and --exclude-libs ALL: the C archives'
#   symbols stay private, so libcurl's own libcrypto.so.3 never binds to our copy.
# - A dynamically linked Swift binary loads and binds some 20 Swift and Foundation libraries at
#   every start (~5 ms); `hook pre-push` runs on every `git push`.
#
# Usage: bash ci/support/build-release.sh   (builds into .build/static, prints the binary's path;
#        the linker's map, for where the bytes go, is .build/static/lambda-deploy.map)
set -euo pipefail
cd "$(dirname "$0")/../.."

scratch=.build/static
inputs=$scratch/link-inputs

need=()
for pkg in libgit2-dev libdeflate-dev libssl-dev libcurl4-openssl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]} (needed to link the release binary)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

rm -rf "$inputs"
mkdir -p "$inputs"

# The archives: everything `pkg-config --static` names for the three libraries (and libssh2,
# which Debian's libgit2.pc names without its own needs), but glibc's (c, m, dl, pthread, and rt,
# part of libc since 2.34), zlib (libz.so.1 is everywhere) and what libssh2 never calls
# (libssl, libgpg-error).
libdir=$(pkg-config --variable=libdir libgit2)
archives=()
for lib in $(pkg-config --static --libs-only-l libgit2 libdeflate libcrypto libssh2 | tr ' ' '\n' | sed -n 's/^-l//p' | sort -u); do
  case $lib in c | m | dl | pthread | rt | z | ssl | gpg-error) continue ;; esac
  if [ ! -f "$libdir/lib$lib.a" ]; then
    echo "error: $libdir/lib$lib.a is missing: install the -dev package that ships lib$lib.a" >&2
    exit 1
  fi
  ln -s "$libdir/lib$lib.a" "$inputs/lib$lib.a"
  archives+=("-l$lib")
done

# libcurl: link-inputs/libcurl.a is libcurl-on-first-use.c, trampolines for every function the
# system's libcurl exports, which load libcurl.so.4 on the first call (see that file).
nm -D --defined-only "$libdir/libcurl.so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u \
  | awk '{ printf "CURL_FUNCTION(%d, %s)\n", NR - 1, $1 }' > "$inputs/curl-functions.h"
clang -c -O2 -fPIC -Wall -Werror -DCURL_FUNCTIONS_HEADER="\"$PWD/$inputs/curl-functions.h\"" \
  -o "$inputs/libcurl-on-first-use.o" ci/support/libcurl-on-first-use.c
ar rcsD "$inputs/libcurl.a" "$inputs/libcurl-on-first-use.o"

# pkg-config files for the modules' C libraries, pointing at link-inputs. libgit2's carries
# the archives every module's C library needs (lld does not care about their order).
stage=$PWD/$inputs
write_pc() { # name libs
  printf 'Name: %s\nDescription: %s for the release link (ci/support/build-release.sh)\nVersion: %s\nLibs: -L%s %s\nCflags: %s\n' \
    "$1" "$1" "$(pkg-config --modversion "$1")" "$stage" "$2" "$(pkg-config --cflags "$1")" > "$inputs/$1.pc"
}
write_pc libgit2 "${archives[*]} -lz"
write_pc libcrypto -lcrypto
write_pc libdeflate -ldeflate
write_pc libcurl -lcurl

for shim in glibc-compat libstdcxx-compat gssapi-unavailable; do
  clang -c -O2 -fPIC -Wall -Werror -o "$inputs/$shim.o" "ci/support/$shim.c"
done

export PKG_CONFIG_PATH=$stage
# -ffile-prefix-map: C sources' __FILE__ (libyaml's asserts) name paths relative to the checkout,
# so the binary does not depend on where the source was checked out (ci/release.sh: same source,
# same bytes).
flags=(-c release --static-swift-stdlib --scratch-path "$scratch" -Xswiftc -use-ld=lld
  -Xcc "-ffile-prefix-map=$PWD/="
  -Xlinker "$stage/glibc-compat.o" -Xlinker --wrap=hypot -Xlinker --wrap=hypotf
  -Xlinker "$stage/libstdcxx-compat.o" -Xlinker --wrap=_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE
  -Xlinker "$stage/gssapi-unavailable.o"
  -Xlinker "-Map=$PWD/$scratch/lambda-deploy.map" -Xlinker "--why-extract=$PWD/$scratch/lambda-deploy.why")
binary="$(swift build "${flags[@]}" --show-bin-path)/lambda-deploy"
rm -f "$binary"  # link-inputs changes do not show on the link's command line: always relink
swift build "${flags[@]}" >&2
echo "$binary"
