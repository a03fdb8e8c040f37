#!/usr/bin/env bash
# Benchmark: `lambda-deploy history` (text, what people type) and `history --json` versus
# `git log --notes=deploys --format='%H %N'` on repositories of 10,000 and 100,000 commits, each
# with one deploy record note on refs/notes/deploys.
#
# Each repository is generated with `git fast-import` (the commits and the notes commit in one
# stream; fast-import stores the similar note blobs as delta chains 50 deep, as a packed ledger
# has them). All commands run on the same repository in the same run, interleaved (one run of
# each command per round, so a change in the machine's load hits them all alike); each table
# shows the median wall time, its ratio to git log (targets: `history --json` cold <= 0.85,
# `history` cold <= 1.0, also at 100,000 records), the median CPU time (user + system of the
# command and its children, steadier than wall time on a busy machine) and each command's peak
# resident memory from one run under `/usr/bin/time -v`. History runs cold (its cache removed
# before each run: every note is read) and warm (cache present). The load average is printed:
# the numbers mean little on a busy machine.
#
# Usage: ci/bench-history.sh [--count N] [--large N] [--runs N] [--keep DIR]
#   --count N          records in the main repository (default 10000)
#   --large N          records in the large one (default 100000; 0 skips it)
#   --runs N           rounds (default BENCH_RUNS, else 15; the large repository at most 5), after
#                      two warm-up rounds
#   LAMBDA_DEPLOY_BIN  the binary to time (default: what ci/support/build-release.sh builds)
#   BENCH_REPO         keep the generated repositories under this directory (reused when present)
#   BASELINE_BIN       another lambda-deploy build to time in the same run (e.g. before a change)
set -euo pipefail
cd "$(dirname "$0")/.."

count=10000
large=100000
runs="${BENCH_RUNS:-15}"
keep="${BENCH_REPO:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --large) large="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    *) echo "usage: $0 [--count N] [--large N] [--runs N] [--keep DIR]" >&2; exit 2 ;;
  esac
done

if [ -n "${LAMBDA_DEPLOY_BIN:-}" ]; then
  bin="$LAMBDA_DEPLOY_BIN"
else
  bin="$(bash ci/support/build-release.sh)"
fi
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ ! -x "$bin" ]; then
  echo "no lambda-deploy binary at $bin: run 'bash ci/support/build-release.sh' or set LAMBDA_DEPLOY_BIN" >&2
  exit 2
fi

if [ -n "$keep" ]; then
  base="$keep"
  mkdir -p "$base"
else
  base="$(mktemp -d)"
  trap 'rm -rf "$base"' EXIT
fi

# No user or system config may change what git log does (or how fast).
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

generate() {  # repo count
  local repo="$1" n="$2"
  mkdir -p "$repo"
  git -C "$repo" init -q -b main
  # One stream: N commits (marks :1..:N) on main, then one notes commit annotating each of them.
  awk -v n="$n" 'BEGIN {
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

peak() {  # peak resident memory in MB of one run of "$2" after "$1"
  bash -c "$1"
  /usr/bin/time -v bash -c "exec $2 >/dev/null" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }'
}

measure() {  # count runs memory(0|1)
  local n="$1" runs="$2" memory="$3"
  local repo="$base/history-$n"
  if [ ! -d "$repo/.git" ]; then
    echo "generating $n commits with one record note each in $repo ..." >&2
    generate "$repo" "$n"
  fi
  local notes cache_dir
  notes=$(git -C "$repo" notes --ref=deploys list | wc -l)
  cache_dir="$(git -C "$repo" rev-parse --git-common-dir)"
  case "$cache_dir" in /*) ;; *) cache_dir="$repo/$cache_dir" ;; esac
  cache_dir="$cache_dir/lambda-deploy"

  # history keeps its unfiltered answers (text and JSON) in $cache_dir, keyed by the notes
  # commit. "cold" removes them before every run (every note is read and parsed); "warm" is a
  # user running history again with no new record (one file read). git log has no such cache.
  local json_cmd="'$bin' history --json" text_cmd="'$bin' history"
  local gitlog_cmd="git log --notes=deploys --format='%H %N'"
  local cold="rm -rf '$cache_dir'"
  local warm_json="'$bin' history --json >/dev/null" warm_text="'$bin' history >/dev/null"
  pushd "$repo" >/dev/null

  # Cold and warm outputs must be the same bytes (the cache must never change the answer), and
  # text must hold one line per record.
  for flag in --json ""; do
    rm -rf "$cache_dir"
    if ! cmp -s <("$bin" history $flag) <("$bin" history $flag); then
      echo "cold and warm 'history $flag' differ" >&2
      exit 1
    fi
  done
  local lines
  lines=$("$bin" history | wc -l)
  if [ "$lines" -ne "$notes" ]; then
    echo "'history' printed $lines lines for $notes records" >&2
    exit 1
  fi

  local load load_after results
  load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  # name|prepare|command, one per line; git log is the reference.
  local plan="text-cold|$cold|$text_cmd
text-warm|$warm_text|$text_cmd
json-cold|$cold|$json_cmd
json-warm|$warm_json|$json_cmd"
  if [ -n "${BASELINE_BIN:-}" ]; then
    plan="$plan
baseline-text|$cold|'$BASELINE_BIN' history
baseline-json|$cold|'$BASELINE_BIN' history --json"
  fi
  plan="$plan
gitlog|true|$gitlog_cmd"
  results="$(printf '%s\n' "$plan" | python3 -c '
import resource, statistics, subprocess, sys, time
runs = int(sys.argv[1])
plan = [line.rstrip("\n").split("|", 2) for line in sys.stdin if line.strip()]
times = {name: ([], []) for name, _, _ in plan}
for round in range(runs + 2):
    for name, prepare, command in plan:
        subprocess.run(prepare, shell=True, check=True, stdout=subprocess.DEVNULL)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if round >= 2:  # two warm-up rounds
            times[name][0].append(wall * 1000)
            times[name][1].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
ref_wall, ref_cpu = (statistics.median(x) for x in times["gitlog"])
for name, (wall, cpu) in times.items():
    w, c = statistics.median(wall), statistics.median(cpu)
    print(name, "%.1f" % w, "%.2f" % (w / ref_wall), "%.1f" % c, "%.2f" % (c / ref_cpu))' "$runs")"
  load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  # name -> "median-ms|ratio|cpu-ms|cpu-ratio"
  declare -A row
  while read -r name wall ratio cpu cpu_ratio; do
    row[$name]="$wall|$ratio|$cpu|$cpu_ratio"
  done <<< "$results"

  local mem_head="" mem_rule=""
  declare -A mem
  if [ "$memory" = 1 ]; then
    mem[text-cold]=$(peak "$cold" "$text_cmd"); mem[text-warm]=$(peak "$warm_text" "$text_cmd")
    mem[json-cold]=$(peak "$cold" "$json_cmd"); mem[json-warm]=$(peak "$warm_json" "$json_cmd")
    mem[gitlog]=$(peak true "$gitlog_cmd")
    mem_head=" peak RSS MB |"; mem_rule="---:|"
  fi
  popd >/dev/null

  line() {  # name label target
    local wall ratio cpu cpu_ratio
    IFS='|' read -r wall ratio cpu cpu_ratio <<< "${row[$1]}"
    local extra=""
    if [ "$memory" = 1 ]; then extra=" ${mem[$1]:--} |"; fi
    echo "| $2 | $wall | $ratio | $cpu | $cpu_ratio | $3 |$extra"
  }
  echo
  echo "$notes records; medians of $runs interleaved rounds after 2 warm-up rounds; load average $load before, $load_after after; $(nproc) cores."
  echo
  echo "| command | median ms | ratio to git log | CPU ms | CPU ratio | target |$mem_head"
  echo "|---|---:|---:|---:|---:|---|$mem_rule"
  line text-cold "\`lambda-deploy history\`, cold (no cache: reads every note)" "<= 1.0"
  line text-warm "\`lambda-deploy history\`, warm (cache for this notes commit)" ""
  line json-cold "\`lambda-deploy history --json\`, cold" "<= 0.85"
  line json-warm "\`lambda-deploy history --json\`, warm" ""
  line gitlog "\`git log --notes=deploys --format='%H %N'\`" ""
  if [ -n "${BASELINE_BIN:-}" ]; then
    line baseline-text "baseline \`history\`, cold ($BASELINE_BIN)" ""
    line baseline-json "baseline \`history --json\`, cold" ""
  fi
}

measure "$count" "$runs" 1
if [ "$large" -gt 0 ]; then
  measure "$large" "$(( runs < 5 ? runs : 5 ))" 1
fi
