/**
 * `tuner agent`: run continuously as a node agent (see src/agent/agent.ts).
 * Returns a summary when stopped by SIGTERM or SIGINT.
 */
import { runAgent, type AgentSummary } from '../agent/agent.js';
import { stopSignal } from '../lifecycle/exit.js';
import type { CommandSpec } from './spec.js';

export interface AgentCommandOptions {
  config?: string;
  recipes?: string;
  metricsListen?: string;
  signal: AbortSignal;
}

export async function agent(o: AgentCommandOptions): Promise<AgentSummary> {
  return runAgent(o);
}

/** The CLI's agent: it logs as it runs (pino, stderr) and prints nothing at the end. */
export const command: CommandSpec<AgentCommandOptions, AgentSummary> = {
  options: (_args, flags) => ({ ...(flags as Omit<AgentCommandOptions, 'signal'>), signal: stopSignal }),
  run: agent,
  output: { view: async () => () => '' },
};
