// A small app, one instance per version (stable, canary): serves `/` with a 500 at the error rate
// the test sets (seeded, so runs repeat) after the latency the test sets, and exposes in Prometheus
// text format on /metrics: app_requests_total, app_errors_total and the latency histogram
// app_request_duration_seconds. Every answer names its track in `x-track`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface AppBehaviour {
  /** Fraction of requests answered 500, e.g. 0.01. */
  errorRate: number;
  /** Delay before answering, in ms. */
  latencyMs: number;
}

export interface CanaryApp {
  track: string;
  port: number;
  url: string;
  set(behaviour: Partial<AppBehaviour>): void;
  counts(): { requests: number; errors: number };
  stop(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a run's errors are the same each time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startApp(track: string, behaviour: AppBehaviour, seed = 1): Promise<CanaryApp> {
  const state = { ...behaviour };
  const random = prng(seed);
  let requests = 0;
  let errors = 0;
  let durationSum = 0;
  const buckets = LATENCY_BUCKETS.map(() => 0);

  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      const lines = [
        '# HELP app_requests_total Requests served.',
        '# TYPE app_requests_total counter',
        `app_requests_total ${requests}`,
        '# HELP app_errors_total Requests answered with a 5xx.',
        '# TYPE app_errors_total counter',
        `app_errors_total ${errors}`,
        '# HELP app_request_duration_seconds Request latency.',
        '# TYPE app_request_duration_seconds histogram',
        ...LATENCY_BUCKETS.map((le, i) => `app_request_duration_seconds_bucket{le="${le}"} ${buckets[i]}`),
        `app_request_duration_seconds_bucket{le="+Inf"} ${requests}`,
        `app_request_duration_seconds_sum ${durationSum}`,
        `app_request_duration_seconds_count ${requests}`,
        '',
      ];
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(lines.join('\n'));
      return;
    }
    const started = process.hrtime.bigint();
    const fail = random() < state.errorRate;
    const answer = () => {
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain', 'x-track': track });
      res.end(fail ? 'injected error\n' : `ok from ${track}\n`);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Counted when answered, so a scrape never sees an error without its request.
      requests++;
      if (fail) errors++;
      durationSum += seconds;
      LATENCY_BUCKETS.forEach((le, i) => {
        if (seconds <= le) buckets[i]++;
      });
    };
    if (state.latencyMs > 0) setTimeout(answer, state.latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    track,
    port,
    url: `http://127.0.0.1:${port}`,
    set: (b) => Object.assign(state, b),
    counts: () => ({ requests, errors }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
