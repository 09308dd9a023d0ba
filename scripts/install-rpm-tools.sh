#!/usr/bin/env bash
# Installs Debian's rpm (rpmbuild, rpm) and db5.3-util (db5.3_load), when missing. The rpm
# Berkeley DB tests build real `Packages` databases with them and check each against rpm's own
# reader; the product itself needs neither (it parses the database in Python). Idempotent, and
# skip-safe: when the packages cannot be installed it says so and exits 0 (the tests then skip,
# and fail under CI=true).
set -uo pipefail

need=()
{ command -v rpmbuild >/dev/null 2>&1 && command -v rpm >/dev/null 2>&1; } || need+=(rpm)
command -v db5.3_load >/dev/null 2>&1 || need+=(db5.3-util)

if [ ${#need[@]} -eq 0 ]; then
  echo "rpm, rpmbuild and db5.3_load already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: apt-get not found: install ${need[*]} to run the rpm Berkeley DB tests" >&2
  exit 0
fi

echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; }; then
  echo "warning: could not install ${need[*]}: the rpm Berkeley DB tests will skip" >&2
fi
exit 0
