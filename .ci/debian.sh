#!/usr/bin/env bash
# Install Debian packages the tests need, when a command of theirs is missing.
#   .ci/debian.sh PACKAGE...
# Runs apt-get (as root, or through sudo); refreshes the package lists only when the
# first attempt fails. Progress goes to stderr.
set -euo pipefail
missing=()
for package in "$@"; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "debian.sh: installing ${missing[*]}" >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
