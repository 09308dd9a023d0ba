#!/usr/bin/env bash
# Installs Debian's mkfs.ext4 (e2fsprogs) and mkfs.xfs (xfsprogs), when missing. The EBS
# snapshot tests build small real ext4 and XFS images with them; the product itself needs
# neither (it parses file systems in Python). Idempotent, and skip-safe: when the packages
# cannot be installed it says so and exits 0 (the tests then skip, and fail under CI=true).
set -uo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
need=()
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v mkfs.xfs >/dev/null 2>&1 || need+=(xfsprogs)

if [ ${#need[@]} -eq 0 ]; then
  echo "mkfs.ext4 and mkfs.xfs already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: apt-get not found: install ${need[*]} to run the EBS snapshot tests" >&2
  exit 0
fi

echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; }; then
  echo "warning: could not install ${need[*]}: the EBS snapshot tests will skip" >&2
fi
exit 0
