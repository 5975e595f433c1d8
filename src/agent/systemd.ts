/**
 * Readiness and watchdog notifications to systemd (Type=notify,
 * WatchdogSec=), when the agent runs under it: NOTIFY_SOCKET is set. No
 * native addon: Node has no AF_UNIX datagram sockets, so the notification
 * is sent by systemd's own `systemd-notify` (the unit says NotifyAccess=all,
 * since the sender is a child of the agent).
 */
import { execa } from 'execa';

export interface Notifier {
  /** Whether notifications go anywhere. */
  readonly active: boolean;
  /** The watchdog period systemd asked for (ms), if any. */
  readonly watchdogMs: number | undefined;
  notify(...assignments: string[]): Promise<void>;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, onError: (message: string) => void = () => {}): Notifier {
  const active = Boolean(env.NOTIFY_SOCKET);
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
  return {
    active,
    watchdogMs: active && forUs && usec > 0 ? usec / 1000 : undefined,
    async notify(...assignments: string[]) {
      if (!active) return;
      try {
        await execa('systemd-notify', [`--pid=${process.pid}`, ...assignments], {
          timeout: 5000,
          stdin: 'ignore',
          env: { NOTIFY_SOCKET: env.NOTIFY_SOCKET },
        });
      } catch (err) {
        onError(
          `systemd-notify ${assignments.join(' ')}: ${err instanceof Error ? (err as { stderr?: string }).stderr?.trim() || err.message.split('\n')[0] : String(err)}`,
        );
      }
    },
  };
}
