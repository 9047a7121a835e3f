#!/usr/bin/env bash
# Runs every test, after installing what they need: the package with its test extras in
# .venv, and the real engine (dockerd + buildx + QEMU + a local registry, idempotently).
# CI runs exactly this (.ci/run); extra arguments go to pytest.
#
# The engine tests run twice, on the same daemon: with the current buildx (the default
# plugin; this leg runs every test) and with the oldest supported one (its own
# DOCKER_CONFIG; the engine tests only). BUILDGRAPH_BUILDX names the version each leg
# must find: tests/conftest.py fails (CI) or skips when `docker buildx version` differs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/buildx-legs.sh
. .ci/buildx-legs.sh

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The layout's rules (no import cycle, no private import, at most 10 import levels):
# docs/architecture.md.
.venv/bin/python scripts/import_map.py --check
# Lint, format and types, as docs/contributing.md asks of every commit.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
bash .ci/provision-engine.sh
bash .ci/provision-browser.sh  # chromium, its driver and tmux: the page's and the live view's tests

# Both legs run whatever the first gives; the first failure's status is the script's.
echo "==> tests, buildx $CURRENT_BUILDX"
current=0
BUILDGRAPH_BUILDX=$CURRENT_BUILDX .venv/bin/python -m pytest "$@" || current=$?

echo "==> engine tests, buildx $OLDEST_BUILDX (DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG)"
oldest=(tests/engine)
(($#)) && oldest=(-m engine "$@")  # the same selection, its engine tests only
status=0
DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG BUILDGRAPH_BUILDX=$OLDEST_BUILDX \
  .venv/bin/python -m pytest "${oldest[@]}" || status=$?
# 5: the arguments selected no engine test, which is no failure of this leg.
((status == 5)) && status=0
((current == 0)) || exit "$current"
exit "$status"
