#!/usr/bin/env bash
# Writes the release artifacts to dist/ (ignored by git):
#
#   lambda-deploy-VERSION-linux-x86_64.tar.gz   the binary, hooks/pre-push, LICENSE, README.md
#   lambda-deploy_VERSION_amd64.deb             /usr/bin/lambda-deploy; Depends: from what the
#                                               binary loads (dpkg-shlibdeps + libcurl's minimum)
#   SHA256SUMS                                  both, in `sha256sum` format (install.sh checks it)
#
# VERSION is what the binary's --version prints. The tarball is reproducible: the same binary
# gives the same bytes (names sorted, every mtime SOURCE_DATE_EPOCH or else the commit's time,
# owner and group 0, fixed modes, gzip -n). The .deb uses the same mtimes. Both use gzip at its
# default level: xz saves a third of the .deb but costs ten times the CPU (40 s here).
#
# Usage: bash ci/release.sh [BINARY]
#   BINARY defaults to a fresh `bash ci/support/build-release.sh`. It must be unstripped (the
#   libcurl functions it calls are read from its symbol table); the artifacts get a stripped copy.
#   LAMBDA_DEPLOY_DIST_DIR writes somewhere else than dist/ (ci/test-release.sh checks that a
#   second run gives the same bytes).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-}
if [ -z "$binary" ]; then
  binary=$(bash ci/support/build-release.sh)
fi
[ -x "$binary" ] || { echo "error: $binary is not an executable (build it with ci/support/build-release.sh)" >&2; exit 1; }

version=$("$binary" --version)
if ! printf '%s\n' "$version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+([-+.][0-9A-Za-z.-]+)?'; then
  echo "error: '$binary --version' printed '$version', not a version like 1.2.3" >&2
  exit 1
fi
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || true)}
if ! printf '%s\n' "$epoch" | grep -Eqx '[0-9]+'; then
  echo "error: set SOURCE_DATE_EPOCH (seconds since 1970) outside a git checkout" >&2
  exit 1
fi

name=lambda-deploy-$version-linux-x86_64
work=$(mktemp -d "${TMPDIR:-/tmp}/lambda-deploy-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
dist=${LAMBDA_DEPLOY_DIST_DIR:-dist}
mkdir -p "$dist"
rm -f "$dist"/lambda-deploy-*.tar.gz "$dist"/lambda-deploy_*.deb "$dist/SHA256SUMS"

# The binary the artifacts carry: stripped (the Swift runtime's crash backtraces still name
# functions from the dynamic symbol table, which stays).
strip --strip-all -o "$work/lambda-deploy" "$binary"

# What the binary loads. NEEDED entries must be glibc's, the C++ runtime's and zlib's only
# (ci/support/build-release.sh links the rest in); libcurl.so.4 is loaded by its first request.
needed=$(readelf -d "$work/lambda-deploy" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
unexpected=$(printf '%s\n' "$needed" | grep -vxE 'libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1' || true)
if [ -n "$unexpected" ]; then
  echo "error: the binary needs $(printf '%s' "$unexpected" | tr '\n' ' ')which a minimal system may lack; link it in (ci/support/build-release.sh)" >&2
  exit 1
fi
# The C libraries linked in, and the link shims, stay private: an exported copy would take the
# place of the system's own for libcurl and the libraries it loads (libgssapi_krb5, libcrypto).
exported=$(nm -D --defined-only "$work/lambda-deploy" | awk '{ print $3 }' \
  | grep -E '^(gss_|GSS_|curl_|git_|EVP_|SSL_|OPENSSL_|mbedtls_|libssh2_|pcre2_|http_parser|libdeflate_|__wrap_|lambda_deploy_curl_)' || true)
if [ -n "$exported" ]; then
  echo "error: the binary exports $(printf '%s\n' "$exported" | head -n 3 | tr '\n' ' ')...: make them hidden (ci/support/build-release.sh)" >&2
  exit 1
fi

# Symbol versions: at most what Ubuntu 22.04, Amazon Linux 2023 and RHEL 9 have (glibc 2.34,
# GCC 11's libstdc++).
versions=$(objdump -T "$work/lambda-deploy")
for floor in GLIBC_2.34 GLIBCXX_3.4.29 CXXABI_1.3.13; do
  family=${floor%_*}
  newest=$(printf '%s\n' "$versions" | grep -o "${family}_[0-9][0-9.]*" | sort -V -u | tail -1)
  if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$floor" | sort -V | tail -1)" != "$floor" ]; then
    echo "error: the binary needs $newest, newer than $floor (see ci/support/glibc-compat.c and libstdcxx-compat.c)" >&2
    exit 1
  fi
done

# The smallest libcurl4 that has every curl_* function the binary calls (from libcurl4's symbols
# file: the version each function first appeared in).
curl_functions=$(nm "$binary" | awk '$2 ~ /^[tT]$/ && $3 ~ /^curl_/ { print $3 }' | sort -u)
curl_symbols=$(dpkg-query --control-show libcurl4 symbols 2>/dev/null || cat /var/lib/dpkg/info/libcurl4:amd64.symbols)
curl_minimum=$(printf '%s\n' "$curl_symbols" | awk -v wanted="$(printf '%s' "$curl_functions" | tr '\n' ' ')" '
  BEGIN { n = split(wanted, list, " "); for (i = 1; i <= n; i++) want[list[i]] = 1 }
  /^ / { split($1, s, "@"); if (s[1] in want) { print $2; found[s[1]] = 1 } }
  END { for (f in want) if (!(f in found)) { print "missing " f > "/dev/stderr"; exit 1 } }' \
  | sed 's/-.*//' | sort -V | tail -1)
[ -n "$curl_minimum" ] || { echo "error: could not work out the minimum libcurl4 version" >&2; exit 1; }

# Depends for the NEEDED libraries, the way Debian computes them (symbols files), plus libcurl4.
mkdir -p "$work/shlibdeps/debian"
printf 'Source: lambda-deploy\n\nPackage: lambda-deploy\nArchitecture: amd64\n' > "$work/shlibdeps/debian/control"
shlib_depends=$(cd "$work/shlibdeps" && dpkg-shlibdeps -O "$work/lambda-deploy" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlib_depends" ] || { echo "error: dpkg-shlibdeps found no dependencies (is dpkg-dev installed?)" >&2; exit 1; }
depends="$shlib_depends, libcurl4 (>= $curl_minimum)"

readme() {
  cat <<EOF
# lambda-deploy $version

Ship an AWS Lambda function from a git repository, safely and with a trail.

- \`lambda-deploy\`: the binary (Linux x86-64, glibc 2.34 or newer: Debian 12, Ubuntu 22.04,
  Amazon Linux 2023, RHEL 9). It needs libcurl.so.4 (\`libcurl4\` on Debian/Ubuntu, \`libcurl\` on
  RHEL/Amazon Linux), zlib and git; nothing else.
- \`hooks/pre-push\`: the git hook \`lambda-deploy hook install\` writes for you, to copy by hand.

Install: copy \`lambda-deploy\` to a directory on PATH, or use the installer, which checks the
download against SHA256SUMS:

    curl -fsSL https://raw.githubusercontent.com/lambda-deploy/lambda-deploy/v$version/install.sh | sh -s -- $version

Then \`lambda-deploy --help\`. The full documentation: https://github.com/lambda-deploy/lambda-deploy
EOF
}

# The tarball: lambda-deploy-VERSION-linux-x86_64/{lambda-deploy,hooks/pre-push,LICENSE,README.md}.
stage=$work/tar/$name
mkdir -p "$stage/hooks"
install -m 0755 "$work/lambda-deploy" "$stage/lambda-deploy"
install -m 0755 hooks/pre-push "$stage/hooks/pre-push"
install -m 0644 LICENSE "$stage/LICENSE"
readme > "$stage/README.md"
chmod 0644 "$stage/README.md"
chmod 0755 "$stage" "$stage/hooks"
tar --create --format=gnu --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --directory="$work/tar" "$name" | gzip -n > "$dist/$name.tar.gz"

# The .deb.
deb=$work/deb
mkdir -p "$deb/DEBIAN" "$deb/usr/bin" "$deb/usr/share/doc/lambda-deploy" "$deb/usr/share/lambda-deploy/hooks"
install -m 0755 "$work/lambda-deploy" "$deb/usr/bin/lambda-deploy"
install -m 0755 hooks/pre-push "$deb/usr/share/lambda-deploy/hooks/pre-push"
install -m 0644 LICENSE "$deb/usr/share/doc/lambda-deploy/copyright"
readme > "$deb/usr/share/doc/lambda-deploy/README.md"
chmod 0644 "$deb/usr/share/doc/lambda-deploy/README.md"
cat > "$deb/DEBIAN/control" <<EOF
Package: lambda-deploy
Version: $version
Architecture: amd64
Maintainer: lambda-deploy authors <https://github.com/lambda-deploy/lambda-deploy>
Installed-Size: $(du -k -s "$deb/usr" | cut -f1)
Depends: $depends
Recommends: ca-certificates, git
Section: devel
Priority: optional
Homepage: https://github.com/lambda-deploy/lambda-deploy
Description: ship an AWS Lambda function from a git repository
 Packages a function directory into a reproducible zip, uploads it, publishes a
 version, moves an alias and records the deploy as a git note. Decides from the
 CI environment (Travis, GitHub Actions, GitLab, ...) whether to deploy; a git
 pre-push hook deploys the dev alias.
EOF
chmod 0644 "$deb/DEBIAN/control"
find "$deb" -type d -exec chmod 0755 {} +  # whatever the umask: modes are part of the bytes
find "$deb" -exec touch --no-dereference --date="@$epoch" {} +
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zgzip --build "$deb" "$dist/lambda-deploy_${version}_amd64.deb" >/dev/null

(cd "$dist" && sha256sum "$name.tar.gz" "lambda-deploy_${version}_amd64.deb" > SHA256SUMS)
echo "$dist/ for lambda-deploy $version:"
for file in "$name.tar.gz" "lambda-deploy_${version}_amd64.deb" SHA256SUMS; do
  printf '  %-45s %12s bytes\n' "$file" "$(stat -c %s "$dist/$file")"
done
echo "  Depends: $depends"
