#!/usr/bin/env bash
# Runs every test, after installing what they need: the package with its test extras in
# .venv, and the real engine (dockerd + buildx + QEMU + a local registry, idempotently).
# CI runs exactly this (.ci/run); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The layout's rules (no import cycle, no private import, at most 9 import levels):
# docs/architecture.md.
.venv/bin/python scripts/import_map.py --check
bash .ci/provision-engine.sh
exec .venv/bin/python -m pytest "$@"
