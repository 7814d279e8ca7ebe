#!/bin/sh
# Install the Debian packages gigacov's browser tests and reports need, only if missing:
#   chromium        headless browser for the map and report tests
#   fonts-noto-cjk  a CJK font so Chinese text in charts and reports renders (not tofu boxes)
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then need="$need fonts-noto-cjk"; fi
[ -z "$need" ] && exit 0
echo "installing Debian packages:$need"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $need fontconfig
