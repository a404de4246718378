// Router `haproxy`: a local L7 router for machines without Kubernetes. One HAProxy backend holds two
// servers, stable and canary; the canary's share is their weights (canary = w, stable = 100 - w),
// changed at run time through HAProxy's runtime API (`stats socket … level admin`):
// `get weight <backend>/<server>` and `set weight <backend>/<server> <w>`.
//
// Looks before it writes: weights already in place are not set again, so a retried activity is
// harmless. Of the two writes, the server whose weight goes up is set first, so the backend never
// has both servers at weight 0 in between. Runtime weights are not persisted by HAProxy: a reload
// restores the configured weights unless a server-state-file is used (docs/canary.md).
import { ApplicationFailure } from '@temporalio/common';
import { connect } from 'node:net';
import { RouterError } from '../../src/canary/errorTypes';
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';
import { canaryPercent, type TrafficRouter } from './trafficRouter';

/** HAProxy in front of two servers of one backend; weights change through the runtime API. */
export interface HaproxyRouter {
  kind: 'haproxy';
  /** The runtime API (`stats socket … level admin`): an absolute unix socket path, or host:port. */
  socket: string;
  backend: string;
  stableServer: string;
  canaryServer: string;
  /** Per runtime API command. */
  timeoutMs: number;
}

/** `router.haproxy` in gantry.yaml (schema/canary.schema.json#/definitions/haproxyRouter). */
interface HaproxyBlock {
  socket: string;
  backend: string;
  stableServer?: string;
  canaryServer?: string;
  timeout?: string;
}

export const HAPROXY_DEFAULTS = { stableServer: 'stable', canaryServer: 'canary', timeout: '5s' } as const;

/** One runtime API command on a fresh connection (non-interactive mode: HAProxy answers and closes). */
export function haproxyCommand(router: Pick<HaproxyRouter, 'socket' | 'timeoutMs'>, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = socketTarget(router.socket);
    const conn = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    let out = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(
        ApplicationFailure.retryable(
          `HAProxy runtime API at ${router.socket} did not answer "${command}" within ${router.timeoutMs}ms`,
          RouterError.Unreachable,
        ),
      );
    }, router.timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (chunk: string) => (out += chunk));
    conn.on('end', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        ApplicationFailure.retryable(
          `HAProxy runtime API at ${router.socket} unreachable: ${err.code ?? err.message}`,
          RouterError.Unreachable,
        ),
      );
    });
  });
}

function socketTarget(socket: string): { path: string } | { host: string; port: number } {
  if (socket.startsWith('/')) return { path: socket };
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(socket);
  if (!m)
    throw ApplicationFailure.nonRetryable(
      `router socket must be an absolute unix socket path or host:port, got "${socket}"`,
      RouterError.ConfigError,
    );
  return { host: m[1], port: Number(m[2]) };
}

/** HAProxy's own refusals ("No such server.", "No such backend.", "Permission denied") are configuration problems. */
function refusal(router: HaproxyRouter, command: string, answer: string): ApplicationFailure {
  const permission = /permission denied/i.test(answer);
  return ApplicationFailure.nonRetryable(
    `HAProxy refused "${command}": ${answer}${permission ? ' (the stats socket needs "level admin")' : ''} [socket ${router.socket}]`,
    RouterError.ConfigError,
  );
}

export async function getServerWeight(router: HaproxyRouter, server: string): Promise<number> {
  const command = `get weight ${router.backend}/${server}`;
  const answer = await haproxyCommand(router, command);
  const m = /^(\d+) \(initial \d+\)$/.exec(answer);
  if (!m) throw refusal(router, command, answer || '(empty answer)');
  return Number(m[1]);
}

export async function setServerWeight(router: HaproxyRouter, server: string, weight: number): Promise<void> {
  const command = `set weight ${router.backend}/${server} ${weight}`;
  const answer = await haproxyCommand(router, command);
  if (answer !== '') throw refusal(router, command, answer);
}

/** The canary's share in percent, from the two servers' weights. */
export async function readHaproxyCanaryWeight(
  router: HaproxyRouter,
): Promise<{ stable: number; canary: number; percent: number }> {
  // Both read at once; when both fail, the stable server's error is the one reported, every time.
  const [stableRead, canaryRead] = await Promise.allSettled([
    getServerWeight(router, router.stableServer),
    getServerWeight(router, router.canaryServer),
  ]);
  if (stableRead.status === 'rejected') throw stableRead.reason;
  if (canaryRead.status === 'rejected') throw canaryRead.reason;
  const [stable, canary] = [stableRead.value, canaryRead.value];
  return { stable, canary, percent: canaryPercent(stable, canary) };
}

export const haproxyRouter: TrafficRouter<HaproxyRouter, HaproxyBlock> = {
  readConfig(c: CanaryReader, block: HaproxyBlock, at: PathSegment[]): HaproxyRouter {
    const { stableServer = HAPROXY_DEFAULTS.stableServer, canaryServer = HAPROXY_DEFAULTS.canaryServer } = block;
    if (stableServer === canaryServer)
      c.add([...at, 'canaryServer'], `must differ from stableServer ("${stableServer}")`);
    return {
      kind: 'haproxy',
      socket: block.socket,
      backend: block.backend,
      stableServer,
      canaryServer,
      timeoutMs: c.durationMs(block.timeout, HAPROXY_DEFAULTS.timeout),
    };
  },

  async setWeight(router, weight) {
    const before = await readHaproxyCanaryWeight(router);
    const target = { stable: 100 - weight, canary: weight };
    const where = `${router.backend} (${router.stableServer} ${target.stable}, ${router.canaryServer} ${target.canary})`;
    if (before.stable === target.stable && before.canary === target.canary) {
      return { previous: before.percent, changed: false, detail: `${where} already set` };
    }
    const current = (server: string) => (server === router.stableServer ? before.stable : before.canary);
    const writes = (
      [
        [router.stableServer, target.stable],
        [router.canaryServer, target.canary],
      ] as Array<[string, number]>
    ).filter(([server, w]) => w !== current(server));
    // Raise first, lower second: never both at 0 in between.
    writes.sort(([sa, wa], [sb, wb]) => Number(wb > current(sb)) - Number(wa > current(sa)));
    for (const [server, w] of writes) await setServerWeight(router, server, w);
    const after = await readHaproxyCanaryWeight(router);
    if (after.stable !== target.stable || after.canary !== target.canary) {
      throw ApplicationFailure.retryable(
        `HAProxy weights read back as ${router.stableServer} ${after.stable}, ${router.canaryServer} ${after.canary}; expected ${where}`,
        RouterError.WeightMismatch,
      );
    }
    return { previous: before.percent, changed: true, detail: `${where}, was canary ${before.percent}%` };
  },
};
