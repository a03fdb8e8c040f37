#!/usr/bin/env bash
# Benchmark (issue 16): many functions in one command, and `status`, against a local moto.
#
# 20 small functions in one repository (`functions:` list), each its own directory:
#   - all changed:  lambda-deploy (ci, every function at once)   vs   20 sequential
#                   `lambda-deploy deploy --function F --alias prod` runs (what a team does today)
#   - one changed:  lambda-deploy (ci)   vs   one `lambda-deploy deploy --function F` (the floor
#                   for a single change)
#   - status on 20 functions x 2 aliases (target: under 1 s)
# moto has no rate limit, so the compared runs lift the run's rate budget (LAMBDA_DEPLOY_RATE);
# one more row runs at the default budget, Lambda's own 15 control-plane requests a second, to
# show what that quota costs (the floor: the run's calls / 15 s, whatever the tool does).
# Prints a markdown section with medians and ratios. moto runs on loopback for this script only.
#
# Usage: ci/bench-fleet.sh [RUNS]   (RUNS defaults to BENCH_RUNS, else 5)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy), BENCH_KEEP=1.
set -euo pipefail

runs="${1:-${BENCH_RUNS:-5}}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${LAMBDA_DEPLOY_BIN:-$root/.build/static/release/lambda-deploy}")"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX")"
moto_pid=""
cleanup() {
    if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; fi
    if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
count=20

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 "$root/ci/support/moto_local.py" serve "$port" > "$work/moto.out" 2>/dev/null &
moto_pid=$!
for _ in $(seq 100); do grep -q ready "$work/moto.out" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$work/moto.out" || { echo "error: moto did not start (pip install 'moto[server]')" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export LAMBDA_DEPLOY_CACHE_DIR="$work/cache" HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME" "$work/repo"
git config --global user.name bench
git config --global user.email bench@example.com

cd "$work/repo"
git init -q -b main
{ echo "region: us-east-1"; echo "notes: {push: false}"; echo "functions:"; } > lambda-deploy.yml
for i in $(seq 1 "$count"); do
    mkdir -p "f$i"
    printf 'def handler(event, context):\n    return {"statusCode": 200, "body": "%s"}\n' "$i" > "f$i/app.py"
    printf '  - name: fn%s\n    directory: f%s\n' "$i" "$i" >> lambda-deploy.yml
    python3 "$root/ci/support/moto_local.py" create-function "$AWS_ENDPOINT_URL" "fn$i" >/dev/null
done
git add -A && git commit -qm first
# A Travis push build of main: every function maps main -> prod.
export CI=true TRAVIS=true TRAVIS_BRANCH=main TRAVIS_PULL_REQUEST=false TRAVIS_EVENT_TYPE=push TRAVIS_BUILD_NUMBER=1 TRAVIS_JOB_NUMBER=1.1
"$bin" >/dev/null 2>&1   # first deploy: creates every prod alias
for i in $(seq 1 "$count"); do "$bin" deploy --function "fn$i" --alias dev --override-protection >/dev/null 2>&1; done

change_all() { for i in $(seq 1 "$count"); do echo "# $RANDOM $(date +%s%N)" >> "f$i/app.py"; done; git commit -qam change; }
change_one() { echo "# $RANDOM $(date +%s%N)" >> "f1/app.py"; git commit -qam change; }

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
timed() {
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/last.out" 2>&1 || { echo "error: $* failed (exit $?):" >&2; tail -3 "$work/last.out" >&2; cp "$work/last.out" "${TMPDIR:-/tmp}/bench-fleet-failure.out"; exit 1; }
    end=$(date +%s.%N)
    python3 -c "print(round($end - $start, 3))"
}
sequential() { for i in $(seq 1 "$count"); do "$bin" deploy --function "fn$i" --alias prod >/dev/null 2>&1 || return 1; done; }

export LAMBDA_DEPLOY_RATE=100000
paced() { env -u LAMBDA_DEPLOY_RATE "$bin" --verbose 2> "$work/paced.log" > /dev/null; }
fleet_all=(); seq_all=(); fleet_one=(); single=(); status=(); fleet_paced=(); paced_calls=()
for _ in $(seq 1 "$runs"); do
    change_all; fleet_paced+=("$(timed paced)")
    paced_calls+=("$(grep -c '^aws: lambda ' "$work/paced.log" || true)")
    change_all; fleet_all+=("$(timed "$bin")")
    change_all; seq_all+=("$(timed sequential)")
    change_one; fleet_one+=("$(timed "$bin")")
    change_one; single+=("$(timed "$bin" deploy --function fn1 --alias prod)")
    status+=("$(timed "$bin" status --json)")
done
m() { printf '%s\n' "$@" | median; }
fp=$(m "${fleet_paced[@]}"); pc=$(m "${paced_calls[@]}"); fa=$(m "${fleet_all[@]}"); sa=$(m "${seq_all[@]}"); fo=$(m "${fleet_one[@]}"); si=$(m "${single[@]}"); st=$(m "${status[@]}")
ratio() { python3 -c "print(round($1 / $2, 3))"; }

echo "## Many functions and status (issue 16)"
echo
echo "$count functions in one repository, one file each, moto on loopback; $runs runs, medians."
echo
echo "| comparison | lambda-deploy | reference | ratio | target |"
echo "| --- | --- | --- | --- | --- |"
echo "| all $count changed: \`lambda-deploy\` (ci) vs $count sequential \`deploy --function F\` | ${fa} s | ${sa} s | $(ratio "$fa" "$sa")x | ≤ 0.25x |"
echo "| one changed: \`lambda-deploy\` (ci) vs one \`deploy --function F\` | ${fo} s | ${si} s | $(ratio "$fo" "$si")x | ≤ 1.5x |"
echo "| \`status --json\`, $count functions x 2 aliases | ${st} s | 1 s | $(ratio "$st" 1)x | ≤ 1 s |"
echo "| all $count changed at the default budget (15 requests/s): \`lambda-deploy\` (ci) vs its floor ($pc Lambda calls / 15) | ${fp} s | $(python3 -c "print(round($pc / 15, 3))") s | $(ratio "$fp" "$(python3 -c "print($pc / 15)")")x | |"
echo
echo "Command: \`bash ci/bench-fleet.sh $runs\` (or \`bash ci/bench fleet\`)."
