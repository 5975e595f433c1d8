#!/usr/bin/env node
// The VM kernel matrix: `npm run test:vm [-- --kernel 6.1] [--project DIR] [--shell CMD]`.
// Boots each kernel of the matrix under qemu TCG (2 vCPUs, two NUMA nodes, pure cgroup v2) with an
// initramfs built from the project's checkout, runs the kernel's test set (or one command) inside,
// and prints the runner's summary line per kernel. Exit 1 when a test failed or a kernel did not boot,
// 2 on a bad flag. Loads BPF and runs workloads for minutes: run it under the machine lock.
import { $, fs, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KERNELS, kernelById, kernelImage, UsageError } from './kernels.mjs';
import { buildImage, commandImage } from './image.mjs';
import { boot } from './boot.mjs';
import { failureLines, kernelFaults, summaryLines, SETS } from './sets.mjs';
import { writeKernelsDoc, probeCommand, parseProbe } from './report.mjs';

$.verbose = false;
const HARNESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(HARNESS, '.cache', 'vm');

const USAGE = `usage: npm run test:vm -- [--kernel ID[,ID...]|all|host] [--project DIR] [--shell CMD] [--set NAME]
                     [--docs FILE] [--timeout MIN] [--verbose]
  --kernel   kernels to boot: ${KERNELS.map((k) => k.id).join(', ')}, all (default), or host (runs the set here)
  --project  the checkout whose build is booted (default: this one); it must be built (npm run build)
  --shell    boot one kernel and run CMD in the project's directory inside (sh -c); exit with its code
  --set      the test set to run (default: matrix; one of ${Object.keys(SETS).join(', ')})
  --docs     write the supported-kernels table (markdown) from this run to FILE
  --timeout  minutes one boot may take before it is killed (default: 25, 5 with --shell)
  --verbose  stream the guest's console (always saved in .cache/vm/logs/<kernel>.log)`;

function parse(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kernel: { type: 'string', default: 'all' },
        project: { type: 'string' },
        shell: { type: 'string' },
        set: { type: 'string', default: 'matrix' },
        docs: { type: 'string' },
        timeout: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(e.message);
  }
  if (values.help) return { help: true };
  const ids = values.kernel === 'all' ? KERNELS.map((k) => k.id) : values.kernel.split(',');
  const kernels = ids.map((id) => (id === 'host' ? { id: 'host' } : kernelById(id)));
  if (values.shell !== undefined && kernels.length !== 1)
    throw new UsageError(`--shell boots one kernel: give --kernel ID (one of ${KERNELS.map((k) => k.id).join(', ')})`);
  if (values.shell !== undefined && kernels[0].id === 'host') throw new UsageError('--shell needs a VM kernel, not host');
  if (!SETS[values.set]) throw new UsageError(`--set: expected one of ${Object.keys(SETS).join(', ')}, got "${values.set}"`);
  const timeout = values.timeout === undefined ? (values.shell !== undefined ? 5 : 25) : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout: expected minutes (a positive number), got "${values.timeout}"`);
  const project = path.resolve(values.project ?? HARNESS);
  return {
    kernels,
    project,
    shell: values.shell,
    set: values.set,
    docs: values.docs,
    timeoutMs: timeout * 60_000,
    verbose: values.verbose,
  };
}

const log = (msg) => console.error(`test:vm: ${msg}`);

/** Boot kernel `k` with the base image plus `command`; returns the boot result. */
async function run(k, base, command, opts, env = {}) {
  const { image, pkg, modules } = await kernelImage(k, CACHE, log);
  const work = path.join(CACHE, 'work');
  await fs.mkdirp(path.join(CACHE, 'logs'));
  const cmd = await commandImage(work, command, env, path.join(work, `cmd-${k.id}.cpio.gz`), modules);
  const initrd = path.join(work, `initrd-${k.id}.cpio.gz`);
  // Concatenated gzip'ed cpio archives: the kernel unpacks both into one root.
  await $`sh -c ${'cat "$1" "$2" > "$3"'} sh ${base} ${cmd} ${initrd}`;
  const logFile = path.join(CACHE, 'logs', `${k.id}.log`);
  const started = Date.now();
  const bootOpts = { image, initrd, timeoutMs: opts.timeoutMs, initTimeoutMs: 180_000, logFile, onLine: opts.onLine };
  let r = await boot(bootOpts, 3, (m) => log(`${k.id}: ${m}`));
  // The guest kernel itself died (under TCG: an int3 oops in __schedule after tracepoint patching, or a
  // fault in cmpxchg16b paths), or it reported a fault it survived and the command failed (the faulting
  // task died or hung, a test with it): the run proves nothing either way. Run it once more and say so.
  const crashes = [];
  const faultOf = (res) => res.crash ?? (res.reachedInit && res.exitCode !== 0 ? kernelFaults(res.lines)[0] : undefined);
  const fault = faultOf(r);
  if (fault) {
    crashes.push(fault);
    const what = r.crash ? 'crashed' : 'faulted and the command failed';
    log(`${k.id}: the guest kernel ${what} (${fault.trim()}); running it once more (console of the fault: ${logFile}.crash)`);
    await fs.copy(logFile, `${logFile}.crash`);
    r = await boot(bootOpts, 3, (m) => log(`${k.id}: ${m}`));
    const again = faultOf(r);
    if (again) crashes.push(again);
  }
  await fs.remove(initrd);
  return { ...r, crashes, pkg, seconds: (Date.now() - started) / 1000, logFile };
}

async function main() {
  const opts = parse(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  await fs.mkdirp(path.join(CACHE, 'work'));
  const vms = opts.kernels.filter((k) => k.id !== 'host');
  let base;
  if (vms.length) {
    const t0 = Date.now();
    base = await buildImage(opts.project, path.join(CACHE, 'work', `base-${process.pid}.cpio.gz`), log);
    log(
      `image of ${opts.project} built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${((await fs.stat(base)).size / 1e6).toFixed(0)} MB)`,
    );
  }
  try {
    if (opts.shell !== undefined) {
      const k = opts.kernels[0];
      let inside = false;
      const r = await run(k, base, opts.shell, {
        ...opts,
        onLine: (line) => {
          if (line.startsWith('=== VM-INIT')) inside = true;
          else if (line.startsWith('=== VM-EXIT')) inside = false;
          if (inside || opts.verbose) console.log(line);
        },
      });
      if (!r.reachedInit) {
        log(`${k.id}: the kernel did not boot (${r.attempts} tries); console in ${r.logFile}`);
        return 1;
      }
      if (r.exitCode === undefined) {
        log(`${k.id}: the command did not finish${r.timedOut ? ' before the timeout' : ''}; console in ${r.logFile}`);
        return 1;
      }
      return r.exitCode;
    }
    const results = [];
    for (const k of opts.kernels) {
      const set = SETS[opts.set](k.id);
      if (k.id === 'host') {
        const t0 = Date.now();
        const r = await $({
          cwd: opts.project,
          nothrow: true,
          env: { ...process.env, ...set.env },
        })`sh -c ${`${probeCommand()}; ${set.command}`}`;
        const lines = (r.stdout + r.stderr).split('\n');
        if (opts.verbose) console.log(lines.join('\n'));
        results.push({ k, ok: r.exitCode === 0, booted: true, lines, seconds: (Date.now() - t0) / 1000, set });
        continue;
      }
      log(`${k.id}: booting (${set.describe})`);
      const r = await run(
        k,
        base,
        `${probeCommand()}; ${set.command}`,
        { ...opts, onLine: opts.verbose ? (l) => console.log(`[${k.id}] ${l}`) : undefined },
        set.env,
      );
      results.push({
        k,
        ok: r.reachedInit && r.exitCode === 0,
        booted: r.reachedInit,
        exitCode: r.exitCode,
        crashes: r.crashes,
        lines: r.lines,
        seconds: r.seconds,
        pkg: r.pkg,
        set,
        logFile: r.logFile,
      });
    }
    console.log('');
    for (const r of results) {
      const state = !r.booted ? 'DID NOT BOOT' : r.ok ? 'ok' : r.exitCode === undefined && r.k.id !== 'host' ? 'GUEST DIED' : 'FAILED';
      console.log(`${r.k.id.padEnd(5)} ${state.padEnd(14)} ${r.seconds.toFixed(0).padStart(5)} s  ${r.pkg ?? 'host kernel'}`);
      for (const s of summaryLines(r.lines)) console.log(`      ${s}`);
      if (!r.ok) for (const s of failureLines(r.lines)) console.log(`      ${s}`);
      for (const [i, c] of (r.crashes ?? []).entries())
        console.log(`      guest kernel fault (emulation)${i === 0 ? ', run once more' : ', again in that run'}: ${c.trim()}`);
      // Faults the guest survived in the run that counts (a failed run's are its likely cause).
      if (r.lines && r.k.id !== 'host') for (const f of kernelFaults(r.lines)) console.log(`      guest kernel reported: ${f}`);
      for (const x of r.set.excluded) console.log(`      not run here: ${x.what}: ${x.reason}`);
      if (!r.ok && r.logFile) console.log(`      console: ${r.logFile}`);
    }
    if (opts.docs) {
      const rows = results.map((r) => ({ ...r, probe: parseProbe(r.lines) }));
      await writeKernelsDoc(path.resolve(opts.docs), rows, [...KERNELS.map((k) => k.id), 'host']);
      log(`wrote ${opts.docs}`);
    }
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    if (base) await fs.remove(base);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`test:vm: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`test:vm: ${e.stack ?? e}`);
      process.exitCode = 1;
    }
  },
);
