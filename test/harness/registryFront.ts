// HAProxy (Debian's) in front of the real registry, behaving like the edges of hosted registries:
// /v2/limited/* answers its first request per path with 429 and Retry-After: 1, /v2/throttled/*
// always with 429 and Retry-After: 120, and /v2/moved/* redirects (307) to the registry's own
// address, as registries do to their storage or CDN hosts. Everything else is passed through.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/freePort';
import { HAPROXY_BIN } from './canary/haproxy';
import { startProcess, waitUntil } from './canary/processes';

export interface RegistryFront {
  url: string;
  stop(): Promise<void>;
}

export async function startRegistryFront(registryUrl: string): Promise<RegistryFront> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-registry-front-'));
  const port = await freePort();
  const upstream = new URL(registryUrl);
  const tooMany = `content-type application/json string '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'`;
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    [
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend registry',
      `  bind 127.0.0.1:${port}`,
      '  http-request track-sc0 path table limits if { path_beg /v2/limited/ }',
      `  http-request return status 429 ${tooMany} hdr Retry-After 1 if { path_beg /v2/limited/ } { sc_inc_gpc0(0) eq 1 }`,
      `  http-request return status 429 ${tooMany} hdr Retry-After 120 if { path_beg /v2/throttled/ }`,
      `  http-request redirect location ${upstream.origin}%[url] code 307 if { path_beg /v2/moved/ }`,
      '  default_backend registry',
      'backend limits',
      '  stick-table type string len 256 size 1k store gpc0',
      'backend registry',
      `  server upstream ${upstream.host}`,
      '',
    ].join('\n'),
  );
  const proc = startProcess(HAPROXY_BIN, ['-db', '-f', join(dir, 'haproxy.cfg')], dir);
  await waitUntil('haproxy', () => connects(port), 15_000, proc);
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.stop() };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}
