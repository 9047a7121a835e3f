# shellcheck shell=bash
# The two buildx plugins the engine tests run with, on the same daemon (sourced by
# .ci/provision-engine.sh, which installs them, and scripts/test.sh, which runs both legs):
#   current: sid's docker-buildx, the default plugin every docker CLI finds;
#   oldest:  trixie's, the oldest buildx buildgraph supports, in a DOCKER_CONFIG folder
#            of its own whose cli-plugins/docker-buildx the CLI prefers to the system's.
CURRENT_BUILDX=0.29.1
OLDEST_BUILDX=0.13.1
OLDEST_DOCKER_CONFIG=/opt/buildgraph-engine/buildx-$OLDEST_BUILDX
