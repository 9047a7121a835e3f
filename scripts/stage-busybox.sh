#!/usr/bin/env bash
# Copy the statically linked busybox binaries staged by .ci/provision-engine.sh into
# DIR/linux/{amd64,arm64}/bin/busybox, the layout a `FROM scratch` Dockerfile expects:
#   COPY rootfs/linux/${TARGETARCH}/bin/busybox /bin/busybox
# No image registry is reachable on our machines, so base images are built from these.
#
# Usage: scripts/stage-busybox.sh DIR
# Env:   BUILDGRAPH_BUSYBOX_SRC  source tree (default /opt/buildgraph-engine/busybox)
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dest=$1
src=${BUILDGRAPH_BUSYBOX_SRC:-/opt/buildgraph-engine/busybox}

for arch in amd64 arm64; do
    from="$src/linux/$arch/bin/busybox"
    to="$dest/linux/$arch/bin/busybox"
    if [[ ! -x $from ]]; then
        echo "stage-busybox: $from is missing; run .ci/provision-engine.sh first" >&2
        exit 1
    fi
    # Copy only when different, so repeated runs leave the tree untouched.
    if ! cmp -s "$from" "$to" 2>/dev/null; then
        install -D -m 0755 "$from" "$to"
    fi
done
