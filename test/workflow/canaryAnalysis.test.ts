// The canary analysis child workflow on the time-skipping server, with the real metrics activities
// querying a scripted Prometheus API: decisions, the time limit, metrics failures, latency, and
// continue-as-new carrying the evidence with a bounded history per run.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { CanaryAnalysisSpec } from '../../src/canary/types';
import type { CanaryAnalysisInput } from '../../workflows/canaryAnalysis';
import {
  countsScript,
  QUERIES,
  startFakePrometheus,
  type FakePrometheus,
  type Script,
} from '../harness/canary/fakePrometheus';
import { quietRuntime, startCanaryWorker } from '../harness/canary/worker';
import { canaryAnalysis } from '../harness/canary/workflows';
import { createTimeSkippingEnv } from '../harness/timeSkipping';

const TASK_QUEUE = 'canary-analysis';
let env: TestWorkflowEnvironment;
let worker: { stop(): Promise<void> };
let prometheus: FakePrometheus;
let seq = 0;

beforeAll(async () => {
  quietRuntime();
  env = await createTimeSkippingEnv();
  worker = await startCanaryWorker(env.nativeConnection, TASK_QUEUE);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

beforeEach(async () => {
  prometheus = await startFakePrometheus();
});
afterEach(async () => {
  await prometheus.stop();
});

const spec = (over: Partial<CanaryAnalysisSpec> = {}): CanaryAnalysisSpec => ({
  name: 'analysis-2',
  queries: QUERIES,
  test: {
    alpha: 0.05,
    power: 0.8,
    minimumDetectableEffect: { kind: 'relative', increase: 1 },
    canaryTrafficShare: 0.1,
    boundaries: 'exact',
  },
  intervalMs: 30_000,
  maxDurationMs: 30 * 60_000,
  continueAsNewEvery: 100,
  ...over,
});

async function analyse(script: Script, s: CanaryAnalysisSpec = spec()) {
  prometheus.script(script);
  const input: CanaryAnalysisInput = {
    spec: s,
    provider: { kind: 'prometheus', url: prometheus.url, timeoutMs: 2000 },
    app: 'web',
    environment: 'production',
    stepIndex: 2,
  };
  const workflowId = `analysis-test-${process.pid}-${seq++}`;
  const handle = await env.client.workflow.start(canaryAnalysis, { args: [input], workflowId, taskQueue: TASK_QUEUE });
  const result = await handle.result();
  return { result, handle };
}

async function eventsOfRun(workflowId: string, runId?: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
}

test('a healthy canary is Successful, with the evidence and the requests it took', async () => {
  const started = Date.now();
  const { result } = await analyse(countsScript({ canary: 0.01, stable: 0.01 }));
  expect(result).toMatchObject({
    name: 'analysis-2',
    stepIndex: 2,
    decision: 'Successful',
    decidedBy: 'error-rate',
    runs: 1,
    readFailures: 0,
    latency: null,
  });
  const e = result.errorRate!;
  expect(e.logLikelihoodRatio).toBeLessThanOrEqual(e.lowerThreshold);
  expect(e.lastCounts.canaryTotal).toBe(1000 + 500 * (result.intervals - 1));
  expect(result.requestsToDecision).toEqual({
    canary: 500 * (result.intervals - 1),
    stable: 4500 * (result.intervals - 1),
    total: 5000 * (result.intervals - 1),
  });
  // Workflow time: reads on a 30 s grid (plus the last read's own run time).
  expect(result.durationMs).toBeGreaterThanOrEqual(30_000 * (result.intervals - 1));
  expect(result.durationMs).toBeLessThan(30_000 * (result.intervals - 1) + 5_000);
  expect(Date.now() - started).toBeLessThan(30_000);
  console.log(
    `healthy: Successful after ${result.intervals} reads, ${result.requestsToDecision.canary} canary requests, ${result.durationMs / 1000}s of workflow time`,
  );
});

test('a canary at 5% errors against 1% is Failed', async () => {
  const { result } = await analyse(countsScript({ canary: 0.05, stable: 0.01 }));
  expect(result).toMatchObject({ decision: 'Failed', decidedBy: 'error-rate' });
  expect(result.reason).toMatch(/canary error rate is elevated/);
  console.log(`5% vs 1%: Failed after ${result.intervals} reads, ${result.requestsToDecision.canary} canary requests`);
});

test('no new traffic: Inconclusive when maxDuration (30 minutes) is reached, after the last read on the deadline', async () => {
  const { result } = await analyse((q) => (q.includes('errors') ? 10 : 1000));
  expect(result).toMatchObject({ decision: 'Inconclusive', decidedBy: 'max-duration', intervals: 61 });
  expect(result.durationMs).toBeGreaterThanOrEqual(30 * 60_000);
  expect(result.durationMs).toBeLessThan(30 * 60_000 + 5_000);
  expect(result.reason).toBe(
    'maxDuration 1800s reached without a decision (log-likelihood ratio 0.000, always-valid p 1.000)',
  );
});

test('continue-as-new every 5 reads carries the evidence; each run keeps a small history', async () => {
  const query = 'sum by (le) (app_request_duration_seconds_bucket{track="canary"})';
  const latency = { query, quantile: 0.95, boundSeconds: 0.5, minObservations: 1_000_000 };
  const s = spec({ continueAsNewEvery: 5, maxDurationMs: 10 * 60_000, latency });
  const script: Script = (q, n) =>
    q === query
      ? {
          series: [
            { metric: { le: '0.1' }, value: n },
            { metric: { le: '+Inf' }, value: n },
          ],
        }
      : q.includes('errors')
        ? 10
        : 1000 + n;
  const { result, handle } = await analyse(script, s);
  // 21 reads (t = 0, 30 s, ..., 600 s) in runs of 5.
  expect(result).toMatchObject({ decision: 'Inconclusive', intervals: 21, runs: 5 });
  expect(result.errorRate!.observations).toBe(20);
  expect(result.latency).toMatchObject({ verdict: 'WithinBound', observations: 20 });
  const first = await eventsOfRun(handle.workflowId, handle.firstExecutionRunId);
  expect(first[first.length - 1]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  expect(first.filter((e) => e === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')).toHaveLength(10);
  const last = await eventsOfRun(handle.workflowId);
  console.log(
    `history with counts and latency reads: first run ${first.length} events for 5 reads; last run ${last.length} events for 1 read`,
  );
  // Per read: timer (2), two activities (6), and 2 or 3 workflow tasks (6-9, depending on whether
  // both reads complete in one task): at most 17; plus start and continue-as-new.
  expect(first.length).toBeLessThanOrEqual(5 * 17 + 4);
});

test('metrics that stay unavailable end Inconclusive (never Failed); an invalid query ends it at once', async () => {
  let { result } = await analyse(() => 'empty');
  expect(result).toMatchObject({
    decision: 'Inconclusive',
    decidedBy: 'metrics',
    intervals: 5,
    readFailures: 5,
    errorRate: null,
  });
  expect(result.reason).toMatch(
    /^metrics unavailable for 5 intervals in a row: canary errors: query `sum\(app_errors_total\{track="canary"\}\)` returned no series/,
  );

  ({ result } = await analyse(
    countsScript({ canary: 0.01, stable: 0.01 }, undefined, () => ({
      status: 400,
      errorType: 'bad_data',
      error: 'parse error',
    })),
    spec({ latency: { query: 'sum(', quantile: 0.95, boundSeconds: 0.5, minObservations: 10 } }),
  ));
  expect(result).toMatchObject({ decision: 'Inconclusive', decidedBy: 'metrics', intervals: 1 });
  expect(result.reason).toBe('metrics query cannot work: Prometheus refused query `sum(`: bad_data: parse error');
});

test('a slow canary fails on the latency bound', async () => {
  const query = 'sum by (le) (app_request_duration_seconds_bucket{track="canary"})';
  const slow: Script = (q, n) =>
    q === query
      ? {
          series: [
            { metric: { le: '0.1' }, value: 100 },
            { metric: { le: '0.5' }, value: 100 + 10 * n },
            { metric: { le: '1' }, value: 100 + 500 * n },
            { metric: { le: '+Inf' }, value: 100 + 500 * n },
          ],
        }
      : countsScript({ canary: 0.01, stable: 0.01 })(q, n);
  const { result } = await analyse(
    slow,
    spec({ latency: { query, quantile: 0.95, boundSeconds: 0.5, minObservations: 200 } }),
  );
  expect(result).toMatchObject({ decision: 'Failed', decidedBy: 'latency', intervals: 2 });
  expect(result.latency).toMatchObject({ verdict: 'ExceedsBound', observations: 500, exact: true });
  expect(result.reason).toMatch(/^latency above its bound: p95 \d+ms vs bound 500ms over 500 requests/);
});

test('reads follow traffic: at about one error per minute the analysis reads every other interval, at most maxInterval apart', async () => {
  // 5 canary + 45 stable requests per read at 1%: half an error per read.
  const s = spec({ maxIntervalMs: 120_000, maxDurationMs: 20 * 60_000 });
  const { result } = await analyse(countsScript({ canary: 0.01, stable: 0.01 }, { canary: 5, stable: 45 }), s);
  const spacing = result.durationMs / (result.intervals - 1);
  console.log(
    `paced reads: ${result.intervals} reads in ${result.durationMs / 1000}s (${(spacing / 1000).toFixed(0)}s apart on average), ${result.decision}`,
  );
  expect(result.intervals).toBeGreaterThan(2);
  expect(spacing).toBeGreaterThanOrEqual(55_000);
  expect(spacing).toBeLessThanOrEqual(120_000 + 5_000);
  expect(result.alpha).toBe(0.05);
});

test('a stable history that cannot be read is noted; the analysis goes on and decides', async () => {
  // The scripted API has no query_range: the read fails as it would against a server without that API.
  const { result } = await analyse(countsScript({ canary: 0.05, stable: 0.01 }), spec({ stableHistoryMs: 3_600_000 }));
  expect(result).toMatchObject({ decision: 'Failed', decidedBy: 'error-rate' });
  expect(result.stableHistoryNote).toMatch(
    /^stable history unavailable \(Prometheus at http:\/\/127\.0\.0\.1:\d+ failed query `sum\(app_errors_total\{track="stable"\}\)` \(HTTP 404\): not_found: not found\); dispersion estimated from the analysis' own intervals$/,
  );
});

test('latency comparison: a canary with more slow requests than stable fails by latency, with the evidence', async () => {
  const canaryQuery = 'sum by (le) (app_request_duration_seconds_bucket{track="canary"})';
  const stableQuery = 'sum by (le) (app_request_duration_seconds_bucket{track="stable"})';
  // 500 canary / 4500 stable requests per read; 20% of canary requests and 5% of stable's over 500ms.
  const hist = (total: number, slow: number) => ({
    series: [
      { metric: { le: '0.5' }, value: total - slow },
      { metric: { le: '+Inf' }, value: total },
    ],
  });
  const script: Script = (q, n) =>
    q === canaryQuery
      ? hist(500 * n, 100 * n)
      : q === stableQuery
        ? hist(4500 * n, 225 * n)
        : countsScript({ canary: 0.01, stable: 0.01 })(q, n);
  const test = {
    alpha: 0.025,
    power: 0.8,
    minimumDetectableEffect: { kind: 'relative' as const, increase: 1 },
    canaryTrafficShare: 0.1,
    boundaries: 'exact' as const,
  };
  const latency = { query: canaryQuery, stableQuery, quantile: 0.95, boundSeconds: 0.5, minObservations: 200, test };
  const { result } = await analyse(script, spec({ test, latency }));
  expect(result).toMatchObject({ decision: 'Failed', decidedBy: 'latency', alpha: 0.05 });
  expect(result.reason).toMatch(/^share of requests slower than 500ms is elevated: log-likelihood ratio/);
  expect(result.latencyTest).toMatchObject({ decision: 'Failed' });

  // A bound that is not a bucket edge cannot be compared: Inconclusive, never Failed.
  const off = await analyse(script, spec({ test, latency: { ...latency, boundSeconds: 0.3 } }));
  expect(off.result).toMatchObject({ decision: 'Inconclusive', decidedBy: 'metrics' });
  expect(off.result.reason).toBe(
    'latency comparison cannot work: canary histogram: the bound 0.3s is not a bucket edge of the histogram (edges: 0.5); choose one of them',
  );
});
