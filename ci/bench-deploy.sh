#!/usr/bin/env bash
# Benchmark: `lambda-deploy deploy` against the aws CLI pipeline a user would otherwise script,
# and an unchanged redeploy against one `aws lambda get-alias` call, on a local moto server.
#
# On the ~90 MB Python tree (ci/support/bench-tree.sh), with one file changed before every run:
#   - lambda-deploy deploy --alias dev          (entry cache warm, as on a developer's machine)
#   - zip -q -r -X; aws lambda update-function-code; aws lambda wait function-updated-v2;
#     aws lambda publish-version; aws lambda update-alias   (the scripted pipeline, alias `cli`)
# and with nothing changed:
#   - lambda-deploy deploy --alias dev          (result: unchanged, nothing uploaded)
#   - aws lambda get-alias                      (one call, the reference)
# Prints a markdown table of medians and ratios. moto runs on loopback, started here and stopped
# when this script exits (ci/support/moto_local.py watches its parent).
#
# Usage: ci/bench-deploy.sh [RUNS]   (RUNS defaults to BENCH_RUNS, else 5)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy), BENCH_TREE (reuse a tree),
#              BENCH_KEEP=1 (keep the work directory, for debugging).
set -euo pipefail

runs="${1:-${BENCH_RUNS:-5}}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${LAMBDA_DEPLOY_BIN:-$root/.build/static/release/lambda-deploy}")"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-deploy.XXXXXX")"
moto_pid=""
cleanup() {
    if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; fi
    if [[ -z "${BENCH_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

# The tree is copied: every run edits a file, and BENCH_TREE is shared with other scripts.
fn="$work/function"
if [[ -n "${BENCH_TREE:-}" ]]; then cp -R "$BENCH_TREE" "$fn"; else bash "$root/ci/support/bench-tree.sh" "$fn"; fi
files="$(find "$fn" -type f -o -type l | wc -l)"
size="$(du -sb "$fn" | cut -f1)"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 "$root/ci/support/moto_local.py" serve "$port" > "$work/moto.out" 2>/dev/null &
moto_pid=$!
for _ in $(seq 100); do grep -q ready "$work/moto.out" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$work/moto.out" || { echo "error: moto did not start (pip install 'moto[server]')" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_PAGER= AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export LAMBDA_DEPLOY_CACHE_DIR="$work/cache" HOME="$work/home"
mkdir -p "$HOME"
function=bench
python3 "$root/ci/support/moto_local.py" create-function "$AWS_ENDPOINT_URL" "$function" >/dev/null

# The first deploy creates `dev` (and fills the entry cache); `cli` starts on the same version.
(cd "$work" && "$bin" deploy --function "$function" --dir "$fn" --alias dev --json >/dev/null)
aws --endpoint-url "$AWS_ENDPOINT_URL" lambda create-alias --function-name "$function" --name cli --function-version 1 >/dev/null

cat > "$work/change.sh" <<SCRIPT
echo "# changed \$(date +%s.%N) \$RANDOM" >> "$fn/six.py"
SCRIPT
cat > "$work/tool.sh" <<SCRIPT
cd "$work" && "$bin" deploy --function "$function" --dir "$fn" --alias dev --json > "$work/tool.json"
SCRIPT
cat > "$work/cli.sh" <<SCRIPT
set -e
cd "$fn" && rm -f "$work/cli.zip" && zip -q -r -X "$work/cli.zip" .
aws --endpoint-url "$AWS_ENDPOINT_URL" lambda update-function-code --function-name "$function" --zip-file "fileb://$work/cli.zip" > /dev/null
aws --endpoint-url "$AWS_ENDPOINT_URL" lambda wait function-updated-v2 --function-name "$function"
version=\$(aws --endpoint-url "$AWS_ENDPOINT_URL" lambda publish-version --function-name "$function" --query Version --output text)
aws --endpoint-url "$AWS_ENDPOINT_URL" lambda update-alias --function-name "$function" --name cli --function-version "\$version" > /dev/null
SCRIPT
cat > "$work/getalias.sh" <<SCRIPT
aws --endpoint-url "$AWS_ENDPOINT_URL" lambda get-alias --function-name "$function" --name dev > /dev/null
SCRIPT

# median NAME PREPARE COMMAND: median wall seconds over $runs runs (one warm-up), PREPARE before each.
median() {
    local name="$1" prepare="$2" command="$3"
    if command -v hyperfine >/dev/null && [[ -z "${BENCH_NO_HYPERFINE:-}" ]]; then
        hyperfine --warmup 1 --runs "$runs" --prepare "$prepare" --export-json "$work/hyperfine-$name.json" -n "$name" "$command" >&2
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/hyperfine-$name.json"
    else
        local times=()
        bash -c "$prepare"; bash -c "$command"
        for ((i = 0; i < runs; i++)); do
            bash -c "$prepare"
            local start end
            start="$(date +%s.%N)"; bash -c "$command"; end="$(date +%s.%N)"
            times+=("$(echo "$end - $start" | bc -l)")
        done
        printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
    fi
}

t_tool="$(median tool "bash $work/change.sh" "bash $work/tool.sh")"
json_field() {  # json_field KEY...: fields of the tool's last JSON answer, space-separated
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(*(d[k] for k in sys.argv[2:]))' "$work/tool.json" "$@" \
        || { echo "error: the deploy did not print one JSON object:" >&2; cat "$work/tool.json" >&2; exit 1; }
}
result="$(json_field result)"
[[ "$result" == deployed ]] || { echo "error: a changed deploy reported '$result', not 'deployed'" >&2; exit 1; }
t_cli="$(median cli "bash $work/change.sh" "bash $work/cli.sh")"

# Nothing changes from here on: bring `dev` up to date once, then time the no-op.
bash "$work/tool.sh"
t_same="$(median unchanged "true" "bash $work/tool.sh")"
read -r same_result same_bytes < <(json_field result uploadedBytes)
[[ "$same_result" == unchanged && "$same_bytes" == 0 ]] || { echo "error: the unchanged redeploy reported $same_result, $same_bytes bytes uploaded" >&2; exit 1; }
t_get="$(median get-alias "true" "bash $work/getalias.sh")"

zip_bytes="$(stat -c %s "$work/cli.zip")"
ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
verdict() { if (( $(echo "$1 <= $2" | bc -l) )); then echo "met"; else echo "missed"; fi; }
r_deploy="$(ratio "$t_tool" "$t_cli")"
r_same="$(ratio "$t_same" "$t_get")"
echo
echo "Tree: $files files, $size bytes (zip $zip_bytes bytes, sent base64 in one UpdateFunctionCode request); moto on loopback; one file changed before each changed run; median of $runs runs (hyperfine, one warm-up)"
echo
echo "| | median (s) | ratio | target |"
echo "|---|---:|---:|---|"
printf '| aws CLI pipeline (zip, update-function-code, wait, publish-version, update-alias) | %.3f | 1.000 | |\n' "$t_cli"
printf '| lambda-deploy deploy, one file changed (entry cache warm) | %.3f | %s | <= 0.5x: %s |\n' "$t_tool" "$r_deploy" "$(verdict "$r_deploy" 0.5)"
printf '| aws lambda get-alias (one call) | %.3f | 1.000 | |\n' "$t_get"
printf '| lambda-deploy deploy, nothing changed (result unchanged, 0 bytes uploaded) | %.3f | %s | < 1x: %s |\n' "$t_same" "$r_same" "$(verdict "$r_same" 0.999)"
