#!/usr/bin/env bash
# Installs, when missing, the Debian tools some tests build real inputs with; the product itself
# needs none of them (it parses file systems and rpm databases in Python):
#   mkfs.ext4 (e2fsprogs), mkfs.xfs (xfsprogs)  - EBS snapshot tests: real ext4 and XFS images
#   rpmbuild, rpm (rpm), db5.3_load (db5.3-util) - rpm Berkeley DB tests: real Packages files
# Idempotent, and skip-safe: when a package cannot be installed it says so and exits 0 (the tests
# then skip, and fail under CI=true).
set -uo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
TOOLS=(mkfs.ext4=e2fsprogs mkfs.xfs=xfsprogs rpmbuild=rpm rpm=rpm db5.3_load=db5.3-util)

need=()
for pair in "${TOOLS[@]}"; do
  command -v "${pair%%=*}" >/dev/null 2>&1 && continue
  package="${pair#*=}"
  [[ " ${need[*]-} " == *" $package "* ]] || need+=("$package")
done

if [ ${#need[@]} -eq 0 ]; then
  echo "test tools already installed: ${TOOLS[*]%%=*}"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: apt-get not found: install ${need[*]} to run the tests that need them" >&2
  exit 0
fi

echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; }; then
  echo "warning: could not install ${need[*]}: the tests that need them will skip" >&2
fi
exit 0
