// The kernels of the VM matrix and their cache: Debian's cloud kernels, fetched once with
// `apt-get download` and kept (the vmlinuz only) in .cache/vm/kernels/<id>/ of this checkout.
import { $, fs, path } from 'zx';

/**
 * One entry per kernel. `suite` is the Debian suite whose `linux-image-cloud-amd64` metapackage
 * names the kernel; `privateSources` is set for suites the host's apt does not list (bullseye):
 * apt then runs with its own sources list and state directory under the cache, never the host's.
 */
export const KERNELS = [
  { id: '5.10', debian: 'Debian 11 (bullseye)', suite: 'bullseye', privateSources: 'bullseye main' },
  { id: '6.1', debian: 'Debian 12 (bookworm)', suite: 'bookworm' },
  { id: '6.12', debian: 'Debian 12 backports / Debian 13', suite: 'bookworm-backports' },
];

export function kernelById(id) {
  const k = KERNELS.find((x) => x.id === id);
  if (!k) throw new UsageError(`--kernel: expected one of ${KERNELS.map((x) => x.id).join(', ')}, all, or host; got "${id}"`);
  return k;
}

/** A bad flag or value: the entry point prints it and exits 2. */
export class UsageError extends Error {}

/** The mirror URI of the host's own Debian source (so no new host is introduced). */
async function debianMirror() {
  const dir = '/etc/apt/sources.list.d';
  const texts = [];
  for (const f of await fs.readdir(dir).catch(() => [])) texts.push(await fs.readFile(path.join(dir, f), 'utf8'));
  texts.push(await fs.readFile('/etc/apt/sources.list', 'utf8').catch(() => ''));
  for (const t of texts) {
    for (const m of t.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/gm)) {
      if (/debian/i.test(m[1]) && !/security/.test(m[1])) return m[1];
    }
  }
  throw new Error('found no Debian mirror in /etc/apt/sources.list{,.d}: cannot fetch kernels');
}

/** apt options that make apt read a private sources list and state directory for this kernel. */
async function aptOptions(k, cache) {
  if (!k.privateSources) return [];
  const dir = path.join(cache, 'apt', k.suite);
  await fs.mkdirp(path.join(dir, 'lists', 'partial'));
  await fs.mkdirp(path.join(dir, 'archives', 'partial'));
  const list = path.join(dir, 'sources.list');
  await fs.writeFile(list, `deb ${await debianMirror()} ${k.privateSources}\n`);
  return [
    '-o',
    `Dir::Etc::sourcelist=${list}`,
    '-o',
    'Dir::Etc::sourceparts=-',
    '-o',
    `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o',
    `Dir::Cache::Archives=${path.join(dir, 'archives')}`,
    '-o',
    `Dir::State::status=${path.join(dir, 'status')}`,
  ];
}

/** Path of the cached vmlinuz of kernel `k`, fetching and unpacking it the first time. */
export async function kernelImage(k, cache, log) {
  const dir = path.join(cache, 'kernels', k.id);
  const image = path.join(dir, 'vmlinuz');
  const modules = path.join(dir, 'modules');
  const cached = async () => ({
    image,
    pkg: (await fs.readFile(path.join(dir, 'package'), 'utf8')).trim(),
    modules: (await fs.readdir(modules).catch(() => [])).map((m) => path.join(modules, m)),
  });
  if ((await fs.pathExists(image)) && (await fs.pathExists(modules))) return cached();
  await fs.mkdirp(dir);
  const opts = await aptOptions(k, cache);
  if (k.privateSources) {
    await fs.ensureFile(path.join(cache, 'apt', k.suite, 'status'));
    log(`${k.id}: apt-get update (private ${k.suite} sources)`);
    await $`apt-get ${opts} update -qq`;
  }
  // The metapackage names the kernel's ABI package; the unsigned flavour holds the same vmlinuz.
  const target = k.privateSources ? [] : ['-t', k.suite];
  const deps = (await $`apt-cache ${opts} ${target} depends linux-image-cloud-amd64`).stdout;
  const m = /Depends:\s*(linux-image-\S+-cloud-amd64)\b/.exec(deps);
  if (!m) throw new Error(`${k.id}: linux-image-cloud-amd64 in ${k.suite} names no kernel package:\n${deps}`);
  const pkg = `${m[1]}-unsigned`;
  const work = await fs.mkdtemp(path.join(dir, 'fetch-'));
  try {
    log(`${k.id}: apt-get download ${pkg}`);
    await $({ cwd: work })`apt-get ${opts} -o APT::Sandbox::User=root download ${pkg}`;
    const deb = (await fs.readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`${k.id}: apt-get download ${pkg} left no .deb`);
    await $`dpkg-deb -x ${path.join(work, deb)} ${path.join(work, 'x')}`;
    const boot = path.join(work, 'x', 'boot');
    const vmlinuz = (await fs.readdir(boot)).find((f) => f.startsWith('vmlinuz-'));
    if (!vmlinuz) throw new Error(`${k.id}: ${deb} holds no boot/vmlinuz-*`);
    // Modules the tests need that the cloud flavour does not build in (loop devices), uncompressed
    // so busybox's insmod loads them.
    await fs.mkdirp(modules);
    for (const m of (await $`find ${path.join(work, 'x')} -name ${'loop.ko*'} -path ${'*/drivers/block/*'}`).stdout
      .split('\n')
      .filter(Boolean)) {
      const out = path.join(modules, 'loop.ko');
      if (m.endsWith('.xz')) await $`sh -c ${'xz -dc "$1" > "$2"'} sh ${m} ${out}`;
      else if (m.endsWith('.zst')) await $`zstd -dc ${m} -o ${out}`;
      else await fs.copy(m, out);
    }
    await fs.copy(path.join(boot, vmlinuz), image + '.tmp');
    await fs.writeFile(path.join(dir, 'package'), `${deb.replace(/\.deb$/, '')}\n`);
    await fs.rename(image + '.tmp', image);
  } finally {
    await fs.remove(work);
  }
  return cached();
}
