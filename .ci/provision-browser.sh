#!/usr/bin/env bash
# The browser the page's tests drive (tests/engine/test_ui.py, benchmarks/ui.py): Debian's
# chromium and chromium-driver, from the Debian package registry only (Selenium is told
# where they are, so it never downloads a browser or a driver), and tmux, which the tests of
# the live terminal view run in. Idempotent: installed packages are left as they are, and
# apt-get update runs only when something is missing. Needs root.
set -euo pipefail

PACKAGES=(chromium chromium-driver tmux)
LOG=/var/log/buildgraph-browser-apt.log
export DEBIAN_FRONTEND=noninteractive

log() { printf '==> %s\n' "$*"; }
die() { printf '\nprovision-browser: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    apt-get update -q >>"$LOG" 2>&1 || die "apt-get update failed (see $LOG)"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 \
        || die "apt-get install ${missing[*]} failed (see $LOG)"
fi
# The tests run these exact paths (tests/engine/test_ui.py).
for program in /usr/bin/chromium /usr/bin/chromedriver; do
    [[ -x $program ]] || die "$program is missing after the install"
done
log "browser: $(/usr/bin/chromium --version 2>/dev/null || echo '?'), $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
