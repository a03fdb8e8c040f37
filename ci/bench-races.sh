#!/usr/bin/env bash
# Benchmark (issue 15): four deploys of one function and alias racing each other, against the
# strict Lambda emulation with a 2 s update window, versus the same four deploys one after another.
#
# Four clones of one repository, each with a commit of its own (siblings: none is newer than
# another, so every one of them must deploy, last writer wins). Per run, every clone commits a
# change; then `lambda-deploy deploy --alias dev` runs in the four clones one after another (the
# reference), and after another round of changes in the four at once. The emulator
# (ci/support/lambda_emulator.py --update-seconds 2) counts UpdateFunctionCode requests (any
# answer: a body sent into a 409 counts) and 409s. Targets: racing wall time <= 1.5x sequential,
# at most 5 uploads, every job exits 0.
#
# Usage: ci/bench-races.sh [RUNS]   (RUNS defaults to BENCH_RUNS, else 5)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy);
#   BENCH_BASELINE_BIN: another build (e.g. main before this change) measured the same way, as a
#   second row; BENCH_UPDATE_SECONDS (default 2); BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

runs="${1:-${BENCH_RUNS:-5}}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${LAMBDA_DEPLOY_BIN:-$root/.build/static/release/lambda-deploy}")"
baseline="${BENCH_BASELINE_BIN:+$(realpath "$BENCH_BASELINE_BIN")}"
window="${BENCH_UPDATE_SECONDS:-2}"
jobs=4
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-races.XXXXXX")"
emulator_pid=""
cleanup() {
    if [[ -n "$emulator_pid" ]]; then kill "$emulator_pid" 2>/dev/null || true; fi
    if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

python3 "$root/ci/support/lambda_emulator.py" --update-seconds "$window" > "$work/emulator.out" 2>/dev/null &
emulator_pid=$!
for _ in $(seq 150); do grep -q ready "$work/emulator.out" 2>/dev/null && break; sleep 0.2; done
read -r word proxy_port moto_port < "$work/emulator.out" || true
[[ "${word:-}" == ready ]] || { echo "error: the Lambda emulator did not start (pip install 'moto[server]')" >&2; exit 1; }
proxy="http://127.0.0.1:$proxy_port"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="$proxy" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export LAMBDA_DEPLOY_CACHE_DIR="$work/cache" HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.com
python3 "$root/ci/support/moto_local.py" create-function "http://127.0.0.1:$moto_port" racer >/dev/null

git init -q --bare -b main "$work/remote.git"
git clone -q "$work/remote.git" "$work/seed" 2>/dev/null
(
    cd "$work/seed"
    mkdir src
    printf 'def handler(event, context):\n    return {"statusCode": 200}\n' > src/app.py
    printf 'function: racer\ndirectory: src\nregion: us-east-1\nnotes: {push: false}\n' > lambda-deploy.yml
    git add -A && git commit -qm first && git push -q origin main
)
for j in $(seq 1 "$jobs"); do git clone -q "$work/remote.git" "$work/c$j"; done

# Every clone gets a commit of its own (different code in each).
change_all() { for j in $(seq 1 "$jobs"); do (cd "$work/c$j" && echo "# job $j $RANDOM $(date +%s%N)" >> src/app.py && git commit -qam "job $j"); done; }
stats() { curl -s "$proxy/__emulator/stats" | python3 -c "import json, sys; s = json.load(sys.stdin); print(s['uploads'], s['conflicts'])"; }
reset_stats() { curl -s -X DELETE "$proxy/__emulator/stats" > /dev/null; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 3))"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
m() { printf '%s\n' "$@" | median; }

# One row: RUNS x (four sequential, then four racing); prints "seq race uploads conflicts failed".
measure() {
    local tool="$1" seqs=() races=() uploads=() conflicts=() failed=0 start end j
    "$tool" --version >/dev/null 2>&1 || true
    (cd "$work/c1" && "$tool" deploy --alias dev >/dev/null 2>&1) || true   # the alias exists before the first run
    for _ in $(seq 1 "$runs"); do
        change_all
        start=$(now)
        for j in $(seq 1 "$jobs"); do (cd "$work/c$j" && "$tool" deploy --alias dev >/dev/null 2>&1) || failed=$((failed + 1)); done
        end=$(now)
        seqs+=("$(elapsed "$start" "$end")")
        change_all
        reset_stats
        local pids=()
        start=$(now)
        for j in $(seq 1 "$jobs"); do
            (cd "$work/c$j" && exec "$tool" deploy --alias dev > "$work/race-$j.out" 2> "$work/race-$j.err") &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
        end=$(now)
        races+=("$(elapsed "$start" "$end")")
        read -r up co < <(stats)
        uploads+=("$up")
        conflicts+=("$co")
    done
    echo "$(m "${seqs[@]}") $(m "${races[@]}") $(m "${uploads[@]}") $(printf '%s\n' "${uploads[@]}" | sort -n | tail -1) $(m "${conflicts[@]}") $failed"
}

ratio() { python3 -c "print(round($1 / $2, 2))"; }
row() {
    local label="$1" seq race up upmax co failed
    read -r seq race up upmax co failed <<< "$2"
    echo "| $label | ${seq} s | ${race} s | $(ratio "$race" "$seq")x | $up (max $upmax) | $co | $failed of $((runs * jobs * 2)) |"
}

after="$(measure "$bin")"
before=""
if [[ -n "$baseline" ]]; then before="$(measure "$baseline")"; fi

echo "Four deploys of one function to \`dev\`, distinct sibling commits (none newer than another: all four must deploy), against the Lambda emulation with a ${window} s update window; $runs runs, medians."
echo
echo "| build | 4 one after another | 4 racing | ratio | uploads (racing) | 409s (racing) | jobs that failed | "
echo "| --- | --- | --- | --- | --- | --- | --- |"
if [[ -n "$before" ]]; then row "before (\`$(basename "$(dirname "$baseline")")\`: upload, publish, retry)" "$before"; fi
row "after (turns on \$LATEST)" "$after"
echo
echo "Targets: racing ≤ 1.5x one after another; at most 5 uploads; every job exits 0. Uploads count every UpdateFunctionCode request, whatever its answer."
