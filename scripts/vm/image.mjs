// The guest's initramfs, built from a checkout: busybox-static, this host's node, bpftool, bpftrace,
// stress-ng and numactl tools with the libraries ldd lists, and the built project (dist, bpf objects,
// recipes, probes, the tests with their compiled workloads and the node_modules vitest needs).
import { $, fs, path } from 'zx';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Host programs copied into the guest (busybox provides the rest of the shell tools). */
const TOOLS = ['node', 'bpftool', 'bpftrace', 'stress-ng', 'numactl', 'migratepages', 'taskset', 'setpriv', 'stdbuf', 'getconf', 'losetup'];

/** Project paths the guest needs, relative to the project root; missing ones are skipped. */
const PROJECT = [
  'package.json',
  'vitest.config.ts',
  'tsconfig.json',
  'dist',
  'bpf',
  'recipes',
  'probes',
  'src',
  'test',
  'node_modules',
  '.cache/workloads',
  // The effect suite's workloads, built on the host (the guest has no compiler): for running it in a guest.
  '.cache/bench/effect',
];

async function which(tool) {
  const r = await $({ nothrow: true })`which ${tool}`;
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** The shared libraries `ldd` lists for a binary (absolute paths). */
async function libraries(bin) {
  const r = await $({ nothrow: true })`ldd ${bin}`;
  if (r.exitCode !== 0) return [];
  return [...r.stdout.matchAll(/(\/\S+)/g)].map((m) => m[1]);
}

/** The UAPI header directories bpftrace needs (linux-libc-dev's linux/, asm-generic/ and the arch's asm/). */
async function uapiHeaders() {
  const multiarch = (await $({ nothrow: true })`gcc -dumpmachine`).stdout.trim() || 'x86_64-linux-gnu';
  const dirs = ['/usr/include/linux', '/usr/include/asm-generic', `/usr/include/${multiarch}/asm`];
  const missing = [];
  for (const d of dirs) if (!(await fs.pathExists(d))) missing.push(d);
  if (missing.length) throw new Error(`${missing.join(', ')} missing: install linux-libc-dev (bpftrace in the guest needs it)`);
  return dirs;
}

async function copyFile(root, file) {
  const dest = path.join(root, file);
  if (await fs.pathExists(dest)) return;
  await fs.mkdirp(path.dirname(dest));
  await fs.copy(await fs.realpath(file), dest, { dereference: true });
}

/** Compile the C workloads of the tests, as the tests would (they find them up to date in the guest). */
async function buildWorkloads(project) {
  const dir = path.join(project, 'test', 'workloads');
  if (!(await fs.pathExists(dir))) return;
  const out = path.join(project, '.cache', 'workloads');
  await fs.mkdirp(out);
  for (const f of await fs.readdir(dir)) {
    if (!f.endsWith('.c')) continue;
    const bin = path.join(out, f.slice(0, -2));
    const src = path.join(dir, f);
    const fresh = (await fs.pathExists(bin)) && (await fs.stat(bin)).mtimeMs >= (await fs.stat(src)).mtimeMs;
    if (!fresh) await $`cc -O2 -pthread -Wall -o ${bin} ${src}`;
  }
}

/**
 * Build the base image of `project` into `out` (gzip'ed newc cpio). The guest init runs /vm/cmd,
 * which a second small archive (see commandImage) provides per boot.
 */
export async function buildImage(project, out, log) {
  if (!(await fs.pathExists(path.join(project, 'dist', 'cli.js')))) {
    throw new Error(`${project}: dist/cli.js is missing: run npm run build there first`);
  }
  await buildWorkloads(project);
  const root = await fs.mkdtemp(path.join(path.dirname(out), 'root-'));
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'etc', 'root', 'vm', 'lib64']) {
      await fs.mkdirp(path.join(root, d));
    }
    const busybox = (await which('busybox')) ?? '/bin/busybox';
    await fs.copy(busybox, path.join(root, 'bin/busybox'));
    for (const applet of (await $`${busybox} --list`).stdout.split('\n').filter(Boolean)) {
      const link = path.join(root, 'bin', applet);
      if (!(await fs.pathExists(link))) await fs.symlink('busybox', link);
    }
    const bins = [];
    for (const t of TOOLS) {
      const p = await which(t);
      if (!p) {
        log(`image: ${t} is not installed on the host; the guest has none`);
        continue;
      }
      bins.push(p);
      await fs.copy(await fs.realpath(p), path.join(root, 'usr/bin', t), { dereference: true });
    }
    // stdbuf preloads this library; bpftrace and node need nothing else beyond ldd's list.
    const extra = ['/usr/libexec/coreutils/libstdbuf.so', '/lib64/ld-linux-x86-64.so.2'];
    for (const b of bins) extra.push(...(await libraries(b)));
    // Native addons of node_modules (vitest's bundler) need their own libraries (librt, libgcc_s).
    const addons = (await $`find ${path.join(project, 'node_modules')} -name *.node -type f`).stdout.split('\n').filter(Boolean);
    for (const a of addons) extra.push(...(await libraries(a)));
    for (const f of new Set(extra)) if (await fs.pathExists(f)) await copyFile(root, f);
    // bpftrace's clang compiles every script against <linux/types.h> (and what it includes): the kernel's UAPI
    // headers, from the host's linux-libc-dev (the guest kernels' UAPI types are the same ones).
    for (const dir of await uapiHeaders()) await fs.copy(dir, path.join(root, dir.slice(1)), { dereference: true });
    // bpftrace and libbpf read the running kernel's BTF from /sys; nothing else of the host is needed.
    await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await fs.writeFile(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
    await fs.copy(path.join(HERE, 'init.sh'), path.join(root, 'init'));
    await fs.chmod(path.join(root, 'init'), 0o755);
    const proj = path.join(root, 'tuner');
    for (const p of PROJECT) {
      const src = path.join(project, p);
      if (!(await fs.pathExists(src))) continue;
      await fs.copy(src, path.join(proj, p), {
        dereference: false,
        // Caches other than the workloads, and bench results, stay on the host.
        filter: (s) => !s.includes(`${path.sep}.vite${path.sep}`) && !s.endsWith('.tmp'),
        preserveTimestamps: true,
      });
    }
    await $`sh -c ${'cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"'} sh ${root} ${out}`;
  } finally {
    await fs.remove(root);
  }
  return out;
}

/** A small archive holding /vm/cmd, /vm/env and the kernel's modules (/vm/modules), appended to the base image for one boot. */
export async function commandImage(dir, command, env, out, modules = []) {
  const root = await fs.mkdtemp(path.join(dir, 'cmd-'));
  try {
    await fs.mkdirp(path.join(root, 'vm', 'modules'));
    for (const m of modules) await fs.copy(m, path.join(root, 'vm', 'modules', path.basename(m)));
    await fs.writeFile(path.join(root, 'vm/cmd'), `${command}\n`);
    const lines = Object.entries(env).map(([k, v]) => `export ${k}='${String(v).replaceAll("'", "'\\''")}'`);
    await fs.writeFile(path.join(root, 'vm/env'), lines.join('\n') + '\n');
    await $`sh -c ${'cd "$1" && find vm | cpio -o -H newc --quiet | gzip -1 > "$2"'} sh ${root} ${out}`;
  } finally {
    await fs.remove(root);
  }
  return out;
}
