// The canary end to end on one machine: a real Temporal dev server and worker, two instances of a
// small app (stable at 1% errors, the canary as the test sets it), HAProxy in front with its
// runtime API, Prometheus scraping both every second, and a bounded load loop through HAProxy.
// A good canary walks its steps to 100%; a bad one (5% errors against 1%) and a slow one (p95 over
// 500ms) are detected and traffic goes back to stable. Prints requests and seconds to detection.
//
// The good canary's outcome is random by nature: its errors are as likely as stable's, and a test
// at alpha fails a healthy canary with probability alpha per analysis. With the default 0.05 this
// test would fail about one run in ten (two analyses), so the plan uses alpha 0.005: about 1 in
// 100, for a healthy canary that needs about as many requests (~32 errors against ~27) and a bad
// one that needs about twice as many.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCanary } from '../../src/config/resolveCanary';
import type { CanaryPlan } from '../../src/canary/types';
import { startDevServer, type DevServer } from '../../src/local/temporalDevServer';
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { setCanaryWeight } from '../../activities/traffic';
import { startApp, type CanaryApp } from '../harness/canary/app';
import { startHaproxy, type Haproxy } from '../harness/canary/haproxy';
import { startLoad, type LoadLoop, type LoadStats } from '../harness/canary/loadLoop';
import { startPrometheus, type PrometheusServer } from '../harness/canary/prometheus';
import { quietRuntime, startCanaryWorker } from '../harness/canary/worker';
import { canaryTestWorkflow, type CanaryTestResult } from '../harness/canary/workflows';

jest.setTimeout(300_000);

const TASK_QUEUE = 'canary-e2e';
const RATE = 200; // requests per second through HAProxy
let server: DevServer;
let client: Client;
let connection: Connection;
let workerConnection: NativeConnection;
let worker: { stop(): Promise<void> };
let stable: CanaryApp;
let canary: CanaryApp;
let haproxy: Haproxy;
let prometheus: PrometheusServer;
let load: LoadLoop | undefined;
let seq = 0;

beforeAll(async () => {
  quietRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-canary-e2e-'));
  stable = await startApp('stable', { errorRate: 0.01, latencyMs: 0 }, 11);
  canary = await startApp('canary', { errorRate: 0.01, latencyMs: 0 }, 12);
  [server, haproxy, prometheus] = await Promise.all([
    startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') }),
    startHaproxy({ stablePort: stable.port, canaryPort: canary.port }),
    startPrometheus([
      { port: stable.port, labels: { track: 'stable' } },
      { port: canary.port, labels: { track: 'canary' } },
    ]),
  ]);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
  workerConnection = await NativeConnection.connect({ address: server.address });
  worker = await startCanaryWorker(workerConnection, TASK_QUEUE);
  await prometheus.targetsUp();
});

afterAll(async () => {
  await load?.stop();
  await worker?.stop();
  await workerConnection?.close();
  await connection?.close();
  await Promise.all([server?.stop(), haproxy?.stop(), prometheus?.stop()]);
  await Promise.all([stable?.stop(), canary?.stop()]);
});

afterEach(async () => {
  await load?.stop();
  load = undefined;
});

/** The pipeline's canary block, as a user writes it in gantry.yaml. */
function plan(): CanaryPlan {
  const errorRate = {
    canary: { errors: 'sum(app_errors_total{track="canary"})', total: 'sum(app_requests_total{track="canary"})' },
    stable: { errors: 'sum(app_errors_total{track="stable"})', total: 'sum(app_requests_total{track="stable"})' },
  };
  const latency = {
    buckets: 'sum by (le) (app_request_duration_seconds_bucket{track="canary"})',
    bound: '500ms',
    minObservations: 200,
  };
  const analysis = { errorRate, latency, alpha: 0.005, interval: '1s', maxDuration: '2m' };
  return resolveCanary(
    {
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend } },
      metrics: { prometheus: { url: prometheus.url, timeout: '5s' } },
      steps: [{ setWeight: 25 }, { analysis }, { setWeight: 50 }, { pause: '2s' }, { analysis }, { setWeight: 100 }],
      onInconclusive: 'abort',
    },
    { app: 'web', environment: 'production' },
  )!;
}

async function runScenario(
  name: string,
  canaryBehaviour: { errorRate: number; latencyMs: number },
): Promise<{ r: CanaryTestResult; load: LoadStats; events: number }> {
  await setCanaryWeight({ router: haproxy.router, weight: 0, app: 'web', environment: 'production' });
  canary.set(canaryBehaviour);
  load = startLoad({ url: haproxy.url, ratePerSecond: RATE, maxRequests: RATE * 200, maxSeconds: 200 });
  const started = Date.now();
  const handle = await client.workflow.start(canaryTestWorkflow, {
    args: [{ plan: plan(), app: 'web', digest: `sha256:${'e'.repeat(64)}`, environment: 'production' }],
    workflowId: `promote/web/canary-e2e-${process.pid}-${seq++}`,
    taskQueue: TASK_QUEUE,
    workflowExecutionTimeout: '4m',
  });
  const r = await handle.result();
  const seconds = (Date.now() - started) / 1000;
  const stats = load.stats();
  const history = await handle.fetchHistory();
  const events = history.events?.length ?? 0;
  const kinds = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
  const lines = [
    `[canary e2e] ${name}: ${r.result?.outcome} in ${seconds.toFixed(1)} s; promotion history ${events} events (${kinds.filter((k) => k.includes('CHILD_WORKFLOW_EXECUTION_COMPLETED')).length} analyses as children)`,
  ];
  for (const a of r.analyses) {
    lines.push(
      `  ${a.name}: ${a.decision} by ${a.decidedBy} after ${a.requestsToDecision.canary} canary + ${a.requestsToDecision.stable} stable requests, ` +
        `${(a.durationMs / 1000).toFixed(1)} s, ${a.intervals} reads; log-likelihood ratio ${a.errorRate?.logLikelihoodRatio.toFixed(3)} ` +
        `(thresholds ${a.errorRate?.lowerThreshold.toFixed(3)} / ${a.errorRate?.upperThreshold.toFixed(3)}); errors canary ${a.errorRate?.errors.canary} stable ${a.errorRate?.errors.stable}; ` +
        `latency ${a.latency ? `${a.latency.verdict} p95 ${a.latency.value === null ? 'n/a' : `${Math.round(a.latency.value * 1000)}ms`} over ${a.latency.observations}` : 'n/a'}`,
    );
  }
  lines.push(
    `  load: ${stats.answered} answered at ${RATE}/s (${JSON.stringify(stats.byTrack)}), ${stats.skipped} skipped, ${stats.failed} failed`,
  );
  if (r.result?.reason) lines.push(`  reason: ${r.result.reason}`);
  console.log(lines.join('\n'));
  return { r, load: stats, events };
}

test('a good canary walks its steps to 100%, passing both analyses', async () => {
  const {
    r,
    load: stats,
    events,
  } = await runScenario('good canary (1% errors vs 1%)', { errorRate: 0.01, latencyMs: 0 });
  expect(r.result?.outcome).toBe('Successful');
  expect(r.analyses.map((a) => a.decision)).toEqual(['Successful', 'Successful']);
  expect(r.analyses[0].latency).toMatchObject({ verdict: 'WithinBound' });
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(100);
  expect(stats.failed).toBe(0);
  expect(stats.byTrack.canary.requests).toBeGreaterThan(0);
  // After the last step the canary takes everything.
  const after = await startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 40, maxSeconds: 10 }).done;
  expect(Object.keys(after.byTrack)).toEqual(['canary']);
  expect(events).toBeLessThan(100);
});

test('a bad canary (5% errors vs 1%) is detected and traffic goes back to stable', async () => {
  const { r } = await runScenario('bad canary (5% errors vs 1%)', { errorRate: 0.05, latencyMs: 0 });
  expect(r.result?.outcome).toBe('Failed');
  expect(r.analyses).toHaveLength(1);
  expect(r.analyses[0]).toMatchObject({ decision: 'Failed', decidedBy: 'error-rate' });
  expect(r.result?.reason).toMatch(/traffic is back on stable \(canary weight 0\)$/);
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
  const after = await startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 40, maxSeconds: 10 }).done;
  expect(Object.keys(after.byTrack)).toEqual(['stable']);
});

test('a slow canary (600 ms, bound p95 500 ms) fails on latency and traffic goes back to stable', async () => {
  const { r } = await runScenario('slow canary (600 ms)', { errorRate: 0.01, latencyMs: 600 });
  expect(r.result?.outcome).toBe('Failed');
  expect(r.analyses[0]).toMatchObject({
    decision: 'Failed',
    decidedBy: 'latency',
    latency: { verdict: 'ExceedsBound' },
  });
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
});
