#!/usr/bin/env bash
# The README's first command: a local AWS endpoint (moto on loopback), a sample function deployed
# to dev (as a developer's push would) and then to prod (as a Travis build of main would), and
# the deploy history read back from git notes. Leaves nothing running and nothing in ~/.aws.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash ci/support/install-deps.sh
echo "== building lambda-deploy (release)"
swift build -c release >/dev/null 2>&1 || swift build -c release
tool="$(swift build -c release --show-bin-path)/lambda-deploy"

work=$(mktemp -d "${TMPDIR:-/tmp}/lambda-deploy-demo.XXXXXX")
moto_pid=""
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
echo "== starting a local AWS endpoint (moto) on 127.0.0.1:$port"
python3 ci/support/moto_local.py serve "$port" > "$work/moto.out" 2>"$work/moto.log" &
moto_pid=$!
for _ in $(seq 1 100); do grep -q ready "$work/moto.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/moto.out" || { echo "moto did not start:"; cat "$work/moto.log"; exit 1; }

# Test-only credentials for the local endpoint: never real ones.
export AWS_ACCESS_KEY_ID=demo-key AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export LAMBDA_DEPLOY_CACHE_DIR="$work/cache"
unset CI TRAVIS GITHUB_ACTIONS GITLAB_CI CIRCLECI BUILDKITE JENKINS_URL TF_BUILD CODEBUILD_BUILD_ID BITBUCKET_BUILD_NUMBER

echo "== creating the function 'pr' in the local endpoint"
python3 ci/support/moto_local.py create-function "$AWS_ENDPOINT_URL" pr >/dev/null

echo "== a repository with the function and its lambda-deploy.yml"
repo="$work/repo"
mkdir -p "$repo/src"
cp examples/hello/app.py "$repo/src/app.py"
cat > "$repo/lambda-deploy.yml" <<YAML
function: pr
directory: src
region: us-east-1
branches:
  main: prod
hook:
  alias: dev
YAML
cd "$repo"
git init -q -b main
git -c user.name="Demo Developer" -c user.email=dev@example.com add -A
git -c user.name="Demo Developer" -c user.email=dev@example.com commit -q -m "hello function"
git config user.name "Demo Developer"; git config user.email dev@example.com
git init -q --bare "$work/origin.git"          # the team's remote (a local bare repository here)
git remote add origin "$work/origin.git"

echo
echo "\$ lambda-deploy hook install"
"$tool" hook install

echo
echo "\$ git push origin main                    # the pre-push hook deploys dev"
git push -q origin main

echo
echo "\$ lambda-deploy deploy --alias prod       # refused: prod only moves from CI"
"$tool" deploy --alias prod || true

echo
echo "\$ lambda-deploy                           # in Travis after_success on main"
CI=true TRAVIS=true TRAVIS_BRANCH=main TRAVIS_PULL_REQUEST=false TRAVIS_EVENT_TYPE=push \
TRAVIS_BUILD_NUMBER=1 TRAVIS_JOB_NUMBER=1.1 TRAVIS_COMMIT="$(git rev-parse HEAD)" TRAVIS_REPO_SLUG=demo/pr \
  "$tool"

echo
echo "\$ lambda-deploy verify                    # every alias matches its newest record"
"$tool" verify

echo
echo "\$ lambda-deploy history"
"$tool" history

echo
echo "\$ git log --notes=deploys --format='%h %s%n%N'"
git log --notes=deploys --format='%h %s%n%N'
