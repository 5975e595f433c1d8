/**
 * Notifications reach a NOTIFY_SOCKET as systemd's own tool sends them: a
 * datagram listener (python3, since node has no AF_UNIX datagram sockets)
 * stands in for systemd and prints what it receives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { systemdNotifier } from '../../src/agent/systemd.js';

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
s.settimeout(5)
while True:
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    print(d.decode().replace("\\n", " "), flush=True)
`;

describe('systemd notifications', () => {
  it('is inactive without NOTIFY_SOCKET, and has no watchdog then', () => {
    const n = systemdNotifier({ WATCHDOG_USEC: '30000000' });
    expect(n.active).toBe(false);
    expect(n.watchdogMs).toBeUndefined();
  });

  it('takes the watchdog period only when it is meant for this process', () => {
    expect(systemdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' }).watchdogMs).toBe(30_000);
    expect(
      systemdNotifier({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) }).watchdogMs,
    ).toBeUndefined();
  });

  it('sends READY=1 with the main PID to the socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tuner-notify-'));
    const sock = path.join(dir, 'notify');
    const listener = execa('python3', ['-c', LISTENER, sock], { reject: false, buffer: { stdout: true } });
    try {
      await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
      const errors: string[] = [];
      const n = systemdNotifier({ NOTIFY_SOCKET: sock }, (m) => errors.push(m));
      await n.notify('READY=1', 'STATUS=2 recipes');
      await n.notify('WATCHDOG=1');
      expect(errors.join('\n')).toBe('');
      listener.kill('SIGTERM');
      const out = String((await listener).stdout);
      expect(out).toContain(`MAINPID=${process.pid} READY=1 STATUS=2 recipes`);
      expect(out).toContain('WATCHDOG=1');
    } finally {
      listener.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a socket nobody listens on, without throwing', async () => {
    const errors: string[] = [];
    await systemdNotifier({ NOTIFY_SOCKET: '/nonexistent/notify' }, (m) => errors.push(m)).notify('READY=1');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^systemd-notify READY=1: /);
  });
});
