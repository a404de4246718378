// A scripted stand-in for the Prometheus HTTP API, for workflow tests on the time-skipping server:
// there, minutes of analysis pass in milliseconds, faster than a real Prometheus could scrape. The
// real activities query it over HTTP exactly as they query Prometheus; each query string gets
// the answer its script gives for the n-th time it is asked (n from 0).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorRateQueries } from '../../../src/canary/types';

export type FakeAnswer =
  | number
  | 'empty'
  | 'NaN'
  | { series: Array<{ metric: Record<string, string>; value: number | string }> }
  | { status: number; errorType: string; error: string };

export type Script = (query: string, n: number) => FakeAnswer;

export interface FakePrometheus {
  url: string;
  script(s: Script): void;
  calls(query: string): number;
  stop(): Promise<void>;
}

export async function startFakePrometheus(initial: Script = () => 'empty'): Promise<FakePrometheus> {
  let script = initial;
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(req.method === 'POST' ? body : url.search);
      const query = params.get('query') ?? '';
      const n = calls.get(query) ?? 0;
      calls.set(query, n + 1);
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (url.pathname !== '/api/v1/query')
        return send(404, { status: 'error', errorType: 'not_found', error: 'not found' });
      const answer = script(query, n);
      const t = Date.now() / 1000;
      if (typeof answer === 'object' && 'status' in answer)
        return send(answer.status, { status: 'error', errorType: answer.errorType, error: answer.error });
      if (answer === 'empty') return send(200, { status: 'success', data: { resultType: 'vector', result: [] } });
      if (answer === 'NaN')
        return send(200, {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [t, 'NaN'] }] },
        });
      if (typeof answer === 'number')
        return send(200, {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [t, String(answer)] }] },
        });
      return send(200, {
        status: 'success',
        data: {
          resultType: 'vector',
          result: answer.series.map((s) => ({ metric: s.metric, value: [t, String(s.value)] })),
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: (s) => (script = s),
    calls: (q) => calls.get(q) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const QUERIES: ErrorRateQueries = {
  canary: { errors: 'sum(app_errors_total{track="canary"})', total: 'sum(app_requests_total{track="canary"})' },
  stable: { errors: 'sum(app_errors_total{track="stable"})', total: 'sum(app_requests_total{track="stable"})' },
};

/**
 * Cumulative counters as if canary and stable served `perRead` requests between reads at the given
 * error rates, on top of counters that already carry history. Unknown queries are empty.
 */
export function countsScript(
  rates: { canary: number; stable: number },
  perRead = { canary: 500, stable: 4500 },
  otherwise: Script = () => 'empty',
): Script {
  const history = { canary: 1000, stable: 100_000 };
  return (query, n) => {
    for (const side of ['canary', 'stable'] as const) {
      const total = history[side] + perRead[side] * n;
      if (query === QUERIES[side].total) return total;
      if (query === QUERIES[side].errors) return Math.round(history[side] * 0.01 + rates[side] * perRead[side] * n);
    }
    return otherwise(query, n);
  };
}
