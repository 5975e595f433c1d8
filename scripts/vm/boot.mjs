// One boot of a kernel under qemu TCG: 2 vCPUs, two NUMA nodes (one CPU and half the memory each),
// pure cgroup v2, the serial console on stdout. Returns the guest's exit code of /vm/cmd and its output.
import { fs } from 'zx';
import { spawn } from 'node:child_process';

/** qemu's argv for kernel `image` with initramfs `initrd`. */
export function qemuArgs(image, initrd) {
  return [
    // One host thread for both vCPUs. With a thread per vCPU the guest kernel died of an int3 oops
    // right after tracepoint patching (BPF attach/detach: in __schedule, in the syscall exit path)
    // in 2 of 4 6.12 runs: a vCPU ran a stale translation of code the other had just patched.
    '-accel',
    'tcg,thread=single',
    // Without cx16 the guest kernel avoids its cmpxchg16b paths, which fault now and then under TCG.
    '-cpu',
    'qemu64,-cx16',
    '-smp',
    '2',
    '-m',
    '3000M',
    '-object',
    'memory-backend-ram,id=m0,size=1500M',
    '-object',
    'memory-backend-ram,id=m1,size=1500M',
    '-numa',
    'node,nodeid=0,cpus=0,memdev=m0',
    '-numa',
    'node,nodeid=1,cpus=1,memdev=m1',
    '-kernel',
    image,
    '-initrd',
    initrd,
    // panic=-1: a guest panic ends qemu at once instead of hanging until the timeout.
    '-append',
    'console=ttyS0 quiet psi=1 cgroup_no_v1=all panic=-1',
    '-nographic',
    '-no-reboot',
  ];
}

/**
 * Boot once. `onLine` sees every console line as it comes. Resolves with
 * { reachedInit, exitCode (undefined when the guest never reported one), lines, timedOut }.
 */
export function bootOnce({ image, initrd, timeoutMs, initTimeoutMs, logFile, onLine }) {
  return new Promise((resolve) => {
    // stdin is /dev/null: a qemu in the background otherwise stops on terminal input.
    const q = spawn('qemu-system-x86_64', qemuArgs(image, initrd), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = fs.createWriteStream(logFile);
    const lines = [];
    let buf = '';
    let reachedInit = false;
    let exitCode;
    let timedOut = false;
    const kill = () => {
      timedOut = true;
      q.kill('SIGKILL');
    };
    const total = setTimeout(kill, timeoutMs);
    const initTimer = setTimeout(() => {
      if (!reachedInit) kill();
    }, initTimeoutMs);
    const take = (chunk) => {
      log.write(chunk);
      buf += chunk.toString('utf8').replaceAll('\r', '');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        // Firmware and qemu put terminal escapes on the console: drop them.
        const line = buf.slice(0, nl).replace(/\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])/g, '');
        buf = buf.slice(nl + 1);
        if (line.startsWith('=== VM-INIT')) reachedInit = true;
        const m = /^=== VM-EXIT (\d+)/.exec(line);
        if (m) exitCode = Number(m[1]);
        lines.push(line);
        onLine?.(line);
      }
    };
    q.stdout.on('data', take);
    q.stderr.on('data', take);
    q.on('close', () => {
      clearTimeout(total);
      clearTimeout(initTimer);
      if (buf) lines.push(buf);
      log.end();
      // A guest kernel that died (panic=-1 ends qemu) before the command reported its exit code.
      const crash = exitCode === undefined ? lines.find((l) => /Kernel panic|Oops:|BUG:/.test(l)) : undefined;
      resolve({ reachedInit, exitCode, lines, timedOut, crash });
    });
    // The harness's own SIGINT/SIGTERM must not leave a qemu behind.
    const stop = () => q.kill('SIGKILL');
    process.once('exit', stop);
    q.on('close', () => process.off('exit', stop));
  });
}

/** Boot, retrying (up to `tries` in all) a boot that never reached the guest's init. */
export async function boot(opts, tries = 3, log = () => {}) {
  let r;
  for (let i = 1; i <= tries; i++) {
    r = await bootOnce(opts);
    if (r.reachedInit) return { ...r, attempts: i };
    log(
      `boot ${i}/${tries} never reached init${r.timedOut ? ' (timed out)' : ''}; last console lines:\n  ${r.lines.slice(-5).join('\n  ')}`,
    );
  }
  return { ...r, attempts: tries };
}
