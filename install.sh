#!/bin/sh
# Installs lambda-deploy from its release downloads, checked against the release's SHA256SUMS.
#
#   curl -fsSL https://raw.githubusercontent.com/lambda-deploy/lambda-deploy/main/install.sh | sh -s -- 0.1.0
#   sh install.sh [VERSION]            (no VERSION: the latest release; pin one in CI)
#
# Downloads  $LAMBDA_DEPLOY_RELEASE_URL/vVERSION/lambda-deploy-VERSION-linux-x86_64.tar.gz
#       and  $LAMBDA_DEPLOY_RELEASE_URL/vVERSION/SHA256SUMS
# (the layout of GitHub release downloads), checks the tarball's SHA-256 against SHA256SUMS, and
# against LAMBDA_DEPLOY_SHA256 too when that is set, checks the binary runs here, then installs
# it as $PREFIX/bin/lambda-deploy and prints its version. Any failure installs nothing.
#
# Environment:
#   PREFIX                     where to install (bin/ below it). Default /usr/local, or ~/.local
#                              when /usr/local/bin is not writable.
#   LAMBDA_DEPLOY_RELEASE_URL  default https://github.com/lambda-deploy/lambda-deploy/releases/download
#   LAMBDA_DEPLOY_SHA256       the tarball's SHA-256 you expect (pinning by checksum: it holds
#                              even if the release's files were replaced)
#
# POSIX sh; needs curl or wget, tar, gzip, and sha256sum (or shasum, or openssl).
set -eu

default_release_url=https://github.com/lambda-deploy/lambda-deploy/releases/download

say() { printf '%s\n' "$*"; }
fail() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  say "usage: sh install.sh [VERSION]   (for example: sh install.sh 0.1.0)"
  say "installs lambda-deploy VERSION (default: the latest release) into \$PREFIX/bin, checked against the release's SHA256SUMS"
}

case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) usage >&2; exit 64 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 64; }

release_url=${LAMBDA_DEPLOY_RELEASE_URL:-$default_release_url}
release_url=${release_url%/}
case $release_url in
  http://* | https://*) ;;
  *) fail "LAMBDA_DEPLOY_RELEASE_URL must be an http:// or https:// URL" ;;
esac

# Text from outside (environment, servers, the downloaded binary) as shown in messages: one
# line, printable characters only (never a terminal escape).
printable() { printf '%s' "$1" | tr -c '[:print:]' '?'; }
# URLs as shown in messages: printable, and a user:password@ in them masked.
shown() { printable "$1" | sed 's#^\([A-Za-z][A-Za-z0-9+.-]*://\)[^/@]*@#\1***@#'; }

# A version is digits, letters, dots, plus and minus signs, starting with a digit: never a path,
# an option or a second line.
valid_version() {
  case $1 in
    '' | *[!0-9A-Za-z.+-]* | [!0-9]*) return 1 ;;
  esac
  return 0
}

# download URL FILE MAX_BYTES: 0, or 22 when the server answered with an HTTP error (404: no such file),
# or another status when the server could not be reached.
if command -v curl >/dev/null 2>&1; then
  download() {
    curl --fail --silent --show-error --location --max-redirs 10 --proto '=http,https' \
      --connect-timeout 20 --max-time 600 --retry 3 --max-filesize "$3" --output "$2" "$1" 2>"$2.err"
  }
  final_url() {
    curl --fail --silent --show-error --location --max-redirs 10 --proto '=http,https' \
      --connect-timeout 20 --max-time 60 --head --output /dev/null --write-out '%{url_effective}' "$1"
  }
elif command -v wget >/dev/null 2>&1; then
  download() {
    wget -q -T 60 -t 3 -O "$2" "$1" 2>"$2.err" && return 0
    status=$?
    [ "$status" -eq 8 ] && return 22  # wget: "server issued an error response"
    return "$status"
  }
  final_url() {
    wget -S --spider -T 60 "$1" 2>&1 | tr -d '\r' | sed -n 's/^ *[Ll]ocation: *\([^ ]*\).*/\1/p' | tail -n 1
  }
else
  fail "neither curl nor wget is installed; install one of them"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
elif command -v openssl >/dev/null 2>&1; then
  sha256_of() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }
else
  fail "no sha256sum, shasum or openssl to check the download with; install coreutils"
fi

os=$(uname -s)
arch=$(uname -m)
case $os/$arch in
  Linux/x86_64 | Linux/amd64) ;;
  *) fail "no release binary for $os/$arch (there is one for Linux/x86_64); build from source: bash ci/install.sh" ;;
esac

version=${1:-}
version=${version#v}
if [ -z "$version" ]; then
  case $release_url in
    */releases/download) ;;
    *) fail "give a version (sh install.sh 0.1.0): the latest is only known for GitHub release URLs" ;;
  esac
  latest=$(final_url "${release_url%/download}/latest") || fail "could not ask $(shown "${release_url%/download}")/latest for the latest release"
  version=${latest##*/tag/}
  version=${version#v}
  valid_version "$version" || fail "could not tell the latest release from $(shown "${release_url%/download}")/latest; give a version (sh install.sh 0.1.0)"
fi
valid_version "$version" || fail "'$(printable "$version")' is not a version (like 0.1.0)"
case ${LAMBDA_DEPLOY_SHA256:-} in
  *[!0-9A-Fa-f]*) fail "LAMBDA_DEPLOY_SHA256 must be the tarball's SHA-256: 64 hex digits" ;;
esac
if [ -n "${LAMBDA_DEPLOY_SHA256:-}" ] && [ ${#LAMBDA_DEPLOY_SHA256} -ne 64 ]; then
  fail "LAMBDA_DEPLOY_SHA256 must be the tarball's SHA-256: 64 hex digits"
fi

name=lambda-deploy-$version-linux-x86_64
tarball=$name.tar.gz
base=$release_url/v$version

work=$(mktemp -d "${TMPDIR:-/tmp}/lambda-deploy-install.XXXXXX") || fail "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fetch() { # URL FILE MAX_BYTES
  status=0
  download "$1" "$2" "$3" || status=$?
  case $status in
    0) ;;
    22) fail "lambda-deploy $version not found: $(shown "$1") does not exist (is $version a released version?); nothing installed" ;;
    *)
      reason=$(printable "$(head -n 1 "$2.err" 2>/dev/null)" | sed 's#[A-Za-z][A-Za-z0-9+.-]*://[^/@ ]*@#***@#g')
      fail "could not download $(shown "$1") (${reason:-exit status $status}); nothing installed" ;;
  esac
}

say "downloading lambda-deploy $version from $(shown "$base")"
fetch "$base/SHA256SUMS" "$work/SHA256SUMS" 1048576
fetch "$base/$tarball" "$work/$tarball" 536870912

# The one line of SHA256SUMS that names the tarball (sha256sum writes "HASH  NAME" or "HASH *NAME").
expected=$(awk -v file="$tarball" '$2 == file || $2 == "*" file { print $1 }' "$work/SHA256SUMS")
case $expected in
  '' ) fail "$(shown "$base")/SHA256SUMS has no line for $tarball; nothing installed" ;;
  *[!0-9a-f]*) fail "$(shown "$base")/SHA256SUMS has a malformed line for $tarball; nothing installed" ;;
esac
[ ${#expected} -eq 64 ] || fail "$(shown "$base")/SHA256SUMS has a malformed line for $tarball; nothing installed"
actual=$(sha256_of "$work/$tarball")
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $tarball: SHA256SUMS says $expected, the download is $actual; nothing installed"
fi
if [ -n "${LAMBDA_DEPLOY_SHA256:-}" ]; then
  pinned=$(printf '%s' "$LAMBDA_DEPLOY_SHA256" | tr 'A-F' 'a-f')
  if [ "$actual" != "$pinned" ]; then
    fail "checksum mismatch for $tarball: LAMBDA_DEPLOY_SHA256 is $pinned, the download is $actual; nothing installed"
  fi
fi
say "checked $tarball: sha256 $actual"

tar -xzf "$work/$tarball" -C "$work" "$name/lambda-deploy" 2>/dev/null \
  || fail "$tarball has no $name/lambda-deploy; nothing installed"
if [ ! -f "$work/$name/lambda-deploy" ] || [ -h "$work/$name/lambda-deploy" ]; then
  fail "$tarball has no regular file $name/lambda-deploy; nothing installed"
fi
chmod 0755 "$work/$name/lambda-deploy"

# Run it before installing: a machine it cannot run on (glibc older than 2.34) keeps what it had.
if ! got=$("$work/$name/lambda-deploy" --version 2>"$work/run.err"); then
  fail "lambda-deploy $version does not run here ($(printable "$(head -n 1 "$work/run.err")")); it needs Linux with glibc 2.34+ and libcurl; nothing installed"
fi
[ "$got" = "$version" ] || fail "the downloaded binary says it is '$(printable "$got")', not $version; nothing installed"

writable_dir() { mkdir -p "$1" 2>/dev/null && [ -w "$1" ]; }

if [ -n "${PREFIX:-}" ]; then
  bindir=${PREFIX%/}/bin
  writable_dir "$bindir" || fail "cannot write to $(printable "$bindir"); choose another PREFIX"
else
  bindir=/usr/local/bin
  if ! writable_dir "$bindir"; then
    [ -n "${HOME:-}" ] || fail "$bindir is not writable and HOME is not set; set PREFIX"
    bindir=$HOME/.local/bin
    say "/usr/local/bin is not writable: installing to $(printable "$bindir") instead"
    writable_dir "$bindir" || fail "cannot write to $(printable "$bindir") either; set PREFIX"
  fi
fi

# Copy beside the target, then rename: a running lambda-deploy is never overwritten in place.
cp "$work/$name/lambda-deploy" "$bindir/.lambda-deploy.new.$$" || fail "cannot write to $(printable "$bindir")"
chmod 0755 "$bindir/.lambda-deploy.new.$$"
mv -f "$bindir/.lambda-deploy.new.$$" "$bindir/lambda-deploy" || { rm -f "$bindir/.lambda-deploy.new.$$"; fail "cannot write to $(printable "$bindir")"; }

installed=$("$bindir/lambda-deploy" --version)
say "installed lambda-deploy $(printable "$installed") to $(printable "$bindir")/lambda-deploy"
case :${PATH:-}: in
  *:"$bindir":*) ;;
  *) say "note: $(printable "$bindir") is not on PATH; add it: export PATH=\"$(printable "$bindir"):\$PATH\"" ;;
esac
