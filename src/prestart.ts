/**
 * `tuner watch sched` spends most of its start-up on two things that do not
 * depend on each other: node loading the CLI, and bpftool loading the
 * scheduler object (libbpf reading the kernel's BTF, the verifier). The
 * entry point starts the second before it imports the first, so bpftool
 * works on the other CPU meanwhile; `watch` takes the session over
 * (openSession) and writes its scope into it. Only the plain case qualifies:
 * help, the bpftrace backend or another user start nothing early and take
 * the ordinary path. Imports nothing, to stay out of the way of either.
 */

/** The signals whose session preloads the scheduler object (src/signals/sched/index.ts: sessionPreload). */
const PRELOADS_SCHED = new Set(['sched', 'all']);

/** Whether these arguments (after `node cli.js`) are a `watch` that will load the scheduler object with bpftool. */
export function prestartsSched(args: readonly string[], euid = process.geteuid?.()): boolean {
  if (args[0] !== 'watch' || !PRELOADS_SCHED.has(args[1] ?? '')) return false;
  if (euid !== 0) return false; // bpftool would fail; the ordinary path says why
  for (let i = 2; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return false;
    if (a === '--backend=bpftrace' || (a === '--backend' && args[i + 1] === 'bpftrace')) return false;
  }
  return true;
}
