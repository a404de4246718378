// A real HAProxy (Debian's /usr/sbin/haproxy) on loopback: one frontend, one backend with two
// servers (stable, canary) and a runtime API socket (unix, and tcp) with admin level, as the
// `haproxy` router expects. The canary starts at weight 0.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/local/freePort';
import type { HaproxyRouter } from '../../../src/canary/types';
import { startProcess, waitUntil } from './processes';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export interface Haproxy {
  /** The frontend, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Router spec over the unix socket. */
  router: HaproxyRouter;
  /** The same runtime API over tcp (host:port). */
  tcpSocket: string;
  stop(): Promise<void>;
}

export async function startHaproxy(backends: {
  stablePort: number;
  canaryPort: number;
  backend?: string;
}): Promise<Haproxy> {
  if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} is missing: apt-get install haproxy`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-haproxy-'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const backend = backends.backend ?? 'app';
  const socket = join(dir, 'admin.sock');
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      `  stats socket ipv4@127.0.0.1:${adminPort} level admin`,
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend web',
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${backend}`,
      `backend ${backend}`,
      '  balance roundrobin',
      `  server stable 127.0.0.1:${backends.stablePort} weight 100`,
      `  server canary 127.0.0.1:${backends.canaryPort} weight 0`,
      '',
    ].join('\n'),
  );
  const proc = startProcess(HAPROXY_BIN, ['-db', '-f', join(dir, 'haproxy.cfg')], dir);
  await waitUntil('haproxy', () => connects(port), 15_000, proc);
  await waitUntil('haproxy runtime API', async () => existsSync(socket) && (await connects(adminPort)), 15_000, proc);
  return {
    url: `http://127.0.0.1:${port}`,
    router: { kind: 'haproxy', socket, backend, stableServer: 'stable', canaryServer: 'canary', timeoutMs: 2000 },
    tcpSocket: `127.0.0.1:${adminPort}`,
    stop: () => proc.stop(),
  };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}
