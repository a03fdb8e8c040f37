#!/usr/bin/env bash
# Benchmark: latency of the pre-push hook when nothing maps (the cost every `git push` pays).
#
# In a temporary repository whose lambda-deploy.yml says `hook: {branches: ["main"]}`, times
#   - lambda-deploy hook pre-push origin URL   with a `refs/heads/feature/x ...` line on stdin
#   - git rev-parse HEAD                       (a reference point: about the cheapest git command)
# Target: the hook under 100 ms. Prints a markdown table of medians.
#
# Usage: ci/bench-hook.sh [RUNS]   (RUNS defaults to BENCH_RUNS, else 5; the hook is fast, so at
# least 30 runs are taken)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy).
set -euo pipefail

runs="${1:-${BENCH_RUNS:-5}}"
(( runs < 30 )) && runs=30
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${LAMBDA_DEPLOY_BIN:-$root/.build/static/release/lambda-deploy}")"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-hook.XXXXXX")"
trap 'rm -rf "$work"' EXIT

repo="$work/repo"
mkdir -p "$repo/src"
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
mkdir -p "$HOME"
echo 'def handler(event, context): return 1' > "$repo/src/app.py"
printf 'function: bench\ndirectory: src\nregion: us-east-1\nhook:\n  branches: ["main"]\n' > "$repo/lambda-deploy.yml"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" commit -q -m first
head="$(git -C "$repo" rev-parse HEAD)"
printf 'refs/heads/feature/x %s refs/heads/feature/x %040d\n' "$head" 0 > "$work/stdin"

# The hook must really be a no-op here: exit 0 and nothing deployed.
(cd "$repo" && "$bin" hook pre-push origin git@example.com:r.git < "$work/stdin" > /dev/null 2>&1) \
    || { echo "error: the hook failed on a non-matching branch" >&2; exit 1; }

# Each run is timed inside this shell with EPOCHREALTIME around the command itself (fork, exec,
# stdin redirect included; no shell start-up to subtract), the same way for the hook and for git.
# hyperfine 1.15 cannot feed a file to stdin without a shell, whose start-up (a few ms) it then
# estimates and subtracts, which is noisier than the thing measured here.
median_ms() {  # median_ms COMMAND...: runs it $runs times after 3 warm-ups, prints the median in ms
    local times=() i start end
    for ((i = 0; i < 3; i++)); do "$@" < "$work/stdin" > /dev/null 2>&1; done
    for ((i = 0; i < runs; i++)); do
        start=$EPOCHREALTIME
        "$@" < "$work/stdin" > /dev/null 2>&1
        end=$EPOCHREALTIME
        times+=("$(echo "($end - $start) * 1000" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
cd "$repo"
t_hook="$(median_ms "$bin" hook pre-push origin git@example.com:r.git)"
t_git="$(median_ms git rev-parse HEAD)"

ms() { printf '%.1f' "$1"; }
met="$(if (( $(echo "$t_hook < 100" | bc -l) )); then echo met; else echo missed; fi)"
echo
echo "A push of refs/heads/feature/x with hook.branches [\"main\"]; median of $runs runs, each timed around the process alone (EPOCHREALTIME)"
echo
echo "| | median (ms) | vs git rev-parse | target |"
echo "|---|---:|---:|---|"
printf '| git rev-parse HEAD (reference) | %s | 1.0 | |\n' "$(ms "$t_git")"
printf '| lambda-deploy hook pre-push (branch not mapped) | %s | %s | < 100 ms: %s |\n' "$(ms "$t_hook")" "$(echo "scale=1; $t_hook / $t_git" | bc -l | sed 's/^\./0./')" "$met"
