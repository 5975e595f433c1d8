/**
 * The agent's HTTP endpoints: /metrics (Prometheus text), /healthz (the
 * interval loop is alive: an interval completed recently) and /readyz (the
 * signals are open and a first interval has been read). Anything else: 404.
 */
import { createServer, type Server } from 'node:http';
import { KernelError, UsageError } from '../errors.js';

export interface HealthState {
  live(): { ok: boolean; detail: string };
  ready(): { ok: boolean; detail: string };
}

export async function serveAgent(
  listen: { host: string; port: number },
  exposition: () => Promise<{ contentType: string; body: string }>,
  health: HealthState,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      exposition().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        (err: unknown) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${err instanceof Error ? err.message : String(err)}\n`),
      );
      return;
    }
    const check = path === '/healthz' ? health.live() : path === '/readyz' ? health.ready() : undefined;
    if (!check) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      return;
    }
    res.writeHead(check.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${check.ok ? 'ok' : 'not ok'}: ${check.detail}\n`);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${listen.host}:${listen.port}`;
      if (err.code === 'EADDRINUSE') reject(new UsageError(`--metrics-listen ${where}: the address is in use`, { cause: err }));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new UsageError(`--metrics-listen ${where}: no such local address`, { cause: err }));
      else reject(new KernelError(`cannot listen on ${where}: ${err.message}`, { cause: err }));
    });
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
