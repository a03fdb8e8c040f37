#!/usr/bin/env bash
# Installs what a fresh machine lacks for building, testing and the demo: the C libraries
# (libgit2, libdeflate, OpenSSL's libcrypto, libcurl with OpenSSL), zip/unzip for the tests'
# independent readers, the openssl CLI (the HTTPS tests make a private CA with it), and moto's
# server for the local AWS endpoint. Does nothing when everything is there.
set -euo pipefail

missing=()
for pkg in libgit2-dev libdeflate-dev libssl-dev libcurl4-openssl-dev openssl zip unzip; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import moto.server' >/dev/null 2>&1; then
  echo "installing: moto[server]"
  python3 -m pip install -q 'moto[server]'
  hash -r
fi
