#!/usr/bin/env bash
# Headless Chromium and its WebDriver server for the dashboard's end-to-end tests (Debian's
# `chromium` + `chromium-driver`). Idempotent: installs only what is missing. Nothing is started
# here: each test starts its own chromedriver on a free loopback port with a fresh profile, so
# tests never share a browser.
set -euo pipefail

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-dejavu-core >/dev/null
fi
chromium --version
chromedriver --version
