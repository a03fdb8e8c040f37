#!/usr/bin/env bash
# Builds the benchmark's realistic Lambda tree in DIR: Python packages copied from this machine's
# site-packages (boto3, botocore, numpy, ... about 90 MB in about 3,200 files), bytecode caches
# removed, as `pip install -t` leaves a function directory. Every comparison runs on these bytes:
# ci/bench builds the tree once and passes it on as BENCH_TREE; a script run alone builds its own.
#
# Usage: ci/support/bench-tree.sh DIR
set -euo pipefail

tree="${1:?usage: bench-tree.sh DIR}"
mkdir -p "$tree"
site="$(python3 -c 'import site; print(site.getsitepackages()[0])')"
for pkg in boto3 botocore s3transfer jmespath dateutil urllib3 requests certifi idna \
           charset_normalizer six numpy numpy.libs yaml; do
    if [[ -e "$site/$pkg" ]]; then
        cp -R "$site/$pkg" "$tree/"
    elif [[ -e "$site/$pkg.py" ]]; then  # single-module distributions such as six
        cp "$site/$pkg.py" "$tree/"
    else
        echo "skipping $pkg: not in $site" >&2
    fi
done
find "$tree" -name __pycache__ -type d -prune -exec rm -rf {} +
