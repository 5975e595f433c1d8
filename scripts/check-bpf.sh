#!/usr/bin/env bash
# Fails when a committed bpf/*.bpf.o is stale against its sources: rebuilds
# every object in a scratch copy of bpf/ and compares byte for byte (the
# build is reproducible: no DWARF, no absolute paths). Run by `npm run
# check:bpf` and by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/bpf" "$scratch/bpf"
rm -f "$scratch"/bpf/*.bpf.o
make -s -C "$scratch/bpf" >/dev/null
status=0
for built in "$scratch"/bpf/*.bpf.o; do
  name=$(basename "$built")
  if [ ! -f "$here/bpf/$name" ]; then
    echo "check-bpf: bpf/$name is not committed (run npm run build:bpf and commit it)" >&2
    status=1
  elif ! cmp -s "$built" "$here/bpf/$name"; then
    echo "check-bpf: bpf/$name is stale against its sources (run npm run build:bpf and commit it)" >&2
    status=1
  fi
done
for committed in "$here"/bpf/*.bpf.o; do
  name=$(basename "$committed")
  [ -f "$scratch/bpf/$name" ] || { echo "check-bpf: bpf/$name has no source" >&2; status=1; }
done
[ $status -eq 0 ] && echo "check-bpf: every object matches its sources"
exit $status
