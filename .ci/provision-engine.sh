#!/usr/bin/env bash
# Provision a real BuildKit engine on a Debian 12 machine (root, no systemd, no
# internet except the Debian package registry; /usr/local/bin/docker is a bare client):
#
#   1. the current buildx 0.29.1 (the default plugin) and dockerd 28.5.2 <- Debian sid's
#      docker-buildx / docker.io; the oldest supported buildx 0.13.1 <- Debian 13 (trixie)'s
#      docker-buildx, in a DOCKER_CONFIG folder of its own (the tests' second leg:
#      DOCKER_CONFIG=/opt/buildgraph-engine/buildx-0.13.1 selects it, same daemon).
#      Unpacked with a private apt state per suite (never installed)
#   2. bookworm packages: containerd, runc, iptables, tini (what bookworm's docker.io
#      pulls in), qemu-user-static, binfmt-support, docker-registry, graphviz
#   3. busybox-static for amd64 and arm64: base images are built FROM scratch, since
#      no image registry is reachable
#   4. QEMU binfmt entries mounted and enabled (before dockerd: it lists platforms at start)
#   5. containerd + dockerd with the containerd snapshotter (multi-platform --load/--push)
#   6. local registry on 127.0.0.1:5000
#   7. busybox staged into examples/monorepo/images/base/rootfs (gitignored)
#   8. self-check: two-platform build + push + inspect, `bake --print` with both plugins,
#      and the current buildx's bake given the filesystem entitlement it asks for
#
# Idempotent: every step first checks whether its work is already done, so a second
# run only does the checks and the (cached) self-check. Daemons keep running after
# the script exits; .ci/stop-engine.sh stops them.
#
# Env: BUILDGRAPH_SKIP_SELFCHECK=1  skip step 8.
# Each step below says why it is done that way (what these machines lack and need).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENGINE_DIR=/opt/buildgraph-engine            # unpacked Debian binaries + busybox
BIN_DIR=$ENGINE_DIR/bin
BUSYBOX_DIR=$ENGINE_DIR/busybox
PLUGIN_DIR=/usr/libexec/docker/cli-plugins   # searched by every docker CLI
RUN_DIR=/run/buildgraph-engine               # pid files
LOG_DIR=/var/log/buildgraph-engine           # daemon and apt logs
STATE_DIR=/var/lib/buildgraph-engine         # stamps
SCRATCH=/var/cache/buildgraph-engine         # private apt state for the sid/trixie downloads
REGISTRY_ROOT=/var/lib/buildgraph-registry
REGISTRY_ADDR=127.0.0.1:5000
CONTAINERD_SOCK=/run/containerd/containerd.sock
DOCKER_SOCK=/var/run/docker.sock
DOCKERD_VERSION=28.5.2                       # sid's docker.io
# CURRENT_BUILDX (sid's, the default plugin), OLDEST_BUILDX (trixie's) and the oldest
# leg's DOCKER_CONFIG folder, OLDEST_DOCKER_CONFIG (under $ENGINE_DIR).
# shellcheck source=.ci/buildx-legs.sh
. "$REPO_ROOT/.ci/buildx-legs.sh"
APT_MAX_AGE_MIN=360                          # reuse apt lists younger than 6 h

# The daemons inherit this PATH: dockerd must find docker-proxy, runc,
# containerd-shim-runc-v2 and iptables.
export PATH=$BIN_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
ARCH=$(dpkg --print-architecture)

log() { printf '==> %s\n' "$*"; }
die() { printf '\nprovision-engine: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

[[ $(id -u) -eq 0 ]] || die "must run as root"
mkdir -p "$ENGINE_DIR" "$BIN_DIR" "$RUN_DIR" "$LOG_DIR" "$STATE_DIR" "$SCRATCH"

# Run a noisy command with its output in a log file; show the tail only on failure.
run_logged() {
    local logfile=$1; shift
    if ! "$@" >>"$logfile" 2>&1; then
        tail -n 25 "$logfile" >&2
        die "'$*' failed (full log: $logfile)"
    fi
}

# wait_daemon NAME TIMEOUT CHECK...: wait until CHECK passes for the daemon just started
# (DAEMON_PID); fail fast, showing its log, if it dies or times out.
wait_daemon() {
    local name=$1 timeout=$2 i; shift 2
    for ((i = 0; i < timeout * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.2
    done
    "$@" >/dev/null 2>&1 && return 0
    # Only what this start wrote (start_daemon marks each start with a "---- " line).
    awk '/^---- /{buf = ""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$LOG_DIR/$name.log" | tail -n 15 >&2
    die "$name did not come up (log: $LOG_DIR/$name.log)"
}

# Start a daemon detached from this script (own session, no tty, output to a log)
# so that it survives our exit and the caller's process-group cleanup. Sets DAEMON_PID
# (setsid execs in place here: we are not a process-group leader, so $! is the daemon).
start_daemon() {
    local name=$1; shift
    echo "---- $(date -Is) starting: $*" >>"$LOG_DIR/$name.log"
    setsid nohup "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    DAEMON_PID=$!
}

pid_alive() {  # pid_alive NAME COMM: the pid file names a live process of that program
    local pidfile="$RUN_DIR/$1.pid"
    [[ -s $pidfile ]] && [[ $(cat "/proc/$(<"$pidfile")/comm" 2>/dev/null) == "$2" ]]
}

# ---------------------------------------------------------------- apt (system)
APT_UPDATED=0
apt_update() {
    # At most once per run, and not at all when the lists are fresh: package
    # installs only happen on a first run, so idempotent runs never get here.
    ((APT_UPDATED)) && return 0
    local stamp=$STATE_DIR/apt-update.stamp
    if [[ -z $(find "$stamp" -mmin -"$APT_MAX_AGE_MIN" 2>/dev/null) ]]; then
        log "apt-get update"
        run_logged "$LOG_DIR/apt.log" apt-get update
        touch "$stamp"
    fi
    APT_UPDATED=1
}

missing_pkgs() {
    local p
    for p; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

apt_install() {
    local missing
    missing=$(missing_pkgs "$@")
    [[ -n $missing ]] || return 0
    apt_update
    log "apt-get install $(tr '\n' ' ' <<<"$missing")"
    # No postinst may start a service (e.g. docker-registry on 0.0.0.0:5000): we start
    # what we need ourselves. Debian's container images ship such a policy-rc.d already.
    local policy_added=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    # shellcheck disable=SC2086
    if ! apt-get install -y -q --no-install-recommends $missing >>"$LOG_DIR/apt.log" 2>&1; then
        # Lists might be stale (404 on a superseded .deb): refresh once and retry.
        rm -f "$STATE_DIR/apt-update.stamp"; APT_UPDATED=0
        apt_update
        # shellcheck disable=SC2086
        run_logged "$LOG_DIR/apt.log" apt-get install -y -q --no-install-recommends $missing
    fi
    ((policy_added)) && rm -f /usr/sbin/policy-rc.d
    return 0
}

ensure_arch() {  # ensure_arch ARCH: dpkg knows ARCH, so apt can fetch its packages
    local arch=$1
    [[ $arch == "$ARCH" ]] && return 0
    dpkg --print-foreign-architectures | grep -qx "$arch" && return 0
    log "dpkg --add-architecture $arch"
    dpkg --add-architecture "$arch"
    rm -f "$STATE_DIR/apt-update.stamp"; APT_UPDATED=0  # the lists for $arch are needed
}

# ------------------------------------------------- apt (sid, trixie: private)
# The machine's own Debian registry: URI and keyring of the stanza that serves the
# system's codename, from the deb822 debian.sources (never hard-coded here).
debian_source() {
    local codename
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    awk -v cn="$codename" '
        BEGIN { RS = ""; FS = "\n" }
        {
            uris = ""; suites = ""; key = ""
            for (i = 1; i <= NF; i++) {
                line = $i
                if (line ~ /^URIs:/)      { sub(/^URIs:[ \t]*/, "", line); uris = line }
                if (line ~ /^Suites:/)    { sub(/^Suites:[ \t]*/, "", line); suites = " " line " " }
                if (line ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", line); key = line }
            }
            if (uris != "" && index(suites, " " cn " ")) { split(uris, u, " "); print u[1], key; exit }
        }' /etc/apt/sources.list.d/debian.sources
}

suite_apt() {  # suite_apt SUITE ARGS...: apt-get on SUITE's private state
    # Only our scratch folder is read or written: the system's sources, lists and
    # archive cache stay untouched (these packages are unpacked, never installed).
    local dir=$SCRATCH/$1; shift
    apt-get -q \
        -o Dir::Etc::SourceList="$dir/sources.list" \
        -o Dir::Etc::SourceParts="$dir/sources.list.d" \
        -o Dir::State::Lists="$dir/lists" \
        -o Dir::Cache="$dir/cache" \
        "$@"
}

# suite_fetch SUITE PKG...: download SUITE's PKGs and unpack them into $SCRATCH/SUITE/root.
suite_fetch() {
    local suite=$1 dir=$SCRATCH/$1 uri key deb; shift
    read -r uri key < <(debian_source) || true
    [[ -n ${uri:-} ]] || die "no URI for the system's suite in /etc/apt/sources.list.d/debian.sources"
    key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
    mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
    echo "deb [arch=$ARCH signed-by=$key] $uri $suite main" >"$dir/sources.list"
    chown -R _apt "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs" 2>/dev/null || true
    if [[ -z $(find "$dir/lists.stamp" -mmin -"$APT_MAX_AGE_MIN" 2>/dev/null) ]]; then
        log "apt-get update (private $suite lists)"
        run_logged "$LOG_DIR/apt.log" suite_apt "$suite" update
        touch "$dir/lists.stamp"
    fi
    log "apt-get download ($suite) $*"
    rm -f "$dir/debs/"*.deb
    if ! (cd "$dir/debs" && suite_apt "$suite" download "$@" >>"$LOG_DIR/apt.log" 2>&1); then
        # Lists a few hours old may name a .deb the registry has since replaced (sid moves).
        log "apt-get update (private $suite lists, again)"
        run_logged "$LOG_DIR/apt.log" suite_apt "$suite" update
        touch "$dir/lists.stamp"
        (cd "$dir/debs" && run_logged "$LOG_DIR/apt.log" suite_apt "$suite" download "$@")
    fi
    rm -rf "$dir/root"; mkdir -p "$dir/root"
    for deb in "$dir/debs/"*.deb; do dpkg -x "$deb" "$dir/root"; done
}

# ============================= 1. buildx plugins (sid, trixie) + dockerd binaries (sid)
# The version a plugin binary reports ("github.com/docker/buildx 0.29.1+ds1 ...").
plugin_version() { "$1" version 2>/dev/null | awk '{print $2}' | sed 's/^v//; s/+.*//'; }
plugin_ok() { [[ -x $1 && $(plugin_version "$1") == "$2" ]]; }
dockerd_bin_ok() { [[ -x $BIN_DIR/dockerd && -x $BIN_DIR/docker-proxy ]] &&
    "$BIN_DIR/dockerd" --version 2>/dev/null | grep -q "version $DOCKERD_VERSION"; }

OLDEST_PLUGIN=$OLDEST_DOCKER_CONFIG/cli-plugins/docker-buildx
if ! plugin_ok "$OLDEST_PLUGIN" "$OLDEST_BUILDX"; then
    # A machine provisioned before sid's buildx came in has the oldest one as its default.
    if plugin_ok "$PLUGIN_DIR/docker-buildx" "$OLDEST_BUILDX"; then
        install -D -m 0755 "$PLUGIN_DIR/docker-buildx" "$OLDEST_PLUGIN"
    else
        suite_fetch trixie docker-buildx
        install -D -m 0755 "$SCRATCH/trixie/root/usr/libexec/docker/cli-plugins/docker-buildx" "$OLDEST_PLUGIN"
        rm -rf "$SCRATCH/trixie/root" "$SCRATCH/trixie/debs"
    fi
fi
need=()
plugin_ok "$PLUGIN_DIR/docker-buildx" "$CURRENT_BUILDX" || need+=(docker-buildx)
dockerd_bin_ok || need+=(docker.io)
if ((${#need[@]})); then
    suite_fetch sid "${need[@]}"
    SID_ROOT=$SCRATCH/sid/root
    if [[ " ${need[*]} " == *" docker-buildx "* ]]; then
        install -D -m 0755 "$SID_ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
    fi
    if [[ " ${need[*]} " == *" docker.io "* ]]; then
        install -m 0755 "$SID_ROOT/usr/sbin/dockerd" "$SID_ROOT/usr/sbin/docker-proxy" "$BIN_DIR/"
        # On everybody's PATH, not only ours.
        ln -sf "$BIN_DIR/dockerd" /usr/local/sbin/dockerd
        ln -sf "$BIN_DIR/docker-proxy" /usr/local/sbin/docker-proxy
    fi
    rm -rf "$SID_ROOT" "$SCRATCH/sid/debs"
fi
plugin_ok "$PLUGIN_DIR/docker-buildx" "$CURRENT_BUILDX" ||
    die "$PLUGIN_DIR/docker-buildx is not buildx $CURRENT_BUILDX"
plugin_ok "$OLDEST_PLUGIN" "$OLDEST_BUILDX" || die "$OLDEST_PLUGIN is not buildx $OLDEST_BUILDX"
# What the docker CLI picks, in each leg.
[[ $(docker buildx version 2>/dev/null | awk '{print $2}') == *"$CURRENT_BUILDX"* ]] ||
    die "'docker buildx version' is not $CURRENT_BUILDX (another plugin first on the CLI's path?)"
[[ $(DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG docker buildx version 2>/dev/null | awk '{print $2}') == *"$OLDEST_BUILDX"* ]] ||
    die "with DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG, 'docker buildx version' is not $OLDEST_BUILDX"
dockerd_bin_ok || die "$BIN_DIR/dockerd is not version $DOCKERD_VERSION"

# ====================================================== 2. system packages (bookworm)
# Adding arm64 before the first apt-get update spares a second one for busybox.
[[ -x $BUSYBOX_DIR/linux/arm64/bin/busybox ]] || ensure_arch arm64

# What sid's docker.io depends on, from bookworm (containerd >= 1.4, runc, iptables, tini);
# qemu/binfmt for foreign platforms; the registry; Graphviz, whose dot draws
# `buildgraph graph --format svg|png`.
apt_install containerd runc iptables tini qemu-user-static binfmt-support docker-registry \
    graphviz

# docker.io ships docker-init as a link to tini's static binary (`docker run --init`,
# dockerd looks it up on every build step and logs a warning when it is missing).
for l in "$BIN_DIR/docker-init" /usr/local/sbin/docker-init; do
    [[ $(readlink "$l" 2>/dev/null) == /usr/bin/tini-static ]] || ln -sfn /usr/bin/tini-static "$l"
done

# =================================================== 3. busybox-static (amd64, arm64)
# Fetched before the QEMU step, which uses the arm64 binary as its end-to-end probe.
fetch_busybox() {  # fetch_busybox ARCH: busybox-static from the system's own suite
    local arch=$1 work=$SCRATCH/busybox-$1 deb
    ensure_arch "$arch"
    apt_update
    rm -rf "$work"; mkdir -p "$work/debs"; chown _apt "$work/debs" 2>/dev/null || true
    log "apt-get download busybox-static:$arch"
    (cd "$work/debs" && run_logged "$LOG_DIR/apt.log" apt-get -q download "busybox-static:$arch")
    for deb in "$work/debs/"*.deb; do dpkg -x "$deb" "$work/root"; done
    install -D -m 0755 "$work/root/bin/busybox" "$BUSYBOX_DIR/linux/$arch/bin/busybox"
    rm -rf "$work"
}
for arch in amd64 arm64; do
    [[ -x $BUSYBOX_DIR/linux/$arch/bin/busybox ]] || fetch_busybox "$arch"
done

# ===================================================================== 4. QEMU binfmt
# Before dockerd starts: its builder lists the emulated platforms it sees at start.
BINFMT=/proc/sys/fs/binfmt_misc
mountpoint -q "$BINFMT" || mount -t binfmt_misc binfmt_misc "$BINFMT"
[[ -e $BINFMT/qemu-aarch64 ]] || update-binfmts --enable >/dev/null
[[ $(head -n1 "$BINFMT/status") == enabled ]] || echo 1 >"$BINFMT/status"
for entry in "$BINFMT"/qemu-*; do
    # An entry switched off with `echo 0 > ...` stays registered but disabled, and
    # update-binfmts does not turn it back on.
    if [[ -e $entry && $(head -n1 "$entry") == disabled ]]; then
        log "re-enabling ${entry##*/}"
        echo 1 >"$entry"
    fi
done
[[ $(head -n1 "$BINFMT/qemu-aarch64" 2>/dev/null) == enabled ]] ||
    die "$BINFMT/qemu-aarch64 is not enabled: arm64 RUN steps would fail with 'exec format error'"
# Cheapest end-to-end proof: the kernel runs an arm64 binary through QEMU right now.
[[ $("$BUSYBOX_DIR/linux/arm64/bin/busybox" uname -m 2>/dev/null || true) == aarch64 ]] ||
    die "the staged arm64 busybox does not run through QEMU (binfmt)"
grep -q '^flags:.*F' "$BINFMT/qemu-aarch64" ||
    die "qemu-aarch64 lacks the F (fix-binary) flag: the emulator would not be found inside build containers"

# ============================================================ 5. containerd + dockerd
DAEMON_JSON='{"features":{"containerd-snapshotter":true}}'
restart_dockerd=0
if [[ ! -f /etc/docker/daemon.json || $(</etc/docker/daemon.json) != "$DAEMON_JSON" ]]; then
    mkdir -p /etc/docker
    echo "$DAEMON_JSON" >/etc/docker/daemon.json
    restart_dockerd=1
fi

# ctr would otherwise wait ~10 s for a socket that is not there.
containerd_ok() { [[ -S $CONTAINERD_SOCK ]] && ctr --address "$CONTAINERD_SOCK" --connect-timeout 2s version; }
if ! containerd_ok >/dev/null 2>&1; then
    log "starting containerd"
    start_daemon containerd containerd
    echo "$DAEMON_PID" >"$RUN_DIR/containerd.pid"
    wait_daemon containerd 30 containerd_ok
fi

dockerd_ok() {
    [[ -S $DOCKER_SOCK ]] && timeout 10 docker version -f '{{.Server.Version}}' 2>/dev/null | grep -q "^$DOCKERD_VERSION"
}
if ((restart_dockerd)) && dockerd_ok; then
    log "daemon.json changed: restarting dockerd"
    "$REPO_ROOT/.ci/stop-engine.sh" dockerd
fi
if ! dockerd_ok; then
    # A dockerd of ours that is alive but unhealthy: replace it.
    pid_alive dockerd dockerd && "$REPO_ROOT/.ci/stop-engine.sh" dockerd
    # dockerd writes its own pid file (where stop-engine.sh looks) and refuses to
    # start if an old one names a live process, so never pre-write or leave a stale one.
    rm -f "$RUN_DIR/dockerd.pid"
    log "starting dockerd $DOCKERD_VERSION"
    start_daemon dockerd dockerd --containerd="$CONTAINERD_SOCK" --pidfile="$RUN_DIR/dockerd.pid"
    wait_daemon dockerd 60 dockerd_ok
fi
docker info >/dev/null 2>&1 || die "'docker info' fails"

# ======================================================================== 6. registry
registry_ok() { curl -fsS -m 2 "http://$REGISTRY_ADDR/v2/"; }
# In-memory storage: distribution 2.8's filesystem driver writes tag links non-atomically,
# and buildx's concurrent HEAD requests during a push then read a half-written link and get
# a 500 ("invalid checksum digest format"). The tests' images are small and short-lived.
registry_config=$(cat <<EOF
version: 0.1
log:
  level: warn            # keep errors visible; the access log would drown them
  accesslog:
    disabled: true
storage:
  inmemory: {}
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
)
if registry_ok >/dev/null 2>&1 && [[ "$(cat "$REGISTRY_ROOT/config.yml" 2>/dev/null)" != "$registry_config" ]]; then
    log "registry configuration changed: restarting it"
    "$REPO_ROOT/.ci/stop-engine.sh" registry
fi
if ! registry_ok >/dev/null 2>&1; then
    mkdir -p "$REGISTRY_ROOT"
    printf '%s\n' "$registry_config" >"$REGISTRY_ROOT/config.yml"
    log "starting registry on $REGISTRY_ADDR"
    start_daemon registry docker-registry serve "$REGISTRY_ROOT/config.yml"
    echo "$DAEMON_PID" >"$RUN_DIR/registry.pid"
    wait_daemon registry 30 registry_ok
fi

# =================================================== 7. busybox into the example repo
# The example monorepo's base image COPYs rootfs/linux/${TARGETARCH}/bin/busybox
# (the folder is gitignored).
"$REPO_ROOT/scripts/stage-busybox.sh" "$REPO_ROOT/examples/monorepo/images/base/rootfs"

# ====================================================================== 8. self-check
if [[ ${BUILDGRAPH_SKIP_SELFCHECK:-0} != 1 ]]; then
    log "self-check: two-platform build, push, inspect, bake --print"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$REPO_ROOT/scripts/stage-busybox.sh" "$tmp/rootfs"
    cat >"$tmp/Dockerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
COPY rootfs/linux/${TARGETARCH}/bin/busybox /bin/busybox
RUN ["/bin/busybox","--install","-s","/bin"]
RUN uname -m > /arch
EOF
    image=localhost:5000/selfcheck:latest
    platforms=linux/amd64,linux/arm64
    run_logged "$LOG_DIR/selfcheck.log" \
        docker buildx build --builder default --platform "$platforms" -t "$image" --push "$tmp"
    inspect=$(docker buildx imagetools inspect "$image") || die "imagetools inspect $image failed"
    for p in linux/amd64 linux/arm64; do
        grep -Eq "Platform: +$p\$" <<<"$inspect" || die "$image has no $p manifest:"$'\n'"$inspect"
    done
    # Same build (cached) exported locally: proves the arm64 RUN really ran under QEMU.
    run_logged "$LOG_DIR/selfcheck.log" \
        docker buildx build --builder default --platform "$platforms" -o "type=local,dest=$tmp/out" "$tmp"
    [[ $(<"$tmp/out/linux_amd64/arch") == x86_64 ]] || die "amd64 RUN reported '$(<"$tmp/out/linux_amd64/arch")'"
    [[ $(<"$tmp/out/linux_arm64/arch") == aarch64 ]] || die "arm64 RUN reported '$(<"$tmp/out/linux_arm64/arch")'"
    cat >"$tmp/docker-bake.json" <<EOF
{"target": {"selfcheck": {"context": ".", "platforms": ["linux/amd64", "linux/arm64"],
                          "tags": ["$image"]}}}
EOF
    printed=$(cd "$tmp" && docker buildx bake --builder default -f docker-bake.json --print selfcheck 2>&1) ||
        die "docker buildx bake --print failed:"$'\n'"$printed"
    grep -q '"linux/arm64"' <<<"$printed" || die "unexpected bake --print output:"$'\n'"$printed"
    printed=$(cd "$tmp" && DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG docker buildx bake --builder default -f docker-bake.json --print selfcheck 2>&1) ||
        die "buildx $OLDEST_BUILDX: docker buildx bake --print failed:"$'\n'"$printed"
    # The current buildx builds a context outside the folder bake runs in only when given
    # exactly that filesystem entitlement (what `buildgraph build` passes).
    mkdir -p "$tmp/project"
    cat >"$tmp/project/docker-bake.json" <<EOF
{"target": {"selfcheck": {"context": "..", "platforms": ["linux/amd64"], "output": ["type=cacheonly"]}}}
EOF
    run_logged "$LOG_DIR/selfcheck.log" \
        bash -c 'cd "$1/project" && docker buildx bake --builder default -f docker-bake.json --allow "fs.read=$1" --progress plain selfcheck' _ "$tmp"
fi

# ============================================================================ summary
builder=$(docker buildx inspect default)
binfmt_line() { printf '%s %s (%s)' "$1" "$(head -n1 "$BINFMT/$1")" "$(sed -n 's/^flags: *//p' "$BINFMT/$1")"; }
cat <<EOF

buildgraph engine ready (${SECONDS}s)
  docker client : $(docker version -f '{{.Client.Version}}')
  dockerd       : $(docker version -f '{{.Server.Version}}') (containerd $(containerd --version | awk '{print $3}'), snapshotter: $(docker info -f '{{.Driver}}'))
  buildx        : $(docker buildx version | awk '{print $2}'); oldest leg: $(DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG docker buildx version | awk '{print $2}') (DOCKER_CONFIG=$OLDEST_DOCKER_CONFIG)
  builder       : default, driver $(awk '/^Driver:/{print $2}' <<<"$builder")
  platforms     : $(awk -F': *' '/^Platforms:/{print $2}' <<<"$builder")
  binfmt        : $(binfmt_line qemu-aarch64); $(find "$BINFMT" -name 'qemu-*' | wc -l) qemu entries
  registry      : http://$REGISTRY_ADDR ($(docker-registry --version 2>/dev/null | awk '{print $3}'), in-memory storage)
  busybox       : $BUSYBOX_DIR/linux/{amd64,arm64}/bin/busybox
  pids / logs   : $RUN_DIR/*.pid, $LOG_DIR/*.log
EOF
