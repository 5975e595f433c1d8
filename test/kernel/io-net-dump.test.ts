/**
 * The io and net readers read only what changed (io_dump.bpf.o and
 * net_dump.bpf.o, iterators over the hooks' maps): their counts must be the
 * ones the bpftool path reads of the same requests and sends (two readers
 * side by side, each with its own objects), and the kernel's or the
 * workload's own: /sys/block/DEV/stat, the bytes a child sent. An idle
 * interval writes nothing, and no bpftool process stays after set-up. Where
 * the kernel refuses the iterators (before 5.17) both readers read through
 * bpftool, and the same counts are checked.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { openIoBpf } from '../../src/signals/io/bpf.js';
import { openNetBpf } from '../../src/signals/net/bpf.js';
import { doctor } from '../../src/commands/doctor.js';
import { start, type Running } from '../helpers/workloads.js';
import { makeLoop, type LoopDevice } from '../helpers/loop.js';
import { relErr } from '../helpers/procfs.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';

const running: Running[] = [];
const loops: LoopDevice[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const l of loops.splice(0)) l.detach();
  expect(leftoverPins()).toEqual([]);
});

/** Both ways of reading, side by side: the default (the iterator where the kernel loads it) and bpftool forced. */
async function both<R extends { close(): void }>(open: (bpftool: boolean) => Promise<R>): Promise<[R, R]> {
  const a = await open(false);
  try {
    return [a, await open(true)];
  } catch (err) {
    a.close();
    throw err;
  }
}

/** n processes, each a subshell of its own that sends one 2-byte UDP datagram ("x\n"), then writes its pid to a file (not to our pipe: a socket). */
function datagramProcesses(n: number): Set<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuner-net-dump-'));
  try {
    const file = path.join(dir, 'pids');
    execFileSync('/bin/bash', ['-c', `for i in $(seq ${n}); do (echo x > /dev/udp/127.0.0.1/9; echo $BASHPID >> ${file}); done`], {
      stdio: 'ignore',
    });
    return new Set(readFileSync(file, 'utf8').trim().split('\n').map(Number));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** [pid, bytes sent, send calls] of each of these processes a net read holds, by pid. */
function sentBy(
  d: { procs: Array<{ pid: number; txBytes: number; txCalls: number }> },
  pids: Set<number>,
): Array<[number, number, number]> {
  return d.procs
    .filter((p) => pids.has(p.pid))
    .map((p): [number, number, number] => [p.pid, p.txBytes, p.txCalls])
    .sort((x, y) => x[0] - y[0]);
}

/** Every one of the n processes read once with its one datagram (2 bytes, 1 call), as the bpftool path read them. */
function expectEverySender(ma: Array<[number, number, number]>, mb: Array<[number, number, number]>, n: number): void {
  expect(ma).toHaveLength(n);
  expect(ma.filter(([, tx, calls]) => tx !== 2 || calls !== 1)).toEqual([]);
  expect(ma).toEqual(mb);
}

describe.skipIf(skipKernel)('io dump iterator', () => {
  it('reads the requests the bpftool path reads, and /sys/block/DEV/stat counts; nothing when idle', async () => {
    const loop = makeLoop();
    loops.push(loop);
    const dr = await start('dread', [loop.dev, 1.5, 4, 'rand']);
    running.push(dr);
    const [it, bt] = await both((bpftool) => openIoBpf({ pids: [dr.pid] }, bpftool ? { mapReads: 'bpftool' } : {}));
    try {
      console.log(`io dump: reads by ${it.readsBy}${it.warnings.length ? ` (${it.warnings.join('; ')})` : ''}`);
      expect(bt.readsBy).toBe('bpftool');
      if (it.readsBy === 'iterator') expect(it.helperPids()).toEqual([]);
      await it.read();
      await bt.read();
      const before = loop.stat();
      dr.send('go');
      await dr.done();
      await sleep(50);
      const [a, b] = [await it.read(), await bt.read()];
      const after = loop.stat();
      const [da, db] = [a.devices.find((x) => x.dev === loop.name)!, b.devices.find((x) => x.dev === loop.name)!];
      expect(da).toBeDefined();
      expect(db).toBeDefined();
      const truth = after.readIos - before.readIos;
      console.log(
        `io dump: ${loop.name} reads ${da.reads} (iterator) ${db.reads} (bpftool) vs /sys/block stat ${truth}; bytes ${da.readBytes} ${db.readBytes} vs ${(after.readSectors - before.readSectors) * 512}`,
      );
      expect(truth).toBeGreaterThan(1000);
      for (const k of ['reads', 'writes', 'others', 'readBytes', 'writeBytes', 'readSeq'] as const)
        expect({ [k]: da[k] }).toEqual({ [k]: db[k] });
      // Each object timestamps the requests itself: the histograms hold the same requests, a slot apart at most.
      const sum = (h: number[]): number => h.reduce((s, x) => s + x, 0);
      expect([sum(da.lat), sum(da.readLat)]).toEqual([sum(db.lat), sum(db.readLat)]);
      expect(sum(da.lat)).toBe(da.reads + da.writes + da.others);
      expect(relErr(da.reads, truth)).toBeLessThan(0.05);
      expect(relErr(da.readBytes, (after.readSectors - before.readSectors) * 512)).toBeLessThan(0.05);
      const [pa, pb] = [a.procs.find((x) => x.pid === dr.pid)!, b.procs.find((x) => x.pid === dr.pid)!];
      expect(pa).toMatchObject({ ios: pb.ios, bytes: pb.bytes, comm: pb.comm, cgroupId: pb.cgroupId });
      expect(pa.ios).toBe(da.reads);
      // Nothing happened since: nothing of the loop device or the process is read.
      const idle = await it.read();
      expect(idle.devices.filter((x) => x.dev === loop.name)).toEqual([]);
      expect(idle.procs.filter((x) => x.pid === dr.pid)).toEqual([]);
    } finally {
      bt.close();
      it.close();
    }
  });
});

describe.skipIf(skipKernel)('net dump iterator', () => {
  it('counts the bytes a child sent and received as the bpftool path does, and its drops', async () => {
    const [it, bt] = await both((bpftool) => openNetBpf({}, bpftool ? { mapReads: 'bpftool' } : {}));
    try {
      console.log(`net dump: reads by ${it.readsBy}; warnings ${it.warnings.join(' | ') || 'none'}`);
      expect(bt.readsBy).toBe('bpftool');
      if (it.readsBy === 'iterator') expect(it.helperPids()).toEqual([]);
      await it.read();
      await bt.read();
      const bytes = 2 * 1024 * 1024;
      // Loopback TCP both ways, and 100 UDP datagrams to a port nobody listens on (dropped: no socket).
      const r = await execa(process.execPath, [
        '-e',
        `const net = require('net'), dgram = require('dgram');
        const srv = net.createServer((s) => s.on('data', () => {}).on('end', () => srv.close()));
        srv.listen(0, '127.0.0.1', () => {
          const c = net.connect(srv.address().port, '127.0.0.1', () => c.end(Buffer.alloc(${bytes}, 1)));
          c.on('close', () => {
            const u = dgram.createSocket('udp4');
            let n = 0;
            const send = () => u.send(Buffer.from('xy'), 9, '127.0.0.1', () => (++n < 100 ? send() : (u.close(), console.log(process.pid))));
            send();
          });
        });`,
      ]);
      const pid = Number(String(r.stdout).trim());
      await sleep(100);
      const [a, b] = [await it.read(), await bt.read()];
      const [pa, pb] = [a.procs.find((x) => x.pid === pid), b.procs.find((x) => x.pid === pid)];
      console.log(
        `net dump: child ${pid}: iterator ${JSON.stringify(pa)}, bpftool ${JSON.stringify(pb)} (sent ${bytes + 200}, received ${bytes})`,
      );
      expect(pa).toBeDefined();
      expect(pa).toEqual(pb);
      expect(relErr(pa!.txBytes, bytes + 200)).toBeLessThan(0.01);
      expect(relErr(pa!.rxBytes, bytes)).toBeLessThan(0.01);
      const noSocket = (d: typeof a): number => d.drops.filter((x) => /NO_SOCKET|UNKNOWN/.test(x.reason)).reduce((s, x) => s + x.count, 0);
      console.log(`net dump: drops ${JSON.stringify(a.drops)} (iterator), ${JSON.stringify(b.drops)} (bpftool)`);
      expect(noSocket(a)).toBeGreaterThanOrEqual(100);
      expect(noSocket(b)).toBeGreaterThanOrEqual(100);
      // The child is gone: its entry is not written again.
      expect((await it.read()).procs.filter((x) => x.pid === pid)).toEqual([]);
    } finally {
      bt.close();
      it.close();
    }
  });

  it.skipIf(!existsSync('/bin/bash'))(
    'exact bytes of 300 processes changed in one interval (more than a batch), as the bpftool path reads them',
    async () => {
      const [it, bt] = await both((bpftool) => openNetBpf({}, bpftool ? { mapReads: 'bpftool' } : {}));
      try {
        await it.read();
        await bt.read();
        const n = 300;
        const pids = datagramProcesses(n);
        expect(pids.size).toBe(n);
        await sleep(100);
        const [a, b] = [await it.read(), await bt.read()];
        const [ma, mb] = [sentBy(a, pids), sentBy(b, pids)];
        console.log(`net dump: ${ma.length} of ${n} processes read by the ${it.readsBy}, ${ma.reduce((s, x) => s + x[1], 0)} bytes`);
        expectEverySender(ma, mb, n);
        expect(sentBy(await it.read(), pids)).toEqual([]);
      } finally {
        bt.close();
        it.close();
      }
    },
  );
});

describe.skipIf(skipKernel)('map iterators in doctor', () => {
  it('doctor passes the load of io_dump and net_dump exactly where the readers read through them', async () => {
    const io = await openIoBpf({ pids: [process.pid] });
    io.close();
    const net = await openNetBpf({ pids: [process.pid] });
    net.close();
    const report = await doctor({});
    const status = (id: string): string | undefined => report.checks.find((c) => c.id === id)?.status;
    console.log(
      `doctor: io_dump ${status('load:io_dump')} (io reads by ${io.readsBy}), net_dump ${status('load:net_dump')} (net reads by ${net.readsBy})`,
    );
    expect({ io_dump: status('load:io_dump'), net_dump: status('load:net_dump') }).toEqual({
      io_dump: io.readsBy === 'iterator' ? 'pass' : 'warn',
      net_dump: net.readsBy === 'iterator' ? 'pass' : 'warn',
    });
    // A refusal names the loss and that the signal keeps working.
    for (const c of report.checks.filter((x) => /^load:(io|net)_dump$/.test(x.id) && x.status === 'warn'))
      expect(c.fix).toMatch(/working through bpftool/);
  });
});

describe.skipIf(skipKernel)('changed entries beyond one iterator pass', () => {
  // net_dump writes at most 32 changed entries per call, one call per BPF map of the system and one at the end;
  // more than that in an interval ends the pass with `more` set, and the reader runs further passes (up to 8).
  it.skipIf(!existsSync('/bin/bash'))('reads every one of more processes than one pass holds, exactly as the bpftool path', async () => {
    const [it, bt] = await both((bpftool) => openNetBpf({}, bpftool ? { mapReads: 'bpftool' } : {}));
    const maps = async (): Promise<number> => (JSON.parse((await execa('bpftool', ['map', 'list', '-j'])).stdout) as unknown[]).length;
    try {
      await it.read();
      await bt.read();
      const before = await maps();
      const n = 32 * before + 400;
      const pids = datagramProcesses(n);
      expect(pids.size).toBe(n);
      await sleep(100);
      const passCapacity = 32 * ((await maps()) + 1);
      const [a, b] = [await it.read(), await bt.read()];
      const [ma, mb] = [sentBy(a, pids), sentBy(b, pids)];
      console.log(
        `net dump: ${n} processes, one pass holds ${passCapacity} entries at most (${before} maps before), read ${ma.length} by the ${it.readsBy}, ${mb.length} by bpftool`,
      );
      // Where the iterator reads, one pass could not have held them all: the read took more than one.
      if (it.readsBy === 'iterator') expect(n).toBeGreaterThan(passCapacity);
      expectEverySender(ma, mb, n);
      // All of them were written (none is left for the next read).
      expect(sentBy(await it.read(), pids)).toEqual([]);
    } finally {
      bt.close();
      it.close();
    }
  });
});
