/**
 * libbpf's reason for refusing an object, from bpftool's stderr: the
 * program or map it names and, for a program, the verifier's last word
 * before its instruction count. The generic last lines ("failed to load
 * object", "Error: failed to load object file") say nothing a user can act on.
 */
export function libbpfReason(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const named = lines.find((l) => /^libbpf: (prog|map) '[^']+': /.test(l) && !/BEGIN PROG LOAD LOG|Retrying/.test(l));
  if (!named) return undefined;
  const reason = named.replace(/^libbpf: /, '');
  const processed = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  const verifier = processed > 0 ? lines[processed - 1] : undefined;
  return verifier && !verifier.startsWith('libbpf:') ? `${reason} (verifier: ${verifier})` : reason;
}
