#!/bin/bash
# Run deploy/systemd/tuner.service under a real systemd, on a host whose PID 1 is not systemd: boot a
# container (systemd-nspawn, package systemd-container) whose root is a tmpfs and whose /usr is the
# host's, with the unit enabled, and check that systemd starts it (Type=notify: active only after the
# agent's READY=1), that /readyz and /healthz answer, that the metrics are served, that a stop removes
# every pin, and that the container goes away with everything it used.
#
#   sudo deploy/systemd/boot-test.sh [PORT] [SIGNALS]   (from a built checkout: npm ci && npm run build)
#
# SIGNALS: the config's `signals` (default: the agent's own default, sched, futex and psi, with the
# audit-mode noisy-neighbor recipe); `psi` alone loads no BPF program and no recipe.
#
# The unit runs /usr/bin/tuner; here /usr is the host's, read-only, so one drop-in points ExecStart at
# the checkout (bound read-only at /opt/tuner) instead. Everything else is the unit as shipped. The
# container gets its own bpffs (a fresh mount, removed at the end), its own cgroup namespace, and the
# capabilities and system calls the unit itself allows. Exit 0 when every check passes.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${1:-19477}
SIGNALS=${2:-}
WORK=$(mktemp -d /tmp/tuner-boot-test.XXXXXX)
MACHINE=tuner-boot-test-$$
NSPID=
FAILED=0

fail() {
  echo "FAIL: $*"
  FAILED=1
}

cleanup() {
  if [ -n "$NSPID" ]; then
    kill -TERM "$NSPID" 2>/dev/null # nspawn powers the container off on SIGTERM
    wait "$NSPID" 2>/dev/null
  fi
  umount "$WORK/bpf" 2>/dev/null
  umount "$WORK/root/usr" 2>/dev/null
  # Never remove a tree with the host's /usr still bound into it.
  if mountpoint -q "$WORK/root/usr" || mountpoint -q "$WORK/bpf"; then
    echo "left $WORK in place: still mounted"
  else
    rm -rf --one-file-system "$WORK"
  fi
  # nspawn's own state directory, when this run made it.
  [ -n "${MADE_RUN_DIR:-}" ] && rm -rf /run/systemd/nspawn
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v systemd-nspawn >/dev/null || { echo "systemd-nspawn is missing (apt-get install systemd-container)"; exit 2; }
[ -x "$REPO/dist/cli.js" ] || { echo "$REPO/dist/cli.js is missing: npm ci && npm run build first"; exit 2; }
[ -d /run/systemd/nspawn ] || MADE_RUN_DIR=1

mkdir -p "$WORK/bpf" "$WORK/root/usr" "$WORK/etc-tuner/recipes" "$WORK/dropin" "$WORK/wants"
mount -t bpf bpf "$WORK/bpf"
mount --bind -o ro /usr "$WORK/root/usr"
if [ -n "$SIGNALS" ]; then
  printf 'signals: [%s]\nmetrics:\n  listen: 127.0.0.1:%s\n' "$SIGNALS" "$PORT" >"$WORK/etc-tuner/agent.yaml"
else
  printf 'metrics:\n  listen: 127.0.0.1:%s\n' "$PORT" >"$WORK/etc-tuner/agent.yaml"
  cp "$REPO/recipes/noisy-neighbor.yaml" "$WORK/etc-tuner/recipes/"
fi
chmod -R go-w "$WORK/etc-tuner"
printf '[Service]\nExecStart=\nExecStart=/usr/bin/node /opt/tuner/dist/cli.js agent --config /etc/tuner/agent.yaml\n' \
  >"$WORK/dropin/exec.conf"
ln -s /etc/systemd/system/tuner.service "$WORK/wants/tuner.service"

# --register=no --keep-unit: no machined or D-Bus on a host without systemd.
systemd-nspawn --quiet --register=no --keep-unit --machine="$MACHINE" -D "$WORK/root" --volatile=yes -b \
  --capability=CAP_BPF,CAP_PERFMON,CAP_SYS_ADMIN,CAP_SYS_NICE,CAP_SYS_PTRACE \
  --system-call-filter='bpf perf_event_open' \
  --bind="$WORK/bpf:/sys/fs/bpf" \
  --bind-ro="$REPO:/opt/tuner" \
  --bind-ro="$WORK/etc-tuner:/etc/tuner" \
  --bind-ro="$REPO/deploy/systemd/tuner.service:/etc/systemd/system/tuner.service" \
  --bind-ro="$WORK/dropin:/etc/systemd/system/tuner.service.d" \
  --bind-ro="$WORK/wants:/etc/systemd/system/multi-user.target.wants" \
  -- systemd.firstboot=off >"$WORK/console.log" 2>&1 &
NSPID=$!

# The container's PID 1: the descendant of nspawn whose PID in its own namespace is 1.
leader() {
  local p q
  for p in $(ps -e -o pid=); do
    grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null || continue
    q=$p
    while [ -n "$q" ] && [ "$q" -gt 1 ]; do
      q=$(ps -o ppid= -p "$q" | tr -d ' ')
      [ "$q" = "$NSPID" ] && { echo "$p"; return; }
    done
  done
}
LEADER=
for _ in $(seq 60); do
  LEADER=$(leader)
  [ -n "$LEADER" ] && break
  sleep 0.5
done
[ -n "$LEADER" ] || { fail "the container did not start"; tail -20 "$WORK/console.log"; exit 1; }
inside() { nsenter -t "$LEADER" -a "$@"; }

echo "boot: $(inside timeout 90 systemctl is-system-running --wait 2>&1)"
state=
for i in $(seq 90); do
  state=$(inside systemctl is-active tuner 2>/dev/null)
  [ "$state" = active ] || [ "$state" = failed ] && break
  sleep 1
done
echo "tuner.service: $state after ${i} s"
inside systemctl show tuner -p Type -p ActiveState -p SubState -p NRestarts -p WatchdogUSec -p MainPID
[ "$state" = active ] || fail "tuner.service is $state, not active (Type=notify: READY=1 never came)"
readyz=$(inside curl -s -m 5 -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/readyz")
healthz=$(inside curl -s -m 5 -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/healthz")
series=$(inside curl -s -m 5 "127.0.0.1:$PORT/metrics" | grep -c '^tuner_')
# A fresh bpffs holds maps.debug and progs.debug of its own: the agent's pins are the rest.
pins() { find "$WORK/bpf" -mindepth 1 ! -name '*.debug' | wc -l; }
pins=$(pins)
echo "readyz $readyz, healthz $healthz, $series tuner_ samples, $pins pins while it runs"
[ "$readyz" = 200 ] || fail "/readyz answered $readyz"
[ "$healthz" = 200 ] || fail "/healthz answered $healthz"
[ "$series" -gt 0 ] || fail "no tuner_ metrics"
[ -n "$SIGNALS" ] || [ "$pins" -gt 0 ] || fail "no pins in the container's bpffs while the agent runs"
inside systemctl stop tuner
stopped=$(inside systemctl is-active tuner 2>/dev/null)
pins=$(pins)
echo "after systemctl stop: $stopped, $pins pins"
[ "$stopped" = inactive ] || fail "after stop the unit is $stopped, not inactive (a failed stop or exit code)"
[ "$pins" = 0 ] || fail "$pins pins left after the stop"
inside journalctl -u tuner --no-pager -o cat 2>&1 | grep -E '"event":"(ready|start|stop)|Started|Stopped|Deactivated' | tail -8
[ "$FAILED" = 0 ] && echo "PASS" || { tail -30 "$WORK/console.log"; }
exit "$FAILED"
