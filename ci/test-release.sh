#!/usr/bin/env bash
# Proof that the release runs where users run it: a minimal Debian 12 root (debootstrap
# --variant=minbase bookworm) with only `libcurl4 git ca-certificates` installed, the release's
# .deb installed in it (so dpkg checks its Depends against that root), and, inside it (chroot):
#
#   lambda-deploy --version     the version, and nothing on stderr (no loader warnings)
#   lambda-deploy package       the same CodeSha256 as the same binary gives on this machine
#   lambda-deploy deploy        to a moto server on this machine's loopback (a chroot shares the
#                               network namespace), checked in moto: alias -> version -> CodeSha256
#   lambda-deploy history       the record of that deploy
#   git push                    through `lambda-deploy hook install`'s pre-push hook, to a bare
#                               remote: the hook deploys dev again (version 2), and records it
#
# and, on this machine, install.sh against dist/ served on loopback: it installs the same bytes
# the tarball holds.
#
# The root is cached in ${LAMBDA_DEPLOY_CI_CACHE:-~/.cache/lambda-deploy-ci}, keyed by the
# suite and package list (delete it to refresh); each run works on an overlay of it (or a copy,
# where overlayfs is unavailable), so the cached root never changes. Cold: ~5 min (debootstrap
# and apt); warm: the release build plus well under a minute.
#
# Usage: bash ci/test-release.sh            (builds dist/ with ci/release.sh first)
#        LAMBDA_DEPLOY_DIST=dist bash ci/test-release.sh   (tests an existing dist/)
#        KEEP_RUN=1 ...    keeps the run's directory (logs, the root's upper layer) for a look
# Needs root (debootstrap, chroot, mount), network access to the Debian mirror on a cold cache
# (DEBIAN_MIRROR, default http://deb.debian.org/debian), python3 with moto (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

suite=bookworm
packages=(libcurl4 git ca-certificates)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LAMBDA_DEPLOY_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-deploy-ci}

started=$SECONDS
step() { printf '== [%3ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'test-release: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mount): run it as root or in a root container"

# What a fresh machine lacks.
missing=()
for pkg in debootstrap dpkg-dev binutils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash ci/support/install-deps.sh >/dev/null
# PyYAML: ci/support/run_action.py reads action.yml and the snippets with it.
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml

# The artifacts.
dist=${LAMBDA_DEPLOY_DIST:-}
if [ -z "$dist" ]; then
  step "building dist/ (ci/release.sh)"
  binary_built=$(bash ci/support/build-release.sh)
  bash ci/release.sh "$binary_built"
  dist=dist
  step "ci/release.sh again, elsewhere, under umask 077: the same bytes"
  again=$(mktemp -d "${TMPDIR:-/tmp}/lambda-deploy-release-again.XXXXXX")
  (umask 077 && LAMBDA_DEPLOY_DIST_DIR=$again/dist TMPDIR=$again bash ci/release.sh "$binary_built" >/dev/null)
  cmp -s dist/SHA256SUMS "$again/dist/SHA256SUMS" || { rm -rf "$again"; fail "a second ci/release.sh gave other bytes: $(diff dist/SHA256SUMS "$again/dist/SHA256SUMS")"; }
  rm -rf "$again"
fi
dist=$(cd "$dist" && pwd)
version=$(sed -n 's/^[0-9a-f]\{64\}  lambda-deploy-\(.*\)-linux-x86_64\.tar\.gz$/\1/p' "$dist/SHA256SUMS")
[ -n "$version" ] || fail "$dist/SHA256SUMS names no lambda-deploy-VERSION-linux-x86_64.tar.gz"
tarball=lambda-deploy-$version-linux-x86_64.tar.gz
deb=lambda-deploy_${version}_amd64.deb
(cd "$dist" && sha256sum --quiet --check SHA256SUMS) || fail "dist/ does not match its SHA256SUMS"

# The cached root.
key=$(printf '%s\n' "debootstrap --variant=minbase $suite" "apt-get install --no-install-recommends ${packages[*]}" | sha256sum | cut -c1-12)
base=$cache/debian-$suite-minbase-$key
if [ ! -e "$base/.lambda-deploy-root-complete" ]; then
  step "building a minimal Debian root: debootstrap --variant=minbase $suite, then ${packages[*]} (cached in $base)"
  mkdir -p "$cache"
  rm -rf "$base.partial"
  if ! debootstrap --variant=minbase "$suite" "$base.partial" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -n 20 "$cache/debootstrap.log" >&2
    fail "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  in_base() { chroot "$base.partial" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
  in_base apt-get update -qq
  in_base apt-get install -y -qq --no-install-recommends "${packages[@]}" >"$cache/apt.log" 2>&1 \
    || { tail -n 20 "$cache/apt.log" >&2; fail "apt-get install ${packages[*]} failed in the root (log: $cache/apt.log)"; }
  in_base apt-get clean
  rm -rf "$base.partial/var/lib/apt/lists/"*
  touch "$base.partial/.lambda-deploy-root-complete"
  rm -rf "$base"
  mv "$base.partial" "$base"
else
  step "using the cached Debian root $base"
fi

# This run's root: an overlay on the cached one (or a copy).
run=$(mktemp -d "${TMPDIR:-/tmp}/lambda-deploy-release-test.XXXXXX")
root=$run/root
mounted=()
pids=()
cleanup() {
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true; done
  [ -n "${KEEP_RUN:-}" ] && { echo "kept $run"; return; }
  rm -rf --one-file-system "$run"
}
trap cleanup EXIT
mkdir -p "$root" "$run/upper" "$run/overlay-work"
if mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/overlay-work" "$root" 2>/dev/null; then
  mounted+=("$root")
else
  step "overlayfs unavailable: copying the root"
  cp -a "$base/." "$root/"
fi
if mount -t proc proc "$root/proc" 2>/dev/null; then
  mounted+=("$root/proc")
else
  step "note: could not mount /proc in the root; running without it"
fi

# A local AWS endpoint on this machine's loopback, reachable from inside the root.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
python3 ci/support/moto_local.py serve "$port" >"$run/moto.out" 2>"$run/moto.log" &
pids+=($!)
for _ in $(seq 1 150); do grep -q ready "$run/moto.out" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$run/moto.out" || { cat "$run/moto.log" >&2; fail "moto did not start"; }
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
python3 ci/support/moto_local.py create-function "$endpoint" pr >/dev/null

# Runs a shell command inside the root, in the sample repository, with a clean environment and
# test-only credentials for the local endpoint. Bounded: a hang is a failure.
inroot() {
  timeout 300 chroot "$root" /usr/bin/env -i \
    HOME=/home/ci PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    /bin/sh -c "cd /home/ci/repo && $1"
}
# Prints a Python expression over `value`, the JSON document on stdin (the expressions are this
# script's own).
json_eval() { python3 -c 'import json, sys; print(eval(sys.argv[1], {"value": json.load(sys.stdin)}))' "$1"; }
alias_in_moto() { # ALIAS -> "VERSION CODESHA256" as moto has it
  python3 - "$endpoint" "$1" <<'PY'
import sys, boto3
lam = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1")
version = lam.get_alias(FunctionName="pr", Name=sys.argv[2])["FunctionVersion"]
print(version, lam.get_function_configuration(FunctionName="pr", Qualifier=version)["CodeSha256"])
PY
}

step "dpkg -i $deb in the root (its Depends against only ${packages[*]} and the base system)"
cp "$dist/$deb" "$root/tmp/$deb"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i "/tmp/$deb" >"$run/dpkg.log" 2>&1 \
  || { cat "$run/dpkg.log" >&2; fail "dpkg -i $deb failed in the minimal root"; }
mkdir -p "$run/tar"
tar -xzf "$dist/$tarball" -C "$run/tar"
binary=$run/tar/lambda-deploy-$version-linux-x86_64/lambda-deploy
cmp -s "$binary" "$root/usr/bin/lambda-deploy" || fail "the .deb's /usr/bin/lambda-deploy differs from the tarball's binary"

mkdir -p "$root/home/ci/repo/src"
cp examples/hello/app.py "$root/home/ci/repo/src/app.py"
cat >"$root/home/ci/repo/lambda-deploy.yml" <<'YAML'
function: pr
directory: src
region: us-east-1
hook:
  alias: dev
YAML
printf '[user]\n\tname = Release Test\n\temail = release-test@example.com\n[init]\n\tdefaultBranch = main\n' >"$root/home/ci/.gitconfig"

step "lambda-deploy --version"
got=$(inroot 'lambda-deploy --version' 2>"$run/version.err") || fail "--version failed: $(cat "$run/version.err")"
[ "$got" = "$version" ] || fail "--version printed '$got', expected $version"
[ ! -s "$run/version.err" ] || fail "--version wrote to stderr: $(cat "$run/version.err")"

inroot 'git init -q && git add -A && git commit -q -m "hello function"' || fail "git commit in the root"

step "lambda-deploy package"
inroot 'lambda-deploy package src --output /home/ci/pr.zip --json' >"$run/package.json" 2>"$run/package.err" \
  || fail "package failed: $(cat "$run/package.err")"
sha=$(json_eval 'value["codeSha256"]' <"$run/package.json")
host_sha=$("$binary" package "$root/home/ci/repo/src" --output "$run/host.zip" --json 2>/dev/null | json_eval 'value["codeSha256"]')
[ "$sha" = "$host_sha" ] || fail "package in the root gave CodeSha256 $sha, on this machine $host_sha"
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; assert z.namelist() == ["app.py"], z.namelist()' \
  "$root/home/ci/pr.zip" || fail "the zip written in the root does not read back as [app.py]"

step "lambda-deploy deploy --alias dev (moto on $endpoint)"
inroot 'lambda-deploy deploy --alias dev --json' >"$run/deploy.json" 2>"$run/deploy.err" \
  || fail "deploy failed: $(cat "$run/deploy.err")"
[ "$(json_eval 'value["result"]' <"$run/deploy.json")" = deployed ] || fail "deploy: $(cat "$run/deploy.json")"
[ "$(alias_in_moto dev)" = "1 $sha" ] || fail "moto's dev alias is '$(alias_in_moto dev)', expected version 1 with $sha"

step "lambda-deploy history"
inroot 'lambda-deploy history --json' >"$run/history.json" 2>"$run/history.err" || fail "history failed: $(cat "$run/history.err")"
[ "$(json_eval '(value[0]["alias"], value[0]["version"], value[0]["result"], len(value))' <"$run/history.json")" = "('dev', '1', 'deployed', 1)" ] \
  || fail "history: $(cat "$run/history.json")"

step "git push through the pre-push hook (lambda-deploy hook install)"
inroot 'git init -q --bare /home/ci/origin.git && git remote add origin /home/ci/origin.git && lambda-deploy hook install' \
  >"$run/hook-install.log" 2>&1 || fail "hook install: $(cat "$run/hook-install.log")"
printf '\n# second version\n' >>"$root/home/ci/repo/src/app.py"
inroot 'git commit -q -a -m "second version" && git push origin main' >"$run/push.log" 2>&1 \
  || fail "git push: $(cat "$run/push.log")"
read -r hook_version hook_sha <<<"$(alias_in_moto dev)"
{ [ "$hook_version" = 2 ] && [ "$hook_sha" != "$sha" ]; } || fail "after the push moto's dev alias runs version $hook_version ($hook_sha); push log: $(cat "$run/push.log")"
inroot 'git ls-remote /home/ci/origin.git refs/heads/main' | grep -q "$(inroot 'git rev-parse HEAD')" || fail "the push did not land"
inroot 'lambda-deploy history --json' >"$run/history2.json" 2>&1 || fail "history after the push: $(cat "$run/history2.json")"
[ "$(json_eval '(value[0]["version"], value[0]["trigger"], len(value))' <"$run/history2.json")" = "('2', 'hook', 2)" ] \
  || fail "history after the push: $(cat "$run/history2.json")"

step "install.sh against dist/ served on loopback"
mkdir -p "$run/releases/v$version" "$run/releases/releases/v$version"
cp "$dist/$tarball" "$dist/SHA256SUMS" "$run/releases/v$version/"
cp "$dist/$tarball" "$dist/SHA256SUMS" "$run/releases/releases/v$version/"
python3 ci/support/serve_dir.py "$run/releases" >"$run/serve.out" 2>"$run/serve.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q ready "$run/serve.out" 2>/dev/null && break; sleep 0.1; done
read -r _ serve_port <"$run/serve.out" || fail "serve_dir.py did not start"
LAMBDA_DEPLOY_RELEASE_URL=http://127.0.0.1:$serve_port PREFIX=$run/prefix sh install.sh "$version" >"$run/install.log" 2>&1 \
  || fail "install.sh: $(cat "$run/install.log")"
grep -q "installed lambda-deploy $version to $run/prefix/bin/lambda-deploy" "$run/install.log" || fail "install.sh said: $(cat "$run/install.log")"
cmp -s "$binary" "$run/prefix/bin/lambda-deploy" || fail "install.sh installed other bytes than the tarball's binary"

step "the installer lines of ci/travis.yml (as root) and ci/gitlab-ci.yml (as nobody: the ~/.local fallback), as written"
# Served from loopback instead of GitHub: the raw install.sh and the release downloads.
mkdir -p "$run/releases/raw/lambda-deploy/lambda-deploy/v$version"
cp install.sh "$run/releases/raw/lambda-deploy/lambda-deploy/v$version/install.sh"
snippets=$run/snippets
chmod 0711 "$run"  # nobody may pass through to its own home below
mkdir -p "$snippets/travis-home" "$snippets/gitlab-home"
chmod 0755 "$snippets"
chown nobody "$snippets/gitlab-home"
snippet_line() { # FILE: the one line of the snippet that runs install.sh
  python3 - "$1" <<'PY'
import sys, yaml
document = yaml.safe_load(open(sys.argv[1]))
lines = document.get("before_install") or document["deploy"]["before_script"]
found = [line for line in lines if "install.sh" in line]
assert len(found) == 1, found
print(found[0])
PY
}
for snippet in travis gitlab; do
  line=$(snippet_line "ci/$snippet$([ $snippet = travis ] && echo .yml || echo -ci.yml)")
  case $line in *"| PREFIX=\"\$HOME/.local\" sh -s -- $version"* | *"| sh -s -- $version") ;; *) fail "ci/$snippet*.yml does not install $version: $line" ;; esac
  line=${line//https:\/\/raw.githubusercontent.com\//http://127.0.0.1:$serve_port/raw/}
  # Travis's line puts ~/.local/bin on PATH itself; GitLab's image runs as root (/usr/local/bin),
  # so here, as nobody, the binary lands in ~/.local/bin and is run from there.
  as=() then='lambda-deploy --version'
  # shellcheck disable=SC2016 # $HOME expands in the snippet's shell, as nobody
  [ $snippet = gitlab ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups) then='"$HOME/.local/bin/lambda-deploy" --version'
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$snippets/$snippet-home" LAMBDA_DEPLOY_RELEASE_URL="http://127.0.0.1:$serve_port/releases" \
    ${as[@]+"${as[@]}"} bash -eo pipefail -c "$line"$'\n'"$then" >"$run/$snippet-snippet.log" 2>&1 \
    || fail "ci/$snippet's installer line failed: $(cat "$run/$snippet-snippet.log")"
  tail -n 1 "$run/$snippet-snippet.log" | grep -qx "$version" || fail "ci/$snippet's installer line: $(cat "$run/$snippet-snippet.log")"
done
grep -q "installing to $snippets/gitlab-home/.local/bin instead" "$run/gitlab-snippet.log" \
  || fail "as nobody the installer did not fall back to ~/.local: $(cat "$run/gitlab-snippet.log")"

step "action.yml, run as a GitHub runner would (ci/support/run_action.py), pinned by version and checksum"
git clone -q --bare "$root/home/ci/repo" "$run/action-origin.git"
git clone -q "$run/action-origin.git" "$run/action-repo"
git -C "$run/action-repo" config user.name "Release Test"
git -C "$run/action-repo" config user.email release-test@example.com
printf '\n# third version\n' >>"$run/action-repo/src/app.py"
git -C "$run/action-repo" commit -q -a -m "third version"
tarball_sha=$(sed -n "s/^\([0-9a-f]\{64\}\)  $tarball\$/\1/p" "$dist/SHA256SUMS")
GITHUB_ACTION_REF=v$version LAMBDA_DEPLOY_RELEASE_URL=http://127.0.0.1:$serve_port \
  AWS_ENDPOINT_URL=$endpoint AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null HOME=$run/action-home \
  python3 ci/support/run_action.py --outputs "$run/action.outputs" . "$run/action-repo" "sha256=$tarball_sha" "args=deploy --alias dev --json" \
  >"$run/action.out" 2>"$run/action.err" || fail "the action failed: $(tail -n 5 "$run/action.err")"
grep -q "installed lambda-deploy $version to" "$run/action.out" || fail "the action did not install $version: $(cat "$run/action.out")"
read -r action_version action_sha <<<"$(alias_in_moto dev)"
[ "$action_version" = 3 ] || fail "after the action moto's dev alias runs version $action_version"
# The action's outputs, as a later step reads them (${{ steps.deploy.outputs.* }}).
expected_outputs="function=pr
alias=dev
version=3
previous-version=2
code-sha256=$action_sha
result=deployed
commit=$(git -C "$run/action-repo" rev-parse HEAD)
reason="
[ "$(sort "$run/action.outputs")" = "$(sort <<<"$expected_outputs")" ] \
  || fail "the action's outputs: $(cat "$run/action.outputs"), expected: $expected_outputs"
GITHUB_ACTION_REF=v$version LAMBDA_DEPLOY_RELEASE_URL=http://127.0.0.1:$serve_port HOME=$run/action-home \
  python3 ci/support/run_action.py . "$run/action-repo" "sha256=$(printf '%064d' 0)" >"$run/action-pinned.out" 2>&1 \
  && fail "the action installed a tarball whose checksum differs from its sha256 input"
grep -q "checksum mismatch" "$run/action-pinned.out" || fail "the action's checksum refusal said: $(cat "$run/action-pinned.out")"

step "passed: lambda-deploy $version runs in a minimal Debian $suite root (${packages[*]})"
