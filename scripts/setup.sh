#!/usr/bin/env bash
# One-command setup for tuner, run as root. Idempotent: every step checks before it acts.
#   - installs from Debian what is missing: bpftool >= 7.2 (autoattach; bookworm-backports on Debian 12),
#     bpftrace, clang/llvm + libbpf-dev (to rebuild bpf/*.bpf.o), linux-perf (benchmarks),
#     qemu-system-x86, busybox-static, cpio and stress-ng for the VM kernel matrix (npm run test:vm);
#     fio is NOT needed: tests bring their own workloads;
#   - prometheus and promtool (agent metrics tests), installed with no service left running or enabled;
#   - mounts bpffs and tracefs when they are not mounted;
#   - runs `npm ci` and the TypeScript build.
# Flags: --no-npm skips npm ci and the build (for machines that only run the CLI from a tarball).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
run_npm=1
for a in "$@"; do
  case "$a" in
    --no-npm) run_npm=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown flag '$a' (expected --no-npm or --help)" >&2; exit 2 ;;
  esac
done

log() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (try: sudo scripts/setup.sh)" >&2
  exit 1
fi

# bpftool version as "MAJOR MINOR", or empty when missing.
bpftool_version() {
  command -v bpftool >/dev/null 2>&1 || return 0
  bpftool version 2>/dev/null | sed -n 's/^bpftool v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n 1
}

bpftool_ok() {
  local v; v=$(bpftool_version)
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 7 ] || { [ "$1" -eq 7 ] && [ "$2" -ge 2 ]; }
}

os_codename() { . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}"; }

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
}

apt_install() {
  apt_update
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian 12 ships bpftool 7.1 (no autoattach): add bookworm-backports, reusing the mirror of the
# machine's own Debian source so no new host is introduced.
ensure_backports() {
  local list=/etc/apt/sources.list.d/tuner-backports.sources
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  local uri=""
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
        | grep -v -e security -e '^$' | grep -i debian | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '{print $2}' | grep -v security | grep -i debian | head -n 1 || true)
  fi
  if [ -z "$uri" ]; then
    echo "setup.sh: found no Debian mirror in /etc/apt/sources.list{,.d}: add bookworm-backports by hand" >&2
    exit 1
  fi
  log "adding bookworm-backports from the existing mirror"
  cat >"$list" <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_updated=0
}

# 1. Packages.
if ! bpftool_ok; then
  if [ "$(os_codename)" = bookworm ]; then
    ensure_backports
    apt_update
    log "installing bpftool from bookworm-backports"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports bpftool >/dev/null
  else
    apt_install bpftool
  fi
  bpftool_ok || { echo "setup.sh: bpftool is still older than 7.2 ($(bpftool_version))" >&2; exit 1; }
fi

missing=()
command -v bpftrace >/dev/null 2>&1 || missing+=(bpftrace)
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v llvm-strip >/dev/null 2>&1 || missing+=(llvm)
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
command -v stdbuf >/dev/null 2>&1 || missing+=(coreutils)
command -v losetup >/dev/null 2>&1 || missing+=(mount)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v migratepages >/dev/null 2>&1 || missing+=(numactl)
# The VM kernel matrix (npm run test:vm): qemu, the guest's busybox and initramfs tools, and the
# workload tools copied into the guest.
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v stress-ng >/dev/null 2>&1 || missing+=(stress-ng)
command -v chromium >/dev/null 2>&1 || missing+=(chromium) # compare --html is tested in a real headless browser
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# Prometheus and promtool, for the agent's metrics tests (tests start their own prometheus on
# loopback). apt starts and enables a package's service at install: a policy-rc.d that denies every
# start covers the install (an existing one is kept as it is), and the service is disabled after it,
# so the machine is left with no prometheus running or enabled.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# tuner setup: no service starts while packages install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  apt_install prometheus || { [ "$own_policy" -eq 1 ] && rm -f "$policy"; exit 1; }
  [ "$own_policy" -eq 1 ] && rm -f "$policy"
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable prometheus >/dev/null 2>&1 || true
    systemctl stop prometheus >/dev/null 2>&1 || true
  fi
fi

# 2. Filesystems.
mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; }
if ! mounted /sys/fs/bpf; then
  log "mounting bpffs on /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf
fi
if ! mounted /sys/kernel/tracing; then
  log "mounting tracefs on /sys/kernel/tracing"
  mount -t tracefs tracefs /sys/kernel/tracing
fi
if ! mounted /sys/kernel/debug && [ -d /sys/kernel/debug ]; then
  # bpftrace looks for tracepoint formats under debugfs on some versions.
  log "mounting debugfs on /sys/kernel/debug"
  mount -t debugfs debugfs /sys/kernel/debug || true
fi

# 3. Node dependencies and build.
if [ "$run_npm" -eq 1 ]; then
  cd "$here"
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  log "npm run build"
  npm run build --silent
fi

log "done: bpftool $(bpftool_version | tr ' ' .), $(bpftrace --version 2>/dev/null)"
