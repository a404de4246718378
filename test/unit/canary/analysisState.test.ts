// The analysis policy as a pure state machine: baseline, error-rate decisions, latency, read
// failures, time and request limits, and the evidence a result carries.
import {
  analysisResult,
  bucketWindow,
  expire,
  MAX_CONSECUTIVE_READ_FAILURES,
  nextReadDelay,
  observe,
  observeStableHistory,
  startAnalysis,
  type AnalysisReading,
  type AnalysisState,
} from '../../../src/canary/analysisState';
import type { CanaryAnalysisSpec, CanaryCountsReading } from '../../../src/canary/types';

const spec = (over: Partial<CanaryAnalysisSpec> = {}): CanaryAnalysisSpec => ({
  name: 'analysis-2',
  queries: { canary: { errors: 'ce', total: 'ct' }, stable: { errors: 'se', total: 'st' } },
  test: {
    alpha: 0.05,
    power: 0.8,
    minimumDetectableEffect: { kind: 'relative', increase: 1 },
    canaryTrafficShare: 0.5,
    boundaries: 'exact',
  },
  intervalMs: 10_000,
  maxDurationMs: 600_000,
  continueAsNewEvery: 100,
  ...over,
});
const T0 = Date.parse('2026-11-28T10:00:00Z');
const counts = (
  canaryErrors: number,
  canaryTotal: number,
  stableErrors: number,
  stableTotal: number,
): CanaryCountsReading => ({ canaryErrors, canaryTotal, stableErrors, stableTotal, at: '2026-11-28T10:00:00Z' });
const buckets = (le005: number, le01: number, le05: number, le1: number, inf: number) => [
  { le: '0.05', count: le005 },
  { le: '0.1', count: le01 },
  { le: '0.5', count: le05 },
  { le: '1', count: le1 },
  { le: '+Inf', count: inf },
];

/** Feeds readings one interval apart. */
function run(s: CanaryAnalysisSpec, readings: AnalysisReading[]): AnalysisState {
  let state = startAnalysis(s, 2, T0);
  readings.forEach((r, i) => (state = observe(s, state, r, T0 + i * s.intervalMs)));
  return state;
}

/** Cumulative counts of a canary and stable at 1000 requests each per interval. */
function stream(
  canaryRate: number,
  stableRate: number,
  intervals: number,
  offset = { c: 5000, s: 90000 },
): AnalysisReading[] {
  return Array.from({ length: intervals }, (_, i) => ({
    counts: counts(
      Math.round(offset.c * 0.01 + canaryRate * 1000 * i),
      offset.c + 1000 * i,
      Math.round(offset.s * 0.01 + stableRate * 1000 * i),
      offset.s + 1000 * i,
    ),
  }));
}

test('the first reading is the baseline: counters with history are not counted', () => {
  const s = run(spec(), [{ counts: counts(50, 5000, 900, 90000) }]);
  expect(s.decision).toBe('Continue');
  expect(s.errorRate?.lastCounts).toEqual({
    canaryErrors: 50,
    canaryTotal: 5000,
    stableErrors: 900,
    stableTotal: 90000,
  });
  expect(s.errorRate?.requests.total).toBe(0);
});

test('a healthy canary is Successful; the result carries the evidence and requests to decision', () => {
  const s = run(spec(), stream(0.01, 0.01, 60));
  expect(s.decision).toBe('Successful');
  expect(s.decidedBy).toBe('error-rate');
  const r = analysisResult(s);
  expect(r).toMatchObject({
    name: 'analysis-2',
    stepIndex: 2,
    decision: 'Successful',
    decidedBy: 'error-rate',
    latency: null,
    readFailures: 0,
    runs: 1,
  });
  expect(r.errorRate!.logLikelihoodRatio).toBeLessThanOrEqual(r.errorRate!.lowerThreshold);
  expect(r.requestsToDecision.canary).toBe(r.errorRate!.requests.canary);
  expect(r.requestsToDecision.canary % 1000).toBe(0);
  expect(r.durationMs).toBe((s.intervals - 1) * 10_000);
  expect(r.startedAt).toBe('2026-11-28T10:00:00.000Z');
  expect(JSON.parse(JSON.stringify(r))).toEqual(r);
});

test('a canary at 5% errors against 1% is Failed by the error rate', () => {
  const s = run(spec(), stream(0.05, 0.01, 30));
  expect(s.decision).toBe('Failed');
  expect(s.decidedBy).toBe('error-rate');
  expect(s.reason).toMatch(/canary error rate is elevated/);
  expect(s.errorRate!.logLikelihoodRatio).toBeGreaterThanOrEqual(s.errorRate!.upperThreshold);
});

test('a decided state does not change', () => {
  const s = run(spec(), stream(0.05, 0.01, 30));
  expect(observe(spec(), s, { counts: counts(0, 0, 0, 0) }, T0 + 1e9)).toBe(s);
  expect(expire(spec(), s, T0 + 1e9)).toBe(s);
});

test('no decision by maxDuration is Inconclusive, with the always-valid p-value in the reason', () => {
  const short = spec({ maxDurationMs: 30_000 });
  const s = run(short, stream(0.015, 0.01, 4));
  expect(s.decision).toBe('Inconclusive');
  expect(s.decidedBy).toBe('max-duration');
  expect(s.reason).toMatch(
    /^maxDuration 30s reached without a decision \(log-likelihood ratio -?[\d.]+, always-valid p [\d.]+\)$/,
  );
  expect(s.errorRate!.decision).toBe('Inconclusive');
});

test('maxCanaryRequests reached is Inconclusive', () => {
  const s = run(spec({ test: { ...spec().test, maxCanaryRequests: 2000 } }), stream(0.015, 0.01, 10));
  expect(s.decision).toBe('Inconclusive');
  expect(s.decidedBy).toBe('max-requests');
});

test('read failures skip the interval; five in a row end Inconclusive; an invalid query ends it at once', () => {
  const good = stream(0.01, 0.01, 3);
  const fail: AnalysisReading = {
    countsError: { type: 'MetricsUnreachable', message: 'Prometheus at http://x unreachable (ECONNREFUSED)' },
  };
  // Wald's thresholds: one read of 20 errors evenly split moves the exact (batch-calibrated) test to a decision.
  const wald = spec({ test: { ...spec().test, boundaries: 'wald' } });
  let s = run(wald, [good[0], fail, good[1], fail, fail]);
  expect(s.decision).toBe('Continue');
  expect(s.readFailures).toBe(3);
  expect(s.consecutiveReadFailures).toBe(2);
  expect(s.errorRate!.observations).toBe(1);
  s = run(spec(), [good[0], ...Array(MAX_CONSECUTIVE_READ_FAILURES).fill(fail)]);
  expect(s.decision).toBe('Inconclusive');
  expect(s.decidedBy).toBe('metrics');
  expect(s.reason).toBe(
    'metrics unavailable for 5 intervals in a row: Prometheus at http://x unreachable (ECONNREFUSED)',
  );
  s = run(spec(), [
    good[0],
    { countsError: { type: 'MetricsQueryInvalid', message: 'Prometheus refused query `sum(`: bad_data: parse error' } },
  ]);
  expect(s.decision).toBe('Inconclusive');
  expect(s.reason).toBe('metrics query cannot work: Prometheus refused query `sum(`: bad_data: parse error');
  expect(analysisResult(s).lastReadError).toBe('Prometheus refused query `sum(`: bad_data: parse error');
});

test('a baseline with more errors than requests (scrape skew) is skipped; the next reading is the baseline', () => {
  const s = run(spec(), [{ counts: counts(10, 5, 0, 10) }, { counts: counts(1, 100, 1, 100) }]);
  expect(s.errorRate?.lastCounts).toEqual({ canaryErrors: 1, canaryTotal: 100, stableErrors: 1, stableTotal: 100 });
});

describe('latency', () => {
  const latency = { query: 'buckets', quantile: 0.95, boundSeconds: 0.5, minObservations: 200 };
  const withLatency = spec({ latency });
  // Cumulative bucket counters that grow by `per` requests per interval, all in one bucket.
  const fast = (i: number) => buckets(1000 + 100 * i, 1000 + 100 * i, 1000 + 100 * i, 1000 + 100 * i, 1000 + 100 * i);
  const slow = (i: number) => buckets(1000, 1000, 1000, 1000 + 100 * i, 1000 + 100 * i);

  test('a slow canary fails on latency once the window has enough requests, even with a good error rate', () => {
    const s = run(
      withLatency,
      stream(0.01, 0.01, 10).map((r, i) => ({ ...r, latency: { buckets: slow(i), at: '' } })),
    );
    expect(s.decision).toBe('Failed');
    expect(s.decidedBy).toBe('latency');
    expect(s.intervals).toBe(3); // 100 requests in the window after the 2nd reading, 200 after the 3rd
    expect(s.reason).toMatch(/^latency above its bound: p95 \d+ms vs bound 500ms over 200 requests/);
    expect(s.latency).toMatchObject({ verdict: 'ExceedsBound', observations: 200, exact: true });
  });

  test('error rate Successful waits for latency evidence, then is Successful', () => {
    const s = run(
      withLatency,
      stream(0.01, 0.01, 60).map((r, i) => ({ ...r, latency: { buckets: fast(i), at: '' } })),
    );
    expect(s.decision).toBe('Successful');
    expect(s.reason).toMatch(/latency within its bound: p95 \d+ms vs bound 500ms over \d+ requests$/);
    expect(s.latency!.observations).toBeGreaterThanOrEqual(200);
  });

  test('error rate Successful but too few latency observations by maxDuration is Inconclusive', () => {
    const few = spec({ latency: { ...latency, minObservations: 1_000_000 }, maxDurationMs: 600_000 });
    const s = run(
      few,
      stream(0.01, 0.01, 61).map((r, i) => ({ ...r, latency: { buckets: fast(i), at: '' } })),
    );
    expect(s.errorRate!.decision).toBe('Successful');
    expect(s.decision).toBe('Inconclusive');
    expect(s.reason).toMatch(
      /^maxDuration 600s reached: error rate passed but latency was not shown within its bound \(WithinBound, p95 \d+ms vs bound 500ms over 6000 requests, need 1000000 requests\)$/,
    );
  });

  test('a missing latency reading counts as a read failure; a histogram reset starts a new window', () => {
    let s = run(withLatency, [{ counts: counts(0, 10, 0, 10) }]);
    expect(s.readFailures).toBe(1);
    s = run(withLatency, [
      { counts: counts(0, 10, 0, 10), latency: { buckets: fast(5), at: '' } },
      { counts: counts(0, 20, 0, 20), latency: { buckets: fast(1), at: '' } },
    ]);
    expect(s.latencyResets).toBe(1);
    expect(s.latencyBaseline).toEqual(fast(1));
  });
});

test('bucketWindow: per-le differences, "1" and "1.0" are one bucket, a decrease is a reset', () => {
  expect(bucketWindow(buckets(1, 2, 3, 4, 5), buckets(2, 4, 6, 8, 10))).toEqual(buckets(1, 2, 3, 4, 5));
  expect(
    bucketWindow(
      [
        { le: '1.0', count: 3 },
        { le: '+Inf', count: 4 },
      ],
      [
        { le: '1', count: 5 },
        { le: '+Inf', count: 9 },
      ],
    ),
  ).toEqual([
    { le: '1', count: 2 },
    { le: '+Inf', count: 5 },
  ]);
  expect(bucketWindow(buckets(1, 2, 3, 4, 5), buckets(0, 0, 0, 0, 1))).toBe('reset');
});

test('nextReadDelay: to the next point of the interval grid, or less so the last read lands on the deadline', () => {
  const s = startAnalysis(spec({ maxDurationMs: 25_000 }), 0, T0);
  expect(nextReadDelay(spec(), s, T0)).toBe(10_000);
  expect(nextReadDelay(spec(), s, T0 + 10_250)).toBe(9_750);
  expect(nextReadDelay(spec(), s, T0 + 12_000)).toBe(8_000);
  expect(nextReadDelay(spec(), s, T0 + 20_000)).toBe(5_000);
  expect(nextReadDelay(spec(), s, T0 + 30_000)).toBe(1);
});

test('nextReadDelay with maxInterval: reads wait for about one new error, never past maxInterval; unpaced keeps the grid', () => {
  const paced = spec({ maxIntervalMs: 60_000, maxDurationMs: 3_600_000 });
  // Baseline at T0, then one error per 25 s seen over 100 s (4 errors): wait 3 intervals (30 s).
  let s = run(paced, [{ counts: counts(0, 0, 0, 0) }]);
  s = observe(paced, s, { counts: counts(1, 50, 3, 450) }, T0 + 100_000);
  expect(nextReadDelay(paced, s, T0 + 100_000)).toBe(30_000);
  // The same state read by a history recorded before the pacing: the grid.
  expect(nextReadDelay(paced, s, T0 + 100_000, false)).toBe(10_000);
  // No error in 100 s: wait as long again, capped at maxInterval (60 s).
  let quiet = run(paced, [{ counts: counts(0, 0, 0, 0) }]);
  quiet = observe(paced, quiet, { counts: counts(0, 50, 0, 450) }, T0 + 100_000);
  expect(nextReadDelay(paced, quiet, T0 + 100_000)).toBe(60_000);
  // Busy: many errors per interval, every interval.
  let busy = run(paced, [{ counts: counts(0, 0, 0, 0) }]);
  busy = observe(paced, busy, { counts: counts(10, 1000, 90, 9000) }, T0 + 10_000);
  expect(nextReadDelay(paced, busy, T0 + 10_000)).toBe(10_000);
  // Without maxInterval: the grid.
  expect(nextReadDelay(spec(), busy, T0 + 10_000)).toBe(10_000);
});

describe('latency comparison (stableQuery): slow counts of both versions through the sequential test', () => {
  const design = { ...spec().test, alpha: 0.025, canaryTrafficShare: 0.1 };
  const compare = spec({
    test: design,
    latency: { query: 'c', stableQuery: 's', quantile: 0.95, boundSeconds: 0.5, minObservations: 200, test: design },
  });
  const hist = (total: number, slow: number) => ({
    buckets: [
      { le: '0.5', count: total - slow },
      { le: '+Inf', count: total },
    ],
    at: '',
  });
  const reading = (i: number, canarySlowShare: number): AnalysisReading => ({
    counts: counts(Math.round(10 * i), 1000 * i, Math.round(90 * i), 9000 * i),
    latency: hist(1000 * i, Math.round(1000 * i * canarySlowShare)),
    stableLatency: hist(9000 * i, Math.round(9000 * i * 0.05)),
  });

  test('a canary with twice stable slow share fails by latency; the result carries both tests and the alpha', () => {
    const s = run(
      compare,
      Array.from({ length: 10 }, (_, i) => reading(i, 0.1)),
    );
    expect(s).toMatchObject({ decision: 'Failed', decidedBy: 'latency' });
    expect(s.reason).toMatch(/^share of requests slower than 500ms is elevated: /);
    const r = analysisResult(s);
    expect(r.alpha).toBe(0.05);
    expect(r.latencyTest).toMatchObject({ decision: 'Failed', design: { alpha: 0.025 } });
  });

  test('the same slow share passes once both tests pass; a missing stable histogram is a read failure', () => {
    const s = run(
      compare,
      Array.from({ length: 30 }, (_, i) => reading(i, 0.05)),
    );
    expect(s).toMatchObject({ decision: 'Successful', decidedBy: 'error-rate' });
    expect(s.reason).toMatch(/share slower than 500ms not elevated/);
    const missing = run(compare, [{ counts: counts(0, 10, 0, 10), latency: hist(10, 0) }]);
    expect(missing.readFailures).toBe(1);
  });

  test('a bound that is not a bucket edge ends Inconclusive (metrics), never Failed', () => {
    const off = { ...compare, latency: { ...compare.latency!, boundSeconds: 0.3 } };
    const s = run(off, [reading(0, 0.1), reading(1, 0.1)]);
    expect(s).toMatchObject({ decision: 'Inconclusive', decidedBy: 'metrics' });
    expect(s.reason).toBe(
      'latency comparison cannot work: canary histogram: the bound 0.3s is not a bucket edge of the histogram (edges: 0.5); choose one of them',
    );
  });
});

test('errors far more irregular than the stable history: Inconclusive, "data too irregular", by the error rate', () => {
  const s0 = startAnalysis(spec(), 2, T0);
  const bursty = Array.from({ length: 60 }, (_, i) => ({ errors: i % 10 === 0 ? 400 : 2, total: 10_000 }));
  let s = observeStableHistory(spec(), s0, bursty);
  expect(s.stableDispersion!.levels[0].factor).toBeGreaterThan(10);
  s = observe(spec(), s, { counts: counts(0, 0, 0, 0) }, T0);
  s = observe(spec(), s, { counts: counts(5, 1000, 5, 1000) }, T0 + 10_000);
  expect(s).toMatchObject({ decision: 'Inconclusive', decidedBy: 'error-rate' });
  expect(s.reason).toMatch(
    /^data too irregular to decide: error counts vary [\d.]+x more between intervals than independent errors allow \(limit 10\)$/,
  );
  const noHistory = observeStableHistory(spec(), s0, { error: 'Prometheus at http://x unreachable' });
  expect(noHistory.stableHistoryNote).toBe(
    "stable history unavailable (Prometheus at http://x unreachable); dispersion estimated from the analysis' own intervals",
  );
});
