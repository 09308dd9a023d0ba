#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver for the browser tests, when missing.
# Idempotent: does nothing when both are present. Never downloads a browser build of its own:
# Playwright (pip) drives this system Chromium through executable_path.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)

if [ ${#need[@]} -eq 0 ]; then
  echo "chromium and chromium-driver already installed: $(chromium --version 2>/dev/null || true)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
chromium --version
