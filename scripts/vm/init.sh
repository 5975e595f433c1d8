#!/bin/sh
# The guest's init (busybox sh): mounts what tuner needs, lays out pure cgroup v2 the way systemd does
# (every controller enabled in the root's subtree_control, init itself in a leaf, init.scope), runs
# /vm/cmd from /tuner and powers off. The host reads the markers "=== VM-INIT" and "=== VM-EXIT <rc>".
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up 2>/dev/null
for m in /vm/modules/*.ko; do [ -f "$m" ] && insmod "$m"; done
echo "=== VM-INIT $(cat /proc/sys/kernel/osrelease) nodes=$(ls -d /sys/devices/system/node/node* | wc -l) cgroup=$(cat /sys/fs/cgroup/cgroup.controllers | tr ' ' ,)"
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; done
mkdir -p /sys/fs/cgroup/init.scope && echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
[ -f /vm/env ] && . /vm/env
cd /tuner
sh /vm/cmd
echo "=== VM-EXIT $?"
sync
poweroff -f
