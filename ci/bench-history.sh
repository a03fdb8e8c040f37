#!/usr/bin/env bash
# Benchmark: `lambda-deploy history --json` versus `git log --notes=deploys --format='%H %N'`
# on one repository holding 10,000 commits, each with one deploy record note on refs/notes/deploys.
#
# The repository is generated with `git fast-import` (the commits and the notes commit in one
# stream). Both commands run on the same repository in the same run; the table shows medians and
# their ratio (target: ratio <= 1.0, i.e. history no slower than git log), for history both cold
# (its cache removed before each run) and warm (cache present), with the load average, since the
# numbers mean little on a busy machine.
#
# Usage: ci/bench-history.sh [--count N] [--runs N] [--keep DIR]
#   LAMBDA_DEPLOY_BIN  the binary to time (default .build/static/release/lambda-deploy)
#   BENCH_REPO         reuse/create the generated repository here instead of a temp dir
#   BASELINE_BIN       another lambda-deploy build to time in the same run (e.g. before a change)
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

bin="${LAMBDA_DEPLOY_BIN:-$PWD/.build/static/release/lambda-deploy}"
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
  echo "no lambda-deploy binary at $bin: run 'bash ci/support/build-release.sh' or set LAMBDA_DEPLOY_BIN" >&2
  exit 2
fi

cache_dir="$(git -C "$repo" rev-parse --git-common-dir)"
case "$cache_dir" in /*) ;; *) cache_dir="$repo/$cache_dir" ;; esac
cache_dir="$cache_dir/lambda-deploy"

# history keeps its unfiltered answer in $cache_dir, keyed by the notes commit. "cold" removes it
# before every run (every note is read and parsed); "warm" is a user running history again with
# no new record (one file read). git log has no such cache; it runs the same way each time.
history_cmd="'$bin' history --json"
gitlog_cmd="git log --notes=deploys --format='%H %N'"
cold_prepare="rm -rf '$cache_dir'"
warm_prepare="'$bin' history --json >/dev/null"
cd "$repo"

# Both history outputs must be the same bytes (the cache must never change the answer).
rm -rf "$cache_dir"
if ! cmp -s <("$bin" history --json) <("$bin" history --json); then
  echo "cold and warm 'history --json' differ" >&2
  exit 1
fi

median_of() {  # median wall time in ms of `runs` runs of "$2", running "$1" before each
  local prepare="$1" cmd="$2" times=()
  for _ in $(seq "$runs"); do
    local start end
    bash -c "$prepare"
    start=$(date +%s%N)
    bash -c "$cmd >/dev/null"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'
}

load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
if command -v hyperfine >/dev/null 2>&1; then
  json="$(mktemp)"
  # -N: no intermediate shell, so the times are the commands' own.
  baseline=()
  if [ -n "${BASELINE_BIN:-}" ]; then
    baseline=(--prepare "bash -c \"$cold_prepare\"" -n baseline "'$BASELINE_BIN' history --json")
  fi
  hyperfine -N --warmup 2 --runs "$runs" --style none --export-json "$json" \
    --prepare "bash -c \"$cold_prepare\"" -n cold "$history_cmd" \
    --prepare "bash -c \"$warm_prepare\"" -n warm "$history_cmd" \
    --prepare true -n gitlog "$gitlog_cmd" "${baseline[@]}" >/dev/null
  read -r cold_ms warm_ms gitlog_ms baseline_ms < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print("%.1f %.1f %.1f %s" % (r["cold"], r["warm"], r["gitlog"], "%.1f" % r["baseline"] if "baseline" in r else "-"))' "$json")
  rm -f "$json"
  tool="hyperfine -N, $runs runs, 2 warm-up"
else
  bash -c "$history_cmd" >/dev/null; bash -c "$gitlog_cmd" >/dev/null  # warm the page cache
  cold_ms=$(median_of "$cold_prepare" "$history_cmd")
  warm_ms=$(median_of "$warm_prepare" "$history_cmd")
  gitlog_ms=$(median_of true "$gitlog_cmd")
  tool="date +%s%N, $runs runs"
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cold_ratio=$(awk -v a="$cold_ms" -v b="$gitlog_ms" 'BEGIN { printf "%.2f", a / b }')
warm_ratio=$(awk -v a="$warm_ms" -v b="$gitlog_ms" 'BEGIN { printf "%.2f", a / b }')

echo
echo "| command ($notes records, median of $tool; load average $load before, $load_after after; $(nproc) cores) | median ms | ratio to git log (target <= 1.0) |"
echo "|---|---:|---:|"
echo "| \`lambda-deploy history --json\`, cold (no cache: reads every note) | $cold_ms | $cold_ratio |"
echo "| \`lambda-deploy history --json\`, warm (cache for this notes commit) | $warm_ms | $warm_ratio |"
echo "| \`git log --notes=deploys --format='%H %N'\` | $gitlog_ms | 1.00 |"
if [ -n "${baseline_ms:-}" ] && [ "$baseline_ms" != "-" ]; then
  echo "| baseline \`$BASELINE_BIN history --json\` | $baseline_ms | $(awk -v a="$baseline_ms" -v b="$gitlog_ms" 'BEGIN { printf "%.2f", a / b }') |"
fi
