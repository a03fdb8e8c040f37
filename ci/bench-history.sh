#!/usr/bin/env bash
# Benchmark: `lambda-deploy history --json` versus `git log --notes=deploys --format='%H %N'`
# on one repository holding 10,000 commits, each with one deploy record note on refs/notes/deploys.
#
# The repository is generated with `git fast-import` (the commits and the notes commit in one
# stream). Both commands run on the same repository in the same run; the table shows medians and
# their ratio (target: ratio <= 1.0, i.e. history no slower than git log).
#
# Usage: ci/bench-history.sh [--count N] [--runs N] [--keep DIR]
#   LAMBDA_DEPLOY_BIN  the binary to time (default .build/release/lambda-deploy)
#   BENCH_REPO         reuse/create the generated repository here instead of a temp dir
set -euo pipefail
cd "$(dirname "$0")/.."

count=10000
runs=15
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    *) echo "usage: $0 [--count N] [--runs N] [--keep DIR]" >&2; exit 2 ;;
  esac
done

bin="${LAMBDA_DEPLOY_BIN:-$PWD/.build/release/lambda-deploy}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac

if [ -n "${BENCH_REPO:-}" ]; then
  repo="$BENCH_REPO"
elif [ -n "$keep" ]; then
  repo="$keep"
else
  repo="$(mktemp -d)/bench-repo"
  trap 'rm -rf "$(dirname "$repo")"' EXIT
fi

# No user or system config may change what git log does (or how fast).
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

generate() {
  mkdir -p "$repo"
  git -C "$repo" init -q -b main
  # One stream: N commits (marks :1..:N) on main, then one notes commit annotating each of them.
  awk -v n="$count" 'BEGIN {
    t0 = 1700000000
    for (i = 1; i <= n; i++) {
      msg = "deploy " i
      content = "v" i "\n"
      printf "commit refs/heads/main\nmark :%d\n", i
      printf "author Bench <bench@example.com> %d +0000\n", t0 + i * 60
      printf "committer Bench <bench@example.com> %d +0000\n", t0 + i * 60
      printf "data %d\n%s\n", length(msg), msg
      printf "M 644 inline handler.py\ndata %d\n%s\n", length(content), content
    }
    printf "commit refs/notes/deploys\n"
    printf "committer lambda-deploy <lambda-deploy@localhost> %d +0000\n", t0 + n * 60 + 60
    printf "data 18\nNotes: bench data\n"
    for (i = 1; i <= n; i++) {
      s = t0 + i * 60
      # UTC ISO-8601 from epoch seconds (no gawk strftime needed).
      days = int(s / 86400); rem = s % 86400
      z = days + 719468; era = int(z / 146097); doe = z - era * 146097
      yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
      y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
      d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9; if (m <= 2) y++
      time = sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, int(rem / 3600), int(rem % 3600 / 60), rem % 60)
      alias = (i % 3 == 0) ? "prod" : "dev"
      rec = sprintf("{\"actor\":\"octocat\",\"alias\":\"%s\",\"branch\":\"main\",\"build\":\"%d\",\"buildUrl\":\"https://ci.example.com/build/%d\",\"ci\":\"github-actions\",\"codeSha256\":\"q1Bv0b5XGcYkT2m3nO4pQ5rS6tU7vW8xY9zA0bC1dE=\",\"function\":\"orders\",\"region\":\"eu-west-1\",\"result\":\"deployed\",\"schema\":1,\"time\":\"%s\",\"tool\":\"lambda-deploy 0.1.0\",\"trigger\":\"ci\",\"version\":\"%d\"}", alias, i, i, time, i)
      printf "N inline :%d\ndata %d\n%s\n\n", i, length(rec) + 1, rec
    }
  }' | git -C "$repo" fast-import --quiet
  git -C "$repo" reset -q --hard main
}

if [ ! -d "$repo/.git" ]; then
  echo "generating $count commits with one record note each in $repo ..." >&2
  generate
fi
notes=$(git -C "$repo" notes --ref=deploys list | wc -l)
echo "repository: $repo ($notes notes on refs/notes/deploys)" >&2

if [ ! -x "$bin" ]; then
  echo "no lambda-deploy binary at $bin: run 'swift build -c release' or set LAMBDA_DEPLOY_BIN" >&2
  exit 2
fi

history_cmd="cd '$repo' && '$bin' history --json >/dev/null"
gitlog_cmd="git -C '$repo' log --notes=deploys --format='%H %N' >/dev/null"

median_of() {  # median wall time in ms of `runs` runs of "$1"
  local cmd="$1" times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    bash -c "$cmd"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'
}

if command -v hyperfine >/dev/null 2>&1; then
  json="$(mktemp)"
  hyperfine --warmup 2 --runs "$runs" --style none --export-json "$json" \
    -n history "$history_cmd" -n gitlog "$gitlog_cmd" >/dev/null
  read -r history_ms gitlog_ms < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print("%.1f %.1f" % (r["history"], r["gitlog"]))' "$json")
  rm -f "$json"
  tool="hyperfine, $runs runs, 2 warm-up"
else
  bash -c "$history_cmd"; bash -c "$gitlog_cmd"  # warm the page cache
  history_ms=$(median_of "$history_cmd")
  gitlog_ms=$(median_of "$gitlog_cmd")
  tool="date +%s%N, $runs runs"
fi
ratio=$(awk -v a="$history_ms" -v b="$gitlog_ms" 'BEGIN { printf "%.2f", a / b }')

echo
echo "| command ($notes records, median of $tool) | median ms |"
echo "|---|---:|"
echo "| \`lambda-deploy history --json\` | $history_ms |"
echo "| \`git log --notes=deploys --format='%H %N'\` | $gitlog_ms |"
echo "| ratio (target <= 1.0) | $ratio |"
