#!/usr/bin/env bash
# Benchmark: `lambda-deploy history` (text, what people type) and `history --json` versus
# `git log --notes=deploys --format='%H %N'` on one repository holding N commits (10,000 by
# default), each with one deploy record note on refs/notes/deploys.
#
# The repository is generated with `git fast-import` (the commits and the notes commit in one
# stream). All commands run on the same repository in the same run; the table shows medians and
# their ratio to git log (targets: `history --json` cold <= 0.85, `history` cold <= 1.0), for
# history both cold (its cache removed before each run: every note is read) and warm (cache
# present), with the load average, since the numbers mean little on a busy machine. With
# --memory, each command's peak resident memory is measured once with `/usr/bin/time -v`.
#
# Usage: ci/bench-history.sh [--count N] [--runs N] [--keep DIR] [--memory]
#   LAMBDA_DEPLOY_BIN  the binary to time (default: what ci/support/build-release.sh builds)
#   BENCH_REPO         reuse/create the generated repository here instead of a temp dir
#   BASELINE_BIN       another lambda-deploy build to time in the same run (e.g. before a change)
set -euo pipefail
cd "$(dirname "$0")/.."

count=10000
runs=15
keep=""
memory=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --memory) memory=1; shift ;;
    *) echo "usage: $0 [--count N] [--runs N] [--keep DIR] [--memory]" >&2; exit 2 ;;
  esac
done

if [ -n "${LAMBDA_DEPLOY_BIN:-}" ]; then
  bin="$LAMBDA_DEPLOY_BIN"
else
  bin="$(bash ci/support/build-release.sh)"
fi
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

# history keeps its unfiltered answers (text and JSON) in $cache_dir, keyed by the notes commit.
# "cold" removes them before every run (every note is read and parsed); "warm" is a user running
# history again with no new record (one file read). git log has no such cache.
json_cmd="'$bin' history --json"
text_cmd="'$bin' history"
gitlog_cmd="git log --notes=deploys --format='%H %N'"
cold_prepare="rm -rf '$cache_dir'"
warm_json_prepare="'$bin' history --json >/dev/null"
warm_text_prepare="'$bin' history >/dev/null"
cd "$repo"

# Cold and warm outputs must be the same bytes (the cache must never change the answer), and
# text must hold one line per record.
for flag in --json ""; do
  rm -rf "$cache_dir"
  if ! cmp -s <("$bin" history $flag) <("$bin" history $flag); then
    echo "cold and warm 'history $flag' differ" >&2
    exit 1
  fi
done
lines=$("$bin" history | wc -l)
if [ "$lines" -ne "$notes" ]; then
  echo "'history' printed $lines lines for $notes records" >&2
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
baseline_json_ms="-"; baseline_text_ms="-"
if command -v hyperfine >/dev/null 2>&1; then
  json="$(mktemp)"
  # -N: no intermediate shell, so the times are the commands' own.
  baseline=()
  if [ -n "${BASELINE_BIN:-}" ]; then
    baseline=(--prepare "bash -c \"$cold_prepare\"" -n baseline-json "'$BASELINE_BIN' history --json"
              --prepare "bash -c \"$cold_prepare\"" -n baseline-text "'$BASELINE_BIN' history")
  fi
  hyperfine -N --warmup 2 --runs "$runs" --style none --export-json "$json" \
    --prepare "bash -c \"$cold_prepare\"" -n json-cold "$json_cmd" \
    --prepare "bash -c \"$warm_json_prepare\"" -n json-warm "$json_cmd" \
    --prepare "bash -c \"$cold_prepare\"" -n text-cold "$text_cmd" \
    --prepare "bash -c \"$warm_text_prepare\"" -n text-warm "$text_cmd" \
    --prepare true -n gitlog "$gitlog_cmd" "${baseline[@]}" >/dev/null
  read -r json_cold_ms json_warm_ms text_cold_ms text_warm_ms gitlog_ms baseline_json_ms baseline_text_ms < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
f = lambda k: "%.1f" % r[k] if k in r else "-"
print(" ".join(f(k) for k in ["json-cold", "json-warm", "text-cold", "text-warm", "gitlog", "baseline-json", "baseline-text"]))' "$json")
  rm -f "$json"
  tool="hyperfine -N, $runs runs, 2 warm-up"
else
  bash -c "$json_cmd" >/dev/null; bash -c "$gitlog_cmd" >/dev/null  # warm the page cache
  json_cold_ms=$(median_of "$cold_prepare" "$json_cmd")
  json_warm_ms=$(median_of "$warm_json_prepare" "$json_cmd")
  text_cold_ms=$(median_of "$cold_prepare" "$text_cmd")
  text_warm_ms=$(median_of "$warm_text_prepare" "$text_cmd")
  gitlog_ms=$(median_of true "$gitlog_cmd")
  tool="date +%s%N, $runs runs"
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
ratio() { awk -v a="$1" -v b="$gitlog_ms" 'BEGIN { if (a == "-") print "-"; else printf "%.2f", a / b }'; }

peak() {  # peak resident memory in MB of one run of "$2" after "$1"
  bash -c "$1"
  /usr/bin/time -v bash -c "exec $2 >/dev/null" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }'
}
mem() { if [ "$memory" = 1 ]; then echo " $1 |"; else echo ""; fi; }
if [ "$memory" = 1 ]; then
  json_cold_mb=$(peak "$cold_prepare" "$json_cmd"); json_warm_mb=$(peak "$warm_json_prepare" "$json_cmd")
  text_cold_mb=$(peak "$cold_prepare" "$text_cmd"); text_warm_mb=$(peak "$warm_text_prepare" "$text_cmd")
  gitlog_mb=$(peak true "$gitlog_cmd")
  mem_head=" peak RSS MB (/usr/bin/time -v) |"; mem_rule="---:|"
else
  mem_head=""; mem_rule=""
fi

echo
echo "| command ($notes records, median of $tool; load average $load before, $load_after after; $(nproc) cores) | median ms | ratio to git log | target |$mem_head"
echo "|---|---:|---:|---|$mem_rule"
echo "| \`lambda-deploy history\`, cold (no cache: reads every note) | $text_cold_ms | $(ratio "$text_cold_ms") | <= 1.0 |$(mem "${text_cold_mb:-}")"
echo "| \`lambda-deploy history\`, warm (cache for this notes commit) | $text_warm_ms | $(ratio "$text_warm_ms") | |$(mem "${text_warm_mb:-}")"
echo "| \`lambda-deploy history --json\`, cold | $json_cold_ms | $(ratio "$json_cold_ms") | <= 0.85 |$(mem "${json_cold_mb:-}")"
echo "| \`lambda-deploy history --json\`, warm | $json_warm_ms | $(ratio "$json_warm_ms") | |$(mem "${json_warm_mb:-}")"
echo "| \`git log --notes=deploys --format='%H %N'\` | $gitlog_ms | 1.00 | |$(mem "${gitlog_mb:-}")"
if [ "$baseline_json_ms" != "-" ]; then
  echo "| baseline \`history --json\`, cold | $baseline_json_ms | $(ratio "$baseline_json_ms") | |$(mem "")"
  echo "| baseline \`history\`, cold | $baseline_text_ms | $(ratio "$baseline_text_ms") | |$(mem "")"
fi
