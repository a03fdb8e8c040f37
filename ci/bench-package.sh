#!/usr/bin/env bash
# Benchmark: `lambda-deploy package` against Info-ZIP `zip -q -r -X` on a realistic Lambda tree.
#
# Builds the tree by copying Python packages (boto3, botocore, numpy, ... about 90 MB in about
# 3,200 files) from this machine's site-packages into a temporary directory, then times, in the
# same run, the median of N runs of:
#   - zip -q -r -X                                   (Info-ZIP, the baseline)
#   - lambda-deploy package DIR --no-cache           (cold: every entry compressed)
#   - lambda-deploy package DIR --cache-dir CACHE    (warm: the entry cache filled by a first run)
#   - cold with --exclude '*a*a*a*a*a*a*a*a*a*a*a*a*a*b' (the pattern that hung packaging before
#     glob matching became linear-time, issue 11)
#   - cold right after every file was touched        (racy: files changed within 2 s are read
#     twice, so a rewrite during the read cannot slip into the zip; the tree's mtimes change)
# and prints a markdown table with the medians, the ratio to Info-ZIP and the zip sizes.
#
# Usage: ci/bench-package.sh [RUNS]        (RUNS defaults to 5)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy),
#              BENCH_TREE (reuse an existing tree instead of copying one),
#              BENCH_PACKAGE_CMD (a command taking "DIR OUT [CACHE]" instead of the binary; for
#              measuring the library before the CLI exists).
set -euo pipefail

runs="${1:-5}"
bin="${LAMBDA_DEPLOY_BIN:-.build/static/release/lambda-deploy}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tree="${BENCH_TREE:-}"
if [[ -z "$tree" ]]; then
    tree="$work/function"
    bash "$(dirname "$0")/support/bench-tree.sh" "$tree"
fi
files="$(find "$tree" -type f -o -type l | wc -l)"
size="$(du -sb "$tree" | cut -f1)"

package() {  # DIR OUT [CACHE] [EXTRA ARGS...]
    if [[ -n "${BENCH_PACKAGE_CMD:-}" ]]; then
        $BENCH_PACKAGE_CMD "$1" "$2" ${3:+"$3"} >/dev/null
    elif [[ -n "${3:-}" ]]; then
        "$bin" package "$1" --output "$2" --json --cache-dir "$3" "${@:4}" >/dev/null
    else
        "$bin" package "$1" --output "$2" --json --no-cache "${@:4}" >/dev/null
    fi
}

now() { date +%s.%N; }

# median_of PREPARE CMD...: runs the command $runs times (after one warm-up for the page cache),
# running PREPARE untimed before each, and prints the median seconds.
median_of() {
    local prepare="$1" times=()
    shift
    "$prepare"
    "$@"
    for ((i = 0; i < runs; i++)); do
        local start end
        "$prepare"
        start="$(now)"
        "$@"
        end="$(now)"
        times+=("$(echo "$end - $start" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

infozip() { rm -f "$work/info.zip"; (cd "$tree" && zip -q -r -X "$work/info.zip" .); }
cold() { package "$tree" "$work/cold.zip"; }
warm() { package "$tree" "$work/warm.zip" "$work/cache"; }
hostile() { package "$tree" "$work/hostile.zip" "" --exclude '*a*a*a*a*a*a*a*a*a*a*a*a*a*b'; }
racy() { package "$tree" "$work/racy.zip"; }
nothing() { :; }
touch_tree() { find "$tree" -type f -exec touch {} +; }

if command -v hyperfine >/dev/null && [[ -z "${BENCH_NO_HYPERFINE:-}" ]]; then
    export -f package infozip cold warm hostile racy nothing touch_tree
    export tree work bin BENCH_PACKAGE_CMD
    hyperfine --warmup 1 --runs "$runs" --shell bash --export-json "$work/h.json" \
        --prepare nothing --prepare nothing --prepare nothing --prepare nothing --prepare touch_tree \
        -n infozip infozip -n cold cold -n warm warm -n hostile hostile -n racy racy >&2
    read -r t_zip t_cold t_warm t_hostile t_racy < <(python3 -c '
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(r["infozip"], r["cold"], r["warm"], r["hostile"], r["racy"])' "$work/h.json")
else
    t_zip="$(median_of nothing infozip)"
    t_cold="$(median_of nothing cold)"
    t_warm="$(median_of nothing warm)"
    t_hostile="$(median_of nothing hostile)"
    t_racy="$(median_of touch_tree racy)"
fi

zip_bytes="$(stat -c %s "$work/info.zip")"
cold_bytes="$(stat -c %s "$work/cold.zip")"
warm_bytes="$(stat -c %s "$work/warm.zip")"
hostile_bytes="$(stat -c %s "$work/hostile.zip")"
racy_bytes="$(stat -c %s "$work/racy.zip")"
for other in warm hostile racy; do
    if ! cmp -s "$work/cold.zip" "$work/$other.zip"; then
        echo "error: the $other zip differs from the cold one" >&2
        exit 1
    fi
done

ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
echo
echo "Tree: $files files, $size bytes; $(nproc) cores; median of $runs runs"
echo
echo "| | median (s) | vs Info-ZIP | zip bytes |"
echo "|---|---:|---:|---:|"
printf '| zip -q -r -X | %.3f | 1.000 | %s |\n' "$t_zip" "$zip_bytes"
printf '| lambda-deploy package (cold) | %.3f | %s | %s |\n' "$t_cold" "$(ratio "$t_cold" "$t_zip")" "$cold_bytes"
printf '| lambda-deploy package (warm cache) | %.3f | %s | %s |\n' "$t_warm" "$(ratio "$t_warm" "$t_zip")" "$warm_bytes"
printf '| lambda-deploy package (cold, hostile --exclude) | %.3f | %s | %s |\n' "$t_hostile" "$(ratio "$t_hostile" "$t_zip")" "$hostile_bytes"
printf '| lambda-deploy package (cold, every file just touched) | %.3f | %s | %s |\n' "$t_racy" "$(ratio "$t_racy" "$t_zip")" "$racy_bytes"
if (( cold_bytes > zip_bytes )); then
    echo "warning: our zip is larger than Info-ZIP's by $((cold_bytes - zip_bytes)) bytes" >&2
fi
