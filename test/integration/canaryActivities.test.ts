// The canary's activities against the real things: HAProxy's runtime API moves real traffic
// between two app instances, and Prometheus (scraping them every second) answers the counts and
// latency buckets, or fails with a clear error.
import { ApplicationFailure } from '@temporalio/common';
import { createServer } from 'node:net';
import { freePort } from '../../src/local/freePort';
import type { PrometheusProvider } from '../../src/canary/types';
import { prometheusRangeQuery, prometheusValue } from '../../activities/metrics/prometheus';
import { readCanaryCounts, readLatencyBuckets, readStableHistory } from '../../activities/metrics';
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { setCanaryWeight } from '../../activities/traffic';
import { startApp, type CanaryApp } from '../harness/canary/app';
import { startHaproxy, type Haproxy } from '../harness/canary/haproxy';
import { startLoad } from '../harness/canary/loadLoop';
import { startPrometheus, type PrometheusServer } from '../harness/canary/prometheus';
import { QUERIES } from '../harness/canary/fakePrometheus';

let stable: CanaryApp;
let canary: CanaryApp;
let haproxy: Haproxy;
let prometheus: PrometheusServer;
let provider: PrometheusProvider;

beforeAll(async () => {
  stable = await startApp('stable', { errorRate: 0.5, latencyMs: 0 }, 1);
  canary = await startApp('canary', { errorRate: 0, latencyMs: 0 }, 2);
  [haproxy, prometheus] = await Promise.all([
    startHaproxy({ stablePort: stable.port, canaryPort: canary.port }),
    startPrometheus([
      { port: stable.port, labels: { track: 'stable' } },
      { port: canary.port, labels: { track: 'canary' } },
    ]),
  ]);
  provider = { kind: 'prometheus', url: prometheus.url, timeoutMs: 5000 };
  await prometheus.targetsUp();
});

afterAll(async () => {
  await Promise.all([haproxy?.stop(), prometheus?.stop(), stable?.stop(), canary?.stop()]);
});

const request = { app: 'web', environment: 'production' };

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('haproxy router', () => {
  test('setCanaryWeight moves real traffic, reads before it writes, and reports the previous weight', async () => {
    expect(await readHaproxyCanaryWeight(haproxy.router)).toEqual({ stable: 100, canary: 0, percent: 0 });
    expect(await setCanaryWeight({ ...request, router: haproxy.router, weight: 25 })).toMatchObject({
      weight: 25,
      previous: 0,
      changed: true,
    });
    expect(await setCanaryWeight({ ...request, router: haproxy.router, weight: 25 })).toMatchObject({
      weight: 25,
      previous: 25,
      changed: false,
      detail: 'app (stable 75, canary 25) already set',
    });
    expect(await readHaproxyCanaryWeight(haproxy.router)).toEqual({ stable: 75, canary: 25, percent: 25 });

    const load = await startLoad({ url: haproxy.url, ratePerSecond: 400, maxRequests: 400, maxSeconds: 10 }).done;
    expect(load.answered).toBe(400);
    // Smooth weighted round robin: a quarter, give or take the order in which HAProxy's threads pick.
    expect(load.byTrack.canary.requests).toBeGreaterThanOrEqual(90);
    expect(load.byTrack.canary.requests).toBeLessThanOrEqual(110);
    expect(load.byTrack.stable.requests).toBe(400 - load.byTrack.canary.requests);

    // Over the TCP runtime API too; 100 takes stable out, 0 puts everything back.
    const tcp = { ...haproxy.router, socket: haproxy.tcpSocket };
    expect(await setCanaryWeight({ ...request, router: tcp, weight: 100 })).toMatchObject({
      weight: 100,
      previous: 25,
      changed: true,
    });
    const all = await startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 50, maxSeconds: 10 }).done;
    expect(all.byTrack).toEqual({ canary: { requests: 50, errors: 0 } });
    expect(await setCanaryWeight({ ...request, router: haproxy.router, weight: 0 })).toMatchObject({
      weight: 0,
      previous: 100,
      changed: true,
    });
    expect(await readHaproxyCanaryWeight(haproxy.router)).toEqual({ stable: 100, canary: 0, percent: 0 });
  });

  test('an unknown backend or server is a configuration error, not retried', async () => {
    let f = await failure(
      setCanaryWeight({ ...request, router: { ...haproxy.router, canaryServer: 'green' }, weight: 10 }),
    );
    expect(f).toMatchObject({ type: 'RouterConfigError', nonRetryable: true });
    expect(f.message).toBe(`HAProxy refused "get weight app/green": No such server. [socket ${haproxy.router.socket}]`);
    f = await failure(setCanaryWeight({ ...request, router: { ...haproxy.router, backend: 'api' }, weight: 10 }));
    expect(f.message).toBe(
      `HAProxy refused "get weight api/stable": No such backend. [socket ${haproxy.router.socket}]`,
    );
    f = await failure(setCanaryWeight({ ...request, router: haproxy.router, weight: 101 }));
    expect(f).toMatchObject({
      type: 'RouterConfigError',
      message: 'canary weight must be an integer from 0 to 100, got 101',
    });
  });

  test('an unreachable runtime API is retryable and says where it looked', async () => {
    const f = await failure(
      setCanaryWeight({ ...request, router: { ...haproxy.router, socket: '/tmp/gantry-no-such.sock' }, weight: 10 }),
    );
    expect(f).toMatchObject({
      type: 'RouterUnreachable',
      nonRetryable: false,
      message: 'HAProxy runtime API at /tmp/gantry-no-such.sock unreachable: ENOENT',
    });
    const port = await freePort();
    const g = await failure(
      setCanaryWeight({ ...request, router: { ...haproxy.router, socket: `127.0.0.1:${port}` }, weight: 10 }),
    );
    expect(g.message).toBe(`HAProxy runtime API at 127.0.0.1:${port} unreachable: ECONNREFUSED`);
  });
});

describe('prometheus provider', () => {
  test('counts and latency buckets of both tracks, read at one instant', async () => {
    await haproxyWeight(50);
    await startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 200, maxSeconds: 10 }).done;
    // Wait for a scrape that has seen all of it (scrape interval 1s).
    let counts = await readCanaryCounts({ provider, queries: QUERIES });
    for (
      let i = 0;
      i < 50 && counts.canaryTotal + counts.stableTotal < stable.counts().requests + canary.counts().requests;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
      counts = await readCanaryCounts({ provider, queries: QUERIES });
    }
    expect(counts).toMatchObject({
      canaryTotal: canary.counts().requests,
      canaryErrors: canary.counts().errors,
      stableTotal: stable.counts().requests,
      stableErrors: stable.counts().errors,
    });
    expect(counts.canaryErrors).toBe(0);
    expect(counts.stableErrors).toBeGreaterThan(0);
    expect(Math.abs(Date.parse(counts.at) - Date.now())).toBeLessThan(10_000);

    const latency = await readLatencyBuckets({
      provider,
      query: 'sum by (le) (app_request_duration_seconds_bucket{track="canary"})',
    });
    expect(latency.buckets).toHaveLength(10);
    expect(latency.buckets.find((b) => b.le === '+Inf')?.count).toBe(canary.counts().requests);

    const range = await prometheusRangeQuery(provider, 'sum(app_requests_total)', {
      start: new Date(Date.now() - 3000),
      end: new Date(),
      stepSeconds: 1,
    });
    expect(range).toHaveLength(1);
    expect(range[0].values.length).toBeGreaterThanOrEqual(3);
    expect(range[0].values.every(([t, v]) => t > 0 && Number.isFinite(v))).toBe(true);
    await haproxyWeight(0);
  });

  test('an empty result, NaN, several series, a bad query: each a clear error of its own type', async () => {
    let f = await failure(
      readCanaryCounts({
        provider,
        queries: { ...QUERIES, canary: { ...QUERIES.canary, errors: 'sum(app_errors_total{track="canry"})' } },
      }),
    );
    expect(f).toMatchObject({ type: 'MetricsEmptyResult', nonRetryable: true });
    expect(f.message).toBe(
      'canary errors: query `sum(app_errors_total{track="canry"})` returned no series (the metric has no samples yet, or a name or label does not match; append `or vector(0)` if it may be absent)',
    );
    f = await failure(prometheusValue(provider, 'sum(app_errors_total) / 0 * 0', 'error rate'));
    expect(f).toMatchObject({
      type: 'MetricsNaN',
      message: 'error rate: query `sum(app_errors_total) / 0 * 0` returned NaN, not a count',
    });
    f = await failure(prometheusValue(provider, 'app_requests_total', 'stable requests'));
    expect(f.type).toBe('MetricsAmbiguousResult');
    expect(f.message).toMatch(
      /^stable requests: query `app_requests_total` returned 2 series \(\{.*\}\u2026\); aggregate it to one value, e\.g\. sum\(\.\.\.\)$/,
    );
    f = await failure(prometheusValue(provider, 'sum(app_requests_total', 'stable requests'));
    expect(f).toMatchObject({ type: 'MetricsQueryInvalid', nonRetryable: true });
    expect(f.message).toMatch(/^Prometheus refused query `sum\(app_requests_total`: bad_data: /);
    f = await failure(
      readLatencyBuckets({ provider, query: 'sum(app_request_duration_seconds_bucket{track="canary"})' }),
    );
    expect(f.type).toBe('MetricsAmbiguousResult');
    expect(f.message).toMatch(/returned a series without an le label \(\{\}\); use e\.g\. sum by \(le\)/);
  });

  test('an unreachable or silent server is retryable and names the server', async () => {
    const port = await freePort();
    let f = await failure(
      readCanaryCounts({ provider: { ...provider, url: `http://127.0.0.1:${port}` }, queries: QUERIES }),
    );
    expect(f).toMatchObject({ type: 'MetricsUnreachable', nonRetryable: false });
    expect(f.message).toBe(
      `Prometheus at http://127.0.0.1:${port} unreachable (ECONNREFUSED) for query \`${QUERIES.canary.errors}\``,
    );

    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    f = await failure(prometheusValue({ ...provider, url, timeoutMs: 300 }, 'up', 'up'));
    expect(f.message).toBe(`Prometheus at ${url} unreachable (no answer within 300ms) for query \`up\``);
    silent.close();

    f = await failure(prometheusValue({ ...provider, url: `${haproxy.url}` }, 'up', 'up'));
    // HAProxy's frontend answers with the app's text: not a Prometheus API.
    expect(f).toMatchObject({
      type: 'MetricsQueryInvalid',
      message: `no Prometheus API at ${haproxy.url}/api/v1/query (HTTP 200, not a Prometheus answer)`,
    });
  });

  // Last: its load shifts which of the stable app's requests fail, which the test above relies on.
  test("the stable version's history: one increment per step from range queries, errors within requests", async () => {
    await haproxyWeight(0);
    await startLoad({ url: haproxy.url, ratePerSecond: 100, maxRequests: 300, maxSeconds: 10 }).done;
    // Wait for a scrape that has seen all of it (scrape interval 1s).
    let history = await readStableHistory({ provider, queries: QUERIES.stable, lookbackMs: 120_000, stepMs: 1000 });
    const sum = (h: typeof history) =>
      h.increments.reduce((s, i) => ({ errors: s.errors + i.errors, total: s.total + i.total }), {
        errors: 0,
        total: 0,
      });
    for (
      let i = 0;
      i < 50 && (await readCanaryCounts({ provider, queries: QUERIES })).stableTotal < stable.counts().requests;
      i++
    )
      await new Promise((r) => setTimeout(r, 200));
    history = await readStableHistory({ provider, queries: QUERIES.stable, lookbackMs: 120_000, stepMs: 1000 });
    const seen = sum(history);
    // Increments from the first point in the window: at least this test's load, at most all stable traffic.
    expect(history.increments.length).toBeGreaterThanOrEqual(3);
    expect(seen.total).toBeGreaterThanOrEqual(300);
    expect(seen.total).toBeLessThanOrEqual(stable.counts().requests);
    // The stable app fails half its requests.
    expect(seen.errors / seen.total).toBeGreaterThan(0.4);
    expect(seen.errors / seen.total).toBeLessThan(0.6);
    expect(
      history.increments.every(
        (i) => Number.isInteger(i.errors) && Number.isInteger(i.total) && i.errors >= 0 && i.errors <= i.total,
      ),
    ).toBe(true);

    const f = await failure(
      readStableHistory({
        provider,
        queries: { errors: 'app_errors_total', total: 'sum(app_requests_total)' },
        lookbackMs: 60_000,
        stepMs: 1000,
      }),
    );
    expect(f).toMatchObject({ type: 'MetricsAmbiguousResult', nonRetryable: true });
    expect(f.message).toBe(
      'stable errors: query `app_errors_total` returned 2 series over the history; aggregate it to one value, e.g. sum(...)',
    );
  });
});

async function haproxyWeight(weight: number) {
  await setCanaryWeight({ ...request, router: haproxy.router, weight });
}
