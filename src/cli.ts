#!/usr/bin/env node
/**
 * The tuner command. For `watch sched` the session's bpftool starts first
 * (src/prestart.ts), then the CLI loads (src/main.ts); a session no command
 * took over is removed before tuner exits.
 */
import { prestartsSched } from './prestart.js';

const session = prestartsSched(process.argv.slice(2)) ? await import('./loader/session.js') : undefined;
try {
  session?.prestartSession('sched');
} catch {
  // Nothing was started (bpffs missing, say): the command's own start reports why.
}
const { main } = await import('./main.js');
await main();
await session?.discardPrestarted();
