/**
 * `tuner agent`: run continuously as a node agent (see src/agent/agent.ts).
 * Returns a summary when stopped by SIGTERM or SIGINT.
 */
import { runAgent, type AgentSummary } from '../agent/agent.js';

export interface AgentCommandOptions {
  config?: string;
  recipes?: string;
  metricsListen?: string;
  signal: AbortSignal;
}

export async function agent(o: AgentCommandOptions): Promise<AgentSummary> {
  return runAgent(o);
}
