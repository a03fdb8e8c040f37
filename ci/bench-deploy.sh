#!/usr/bin/env bash
# Benchmark: `lambda-deploy deploy` against the floor (the same calls as raw HTTP), the aws CLI
# pipeline, and an unchanged redeploy against one `aws lambda get-alias`, on a local moto server.
#
# On the ~90 MB Python tree (ci/support/bench-tree.sh), with one file changed before every run:
#   - lambda-deploy deploy --alias dev          (entry cache warm, as on a developer's machine)
#   - the floor: lambda-deploy package (warm) + UpdateFunctionCode, PublishVersion, UpdateAlias
#     sent as raw SigV4-signed HTTP by Python's urllib to the same moto (alias `floor`): what any
#     tool must do at least
#   - zip -q -r -X; aws lambda update-function-code; aws lambda wait function-updated-v2;
#     aws lambda publish-version; aws lambda update-alias   (the scripted pipeline, alias `cli`)
# and with nothing changed:
#   - lambda-deploy deploy --alias dev          (result: unchanged, nothing uploaded)
#   - aws lambda get-alias                      (one call, the reference)
# Then one changed deploy with --verbose, timed line by line: where the time goes. And the peak
# memory (/usr/bin/time -v) of a deploy of 60 MB of incompressible bytes through S3, for this
# binary and, with BENCH_BASELINE_BIN, another one (e.g. the previous release).
# Prints markdown tables of medians and ratios. moto runs on loopback, started here and stopped
# when this script exits (ci/support/moto_local.py watches its parent).
#
# Usage: ci/bench-deploy.sh [RUNS]   (RUNS defaults to BENCH_RUNS, else 5)
# Environment: LAMBDA_DEPLOY_BIN (default .build/static/release/lambda-deploy), BENCH_TREE (reuse a tree),
#              BENCH_BASELINE_BIN (a second binary for the memory row), BENCH_KEEP=1 (keep the work directory).
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

# The first deploy creates `dev` (and fills the entry cache); `cli` and `floor` start on the same version.
(cd "$work" && "$bin" deploy --function "$function" --dir "$fn" --alias dev --json >/dev/null)
for alias in cli floor; do
    aws --endpoint-url "$AWS_ENDPOINT_URL" lambda create-alias --function-name "$function" --name "$alias" --function-version 1 >/dev/null
done

# The floor's three calls: SigV4 by hand (hashlib, hmac), one urllib request each.
cat > "$work/raw_deploy.py" <<'PYTHON'
import base64, datetime, hashlib, hmac, json, os, sys, urllib.parse, urllib.request

endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
region, key, secret = os.environ["AWS_REGION"], os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
function, alias, zip_path = sys.argv[1:4]
host = urllib.parse.urlsplit(endpoint).netloc


def call(method, path, body):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = "content-type;host;x-amz-content-sha256;x-amz-date"
    headers = "content-type:application/json\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n" % (host, payload, stamp)
    canonical = "\n".join([method, urllib.parse.quote(path), "", headers, signed, payload])
    scope = "%s/%s/lambda/aws4_request" % (stamp[:8], region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing = ("AWS4" + secret).encode()
    for part in (stamp[:8], region, "lambda", "aws4_request"):
        signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(endpoint + path, data=body, method=method, headers={
        "Content-Type": "application/json", "X-Amz-Date": stamp, "X-Amz-Content-SHA256": payload,
        "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (key, scope, signed, signature)})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


with open(zip_path, "rb") as handle:
    code = call("PUT", "/2015-03-31/functions/%s/code" % function, b'{"ZipFile":"' + base64.b64encode(handle.read()) + b'"}')
version = call("POST", "/2015-03-31/functions/%s/versions" % function, json.dumps({"CodeSha256": code["CodeSha256"]}).encode())
call("PUT", "/2015-03-31/functions/%s/aliases/%s" % (function, alias), json.dumps({"FunctionVersion": version["Version"]}).encode())
PYTHON

cat > "$work/change.sh" <<SCRIPT
echo "# changed \$(date +%s.%N) \$RANDOM" >> "$fn/six.py"
SCRIPT
cat > "$work/tool.sh" <<SCRIPT
cd "$work" && "$bin" deploy --function "$function" --dir "$fn" --alias dev --json > "$work/tool.json"
SCRIPT
cat > "$work/floor.sh" <<SCRIPT
set -e
cd "$work" && "$bin" package "$fn" --output "$work/floor.zip" > /dev/null
python3 "$work/raw_deploy.py" "$function" floor "$work/floor.zip"
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

# The tool and its floor back to back, so both see the same machine and the same moto.
t_tool="$(median tool "bash $work/change.sh" "bash $work/tool.sh")"
json_field() {  # json_field KEY...: fields of the tool's last JSON answer, space-separated
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(*(d[k] for k in sys.argv[2:]))' "$work/tool.json" "$@" \
        || { echo "error: the deploy did not print one JSON object:" >&2; cat "$work/tool.json" >&2; exit 1; }
}
result="$(json_field result)"
[[ "$result" == deployed ]] || { echo "error: a changed deploy reported '$result', not 'deployed'" >&2; exit 1; }
t_floor="$(median floor "bash $work/change.sh" "bash $work/floor.sh")"
t_cli="$(median cli "bash $work/change.sh" "bash $work/cli.sh")"

# Nothing changes from here on: bring `dev` up to date once, then time the no-op.
bash "$work/tool.sh"
t_same="$(median unchanged "true" "bash $work/tool.sh")"
read -r same_result same_bytes < <(json_field result uploadedBytes)
[[ "$same_result" == unchanged && "$same_bytes" == 0 ]] || { echo "error: the unchanged redeploy reported $same_result, $same_bytes bytes uploaded" >&2; exit 1; }
t_get="$(median get-alias "true" "bash $work/getalias.sh")"

# Where the time goes: one changed deploy with --verbose, each stderr line stamped on arrival.
bash "$work/change.sh"
python3 - "$bin" "$function" "$fn" > "$work/trace.md" <<'PYTHON'
import re, subprocess, sys, time
bin, function, tree = sys.argv[1:4]
start = time.monotonic()
process = subprocess.Popen([bin, "deploy", "--function", function, "--dir", tree, "--alias", "dev", "--verbose"],
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
rows = []
for line in process.stderr:
    at = (time.monotonic() - start) * 1000
    call = re.match(r"aws: (\S+) (\S+) (\S+) \S+ -> (.*) \((\d+) ms, attempt", line)
    if call:
        rows.append((at - int(call.group(5)), int(call.group(5)), "%s %s -> %s" % (call.group(1), call.group(2), call.group(4))))
    elif line.startswith("packaged "):
        took = float(re.search(r"in ([0-9.]+) s", line).group(1)) * 1000
        rows.append((at - took, took, "package (entry cache warm)"))
process.wait()
rows.append(((time.monotonic() - start) * 1000, 0, "process exits"))
print("| step | starts at (ms) | takes (ms) |")
print("|---|---:|---:|")
for begin, took, step in rows:
    print("| %s | %.0f | %.0f |" % (step, begin, took))
PYTHON

# Peak memory of a 60 MB package sent through S3 (incompressible bytes, so the zip is 60 MB):
# the first deploy packages cold, the second after one small file changed (entry cache warm),
# where packaging holds little and the upload shows.
big="$work/big"
mkdir -p "$big"
head -c 62914560 /dev/urandom > "$big/blob.bin"
printf 'def handler(event, context):\n    return 1\n' > "$big/app.py"
peak_rss() {  # peak_rss BINARY NAME: "COLD WARM", each deploy's peak resident set in MB
    local binary="$1" name="$2" bucket="bench-big-$2" peaks=()
    python3 "$root/ci/support/moto_local.py" create-function "$AWS_ENDPOINT_URL" "$name" >/dev/null
    python3 "$root/ci/support/moto_local.py" create-bucket "$AWS_ENDPOINT_URL" "$bucket" >/dev/null
    for round in cold warm; do
        if [[ "$round" == warm ]]; then echo "# changed $RANDOM" >> "$big/app.py"; fi
        (cd "$work" && LAMBDA_DEPLOY_CACHE_DIR="$work/cache-$name" /usr/bin/time -v "$binary" deploy --function "$name" --dir "$big" \
            --alias dev --s3-bucket "$bucket" --json > "$work/$name.json" 2> "$work/$name.time")
        python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["upload"] == "s3", d' "$work/$name.json" \
            || { echo "error: the 60 MB deploy did not upload through S3" >&2; cat "$work/$name.time" >&2; exit 1; }
        peaks+=("$(awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/$name.time")")
    done
    echo "${peaks[*]}"
}
read -r rss_tool_cold rss_tool_warm < <(peak_rss "$bin" big-tool)
rss_base_cold="" rss_base_warm=""
if [[ -n "${BENCH_BASELINE_BIN:-}" ]]; then read -r rss_base_cold rss_base_warm < <(peak_rss "$(realpath "$BENCH_BASELINE_BIN")" big-base); fi

zip_bytes="$(stat -c %s "$work/cli.zip")"
ratio() { echo "scale=3; $1 / $2" | bc -l | sed 's/^\./0./'; }
verdict() { if (( $(echo "$1 <= $2" | bc -l) )); then echo "met"; else echo "missed"; fi; }
r_floor="$(ratio "$t_tool" "$t_floor")"
r_cli="$(ratio "$t_tool" "$t_cli")"
r_same="$(ratio "$t_same" "$t_get")"
echo
echo "Tree: $files files, $size bytes (zip $zip_bytes bytes, sent base64 in one UpdateFunctionCode request); moto on loopback; one file changed before each changed run; median of $runs runs (hyperfine, one warm-up)"
echo
echo "| | median (s) | lambda-deploy ÷ this | target |"
echo "|---|---:|---:|---|"
printf '| lambda-deploy deploy, one file changed (entry cache warm) | %.3f | | |\n' "$t_tool"
printf '| floor: warm `package` + UpdateFunctionCode, PublishVersion, UpdateAlias as raw signed HTTP (Python urllib) | %.3f | %s | <= 1.15: %s |\n' "$t_floor" "$r_floor" "$(verdict "$r_floor" 1.15)"
printf '| aws CLI pipeline (zip, update-function-code, wait, publish-version, update-alias) | %.3f | %s | <= 0.15: %s |\n' "$t_cli" "$r_cli" "$(verdict "$r_cli" 0.15)"
printf '| lambda-deploy deploy, nothing changed (result unchanged, 0 bytes uploaded) | %.3f | | |\n' "$t_same"
printf '| aws lambda get-alias (one call) | %.3f | %s | <= 0.35: %s |\n' "$t_get" "$r_same" "$(verdict "$r_same" 0.35)"
echo
echo "Where a changed deploy's time goes (one run with \`--verbose\`, each line stamped as it arrives; a call starts at its line's time minus its duration):"
echo
cat "$work/trace.md"
echo
echo "Peak memory (\`/usr/bin/time -v\`, maximum resident set) of deploys of 60 MB of incompressible bytes through S3:"
echo
echo "| binary | first deploy, cold entry cache (MB) | one small file changed, cache warm (MB) |"
echo "|---|---:|---:|"
echo "| this build | $rss_tool_cold | $rss_tool_warm |"
if [[ -n "$rss_base_cold" ]]; then echo "| BENCH_BASELINE_BIN ($BENCH_BASELINE_BIN) | $rss_base_cold | $rss_base_warm |"; fi
