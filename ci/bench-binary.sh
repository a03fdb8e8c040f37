#!/usr/bin/env bash
# Benchmark: the release binary itself: its size and where the bytes go, what it loads, and how
# fast `--version` starts next to `git --version`.
#
# For LAMBDA_DEPLOY_BIN (ci/support/build-release.sh's output; its linker map is
# .build/static/lambda-deploy.map), prints a markdown section with:
#   - sizes: as built, stripped (`strip --strip-all`, what ci/release.sh ships), gzip'ed; target
#     <= 25 MB stripped; and per library from the linker map (python3 ci/support/binary-size.py)
#   - `readelf -d` NEEDED entries (target: glibc, libstdc++/libgcc_s, zlib; libcurl at most) and
#     the newest GLIBC_ symbol version in `objdump -T` (target: GLIBC_2.34)
#   - what `--version` loads (LD_TRACE_LOADED_OBJECTS=1), and what the first request adds
#   - start-up: `hyperfine -N --warmup 20 --runs 300` on the stripped `lambda-deploy --version`
#     and `git --version` in the same run; target <= 5 ms (mean)
#
# Usage: ci/bench-binary.sh
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/x86_64-unknown-linux-gnu/release/lambda-deploy),
#              LAMBDA_DEPLOY_MAP (default .build/static/lambda-deploy.map).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${LAMBDA_DEPLOY_BIN:-$root/.build/static/x86_64-unknown-linux-gnu/release/lambda-deploy}")"
map="${LAMBDA_DEPLOY_MAP:-$root/.build/static/lambda-deploy.map}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-binary.XXXXXX")"
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "error: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }

stripped=$work/lambda-deploy
strip --strip-all -o "$stripped" "$bin"
mb() { awk -v bytes="$1" 'BEGIN { printf "%.1f MB", bytes / 1000000 }'; }
size_built=$(stat -c %s "$bin")
size_stripped=$(stat -c %s "$stripped")
size_gzip=$(gzip -n -c "$stripped" | wc -c)
met() { if [ "$1" = 1 ]; then echo met; else echo "**not met**"; fi; }

echo
echo "### Size"
echo
echo "| | bytes | | target |"
echo "|---|---:|---:|---|"
echo "| as built (symbols, no debug info) | $size_built | $(mb "$size_built") | |"
echo "| stripped (\`strip --strip-all\`: what the release ships) | $size_stripped | $(mb "$size_stripped") | <= 25 MB: $(met "$((size_stripped <= 25000000))") |"
echo "| stripped, gzip'ed (about the tarball) | $size_gzip | $(mb "$size_gzip") | |"
if [ -f "$map" ]; then
  echo
  echo "Where the bytes go (allocated sections by input library, from the linker map; \`python3 ci/support/binary-size.py ${map#"$root"/} --top 14\`):"
  echo
  python3 "$root/ci/support/binary-size.py" "$map" --top 14 | tee "$work/size.md"
  if [ "$size_stripped" -gt 25000000 ]; then
    foundation=$(awk -F'|' '/^$/ { exit } $2 ~ /lib_FoundationICU\.a|libFoundation\.a|libCoreFoundation\.a|libFoundationInternationalization\.a|libFoundationNetworking\.a/ { gsub(/[ ,]/, "", $3); sum += $3 } END { print sum + 0 }' "$work/size.md")
    echo
    echo "Why 25 MB is not met: $(mb "$foundation") of it is swift-corelibs-foundation's \`Foundation\` with CoreFoundation, FoundationInternationalization and ICU's data (34 MB of Unicode and locale tables in one object, \`icu_packaged_data.cpp.o\`). Any reference into \`libFoundation.a\` pulls all of it in: CoreFoundation initialises ICU. Without them the binary would be about $(mb "$((size_stripped - foundation))"). Getting there takes every module on \`FoundationEssentials\` (no ICU) *and* a YAML reader that does not import Foundation (Yams uses \`NSRegularExpression\`, \`DateFormatter\` and \`NumberFormatter\`); moving the modules alone saves nothing while Yams pulls Foundation in."
  fi
fi

echo
echo "### What it loads"
echo
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')
glibc=$(objdump -T "$bin" | grep -o 'GLIBC_2\.[0-9][0-9.]*' | sort -V -u | tail -1)
glibcxx=$(objdump -T "$bin" | grep -o 'GLIBCXX_3\.4\.[0-9]*' | sort -V -u | tail -1)
ok_needed=1
for lib in $needed; do
  case $lib in libc.so.6 | libm.so.6 | ld-linux-x86-64.so.2 | libstdc++.so.6 | libgcc_s.so.1 | libz.so.1 | libcurl.so.4) ;; *) ok_needed=0 ;; esac
done
echo "- \`readelf -d\` NEEDED: $needed (target: glibc's, libstdc++/libgcc_s, libz, libcurl: $(met "$ok_needed"))"
glibc_minor=${glibc#GLIBC_2.}
glibcxx_minor=${glibcxx#GLIBCXX_3.4.}
echo "- newest glibc symbol version (\`objdump -T | grep GLIBC_\`): $glibc (target GLIBC_2.34: $(met "$(( ${glibc_minor%%.*} <= 34 ))")); newest libstdc++ one: $glibcxx (GCC 11's GLIBCXX_3.4.29 or older, for Amazon Linux 2023 and RHEL 9: $(met "$(( glibcxx_minor <= 29 ))"))"
loaded=$(LD_TRACE_LOADED_OBJECTS=1 "$stripped" | awk '{ print $1 }' | grep -v '^linux-vdso' | tr '\n' ' ' | sed 's/ $//')
echo "- loaded by \`lambda-deploy --version\` (\`LD_TRACE_LOADED_OBJECTS=1\`): $loaded ($(wc -w <<<"$loaded") files)"
curl_so=$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')
if [ -n "$curl_so" ]; then
  curl_deps=$(ldd "$curl_so" | awk '{ print $1 }' | grep -cv '^linux-vdso')
  echo "- added by the first request: libcurl.so.4 (\`dlopen\`, ci/support/libcurl-on-first-use.c) and the $curl_deps libraries it needs on this machine"
fi

echo
echo "### Start-up"
echo
hyperfine -N --warmup 20 --runs 300 --export-json "$work/startup.json" \
  --command-name "lambda-deploy --version" "$stripped --version" \
  --command-name "git --version" "git --version" >/dev/null 2>&1
python3 - "$work/startup.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours, git = results["lambda-deploy --version"], results["git --version"]
ms = lambda seconds: f"{seconds * 1000:.1f}"
target = "met" if ours["mean"] <= 0.005 else "**not met**"
print("| command (hyperfine -N, 300 runs, 20 warm-up) | mean ms | median ms | min ms | user ms | system ms | target |")
print("|---|---:|---:|---:|---:|---:|---|")
print(f"| `lambda-deploy --version` (stripped) | {ms(ours['mean'])} | {ms(ours['median'])} | {ms(ours['min'])} | {ms(ours['user'])} | {ms(ours['system'])} | <= 5 ms: {target} |")
print(f"| `git --version` | {ms(git['mean'])} | {ms(git['median'])} | {ms(git['min'])} | {ms(git['user'])} | {ms(git['system'])} | |")
PY
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)."
