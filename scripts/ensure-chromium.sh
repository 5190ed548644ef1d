#!/usr/bin/env bash
# Make sure a headless-capable Chromium is installed: Debian's `chromium` package.
# Idempotent, and silent when a browser is already there. The HTML report's tests
# (tests/report/test_html.py) open pages in it; `make test` and CI run this first.
# Needs root or sudo only when it has to install.
set -euo pipefail

have_browser() {
  command -v chromium >/dev/null 2>&1 ||
    command -v chromium-browser >/dev/null 2>&1 ||
    command -v google-chrome >/dev/null 2>&1
}

have_browser && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is missing and there is no apt-get; install Chromium" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-chromium: installing chromium needs root (or sudo)" >&2
    exit 1
  fi
  sudo="sudo"
fi

echo "ensure-chromium: installing Debian's chromium with apt-get ..." >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh container has no package lists yet: fetch them once.
if ! apt-cache show chromium >/dev/null 2>&1; then
  $sudo apt-get update -qq >&2
fi
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
have_browser
