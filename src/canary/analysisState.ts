// One canary analysis as a pure state machine: the workflow (workflows/canaryAnalysis.ts) reads
// metrics every interval and folds each reading in here; the state is plain JSON, carried across
// continue-as-new and returned as evidence. No clock, no I/O: the workflow passes the time in.
//
// Policy:
// - The first good counts reading is the baseline (raw Prometheus counters carry history); each
//   later one is evaluated by the conditional sequential test (src/analysis).
// - Error test Failed -> Failed. Latency quantile above its bound over the analysis window, with at
//   least minObservations requests -> Failed.
// - Error test Successful -> Successful, once the latency (when configured) is within its bound on
//   at least minObservations requests; until then the analysis waits for latency evidence.
// - maxCanaryRequests reached -> Inconclusive. maxDuration reached -> Inconclusive (finalize).
// - A read that fails is skipped (the next one covers the gap). An invalid query, or
//   MAX_CONSECUTIVE_READ_FAILURES failures in a row, ends the analysis Inconclusive: metrics
//   problems are never a verdict on the canary.
import {
  checkLatencyBound,
  createSequentialTest,
  slowerThan,
  evaluate,
  stableDispersionModel,
  type DispersionModel,
  type StableIncrement,
  finalize,
  type HistogramBucket,
  type LatencyBoundResult,
  type SequentialTestEvidence,
} from '../analysis';
import { PERMANENT_METRICS_ERRORS } from './errorTypes';
import type {
  AnalysisDecision,
  CanaryAnalysisResult,
  CanaryAnalysisSpec,
  CanaryCountsReading,
  DecidedBy,
  LatencyBucketsReading,
} from './types';

export const MAX_CONSECUTIVE_READ_FAILURES = 5;

export interface ReadFailure {
  type?: string;
  message: string;
}

/** One interval's reads: each either a value or why it failed. */
export interface AnalysisReading {
  counts?: CanaryCountsReading;
  countsError?: ReadFailure;
  latency?: LatencyBucketsReading;
  latencyError?: ReadFailure;
  /** The stable version's buckets, when the latency comparison is configured. */
  stableLatency?: LatencyBucketsReading;
  stableLatencyError?: ReadFailure;
}

export interface AnalysisState {
  version: 1;
  name: string;
  stepIndex: number;
  startedAtMs: number;
  deadlineMs: number;
  decision: AnalysisDecision | 'Continue';
  reason: string;
  decidedBy: DecidedBy | null;
  finishedAtMs: number | null;
  /** Null until the first good counts reading (the baseline). */
  errorRate: SequentialTestEvidence | null;
  /** When the baseline was read (paces the reads by the error rate since). */
  baselineAtMs?: number | null;
  /** The stable version's dispersion by interval size, from its history before the analysis; null when not read. */
  stableDispersion?: DispersionModel | null;
  /** Why the stable history gave no dispersion (read failed, too short): then the analysis estimates it from its own intervals. */
  stableHistoryNote?: string | null;
  /** Latency buckets at the start of the window; null until the first good latency reading. */
  latencyBaseline: HistogramBucket[] | null;
  latency: LatencyBoundResult | null;
  latencyResets: number;
  /** The latency comparison (slow counts canary vs stable), null until its baseline or when not configured. */
  latencyTest?: SequentialTestEvidence | null;
  /** This analysis' alpha (its share of the canary's budget), for the status. */
  alpha?: number;
  /** 3: the sequential tests' version-3 look sizes and dispersion levels; absent (analyses started before): 2. */
  testVersion?: 3;
  /** Reads attempted; workflow runs (1 + continue-as-new count). */
  intervals: number;
  runs: number;
  readFailures: number;
  consecutiveReadFailures: number;
  lastReadError: string | null;
}

export function startAnalysis(
  spec: CanaryAnalysisSpec,
  stepIndex: number,
  nowMs: number,
  testVersion: 2 | 3 = 3,
): AnalysisState {
  return {
    version: 1,
    name: spec.name,
    stepIndex,
    startedAtMs: nowMs,
    deadlineMs: nowMs + spec.maxDurationMs,
    decision: 'Continue',
    reason: 'no reading yet',
    decidedBy: null,
    finishedAtMs: null,
    errorRate: null,
    baselineAtMs: null,
    latencyBaseline: null,
    latency: null,
    latencyResets: 0,
    latencyTest: null,
    alpha: spec.test.alpha + (spec.latency?.test?.alpha ?? 0),
    ...(testVersion === 3 ? { testVersion } : {}),
    intervals: 0,
    runs: 1,
    readFailures: 0,
    consecutiveReadFailures: 0,
    lastReadError: null,
  };
}

const end = (
  s: AnalysisState,
  decision: AnalysisDecision,
  decidedBy: DecidedBy,
  reason: string,
  nowMs: number,
): AnalysisState => ({
  ...s,
  decision,
  decidedBy,
  reason,
  finishedAtMs: nowMs,
});

/** Folds one interval's reading into the state. A decided state is returned unchanged. */
export function observe(
  spec: CanaryAnalysisSpec,
  state: AnalysisState,
  reading: AnalysisReading,
  nowMs: number,
): AnalysisState {
  if (state.decision !== 'Continue') return state;
  let s: AnalysisState = { ...state, intervals: state.intervals + 1 };

  // Metric reads.
  const compareLatency = spec.latency?.stableQuery !== undefined;
  const failures = [
    reading.countsError,
    spec.latency ? reading.latencyError : undefined,
    compareLatency ? reading.stableLatencyError : undefined,
  ].filter((f): f is ReadFailure => f !== undefined);
  const permanent = failures.find((f) => (PERMANENT_METRICS_ERRORS as readonly string[]).includes(f.type ?? ''));
  if (permanent)
    return end(
      { ...s, readFailures: s.readFailures + 1, lastReadError: permanent.message },
      'Inconclusive',
      'metrics',
      `metrics query cannot work: ${permanent.message}`,
      nowMs,
    );
  if (
    failures.length > 0 ||
    !reading.counts ||
    (spec.latency && !reading.latency) ||
    (compareLatency && !reading.stableLatency)
  ) {
    const message = failures.map((f) => f.message).join('; ') || 'no reading';
    s = {
      ...s,
      readFailures: s.readFailures + 1,
      consecutiveReadFailures: s.consecutiveReadFailures + 1,
      lastReadError: message,
    };
    if (s.consecutiveReadFailures >= MAX_CONSECUTIVE_READ_FAILURES) {
      return end(
        s,
        'Inconclusive',
        'metrics',
        `metrics unavailable for ${s.consecutiveReadFailures} intervals in a row: ${message}`,
        nowMs,
      );
    }
  } else {
    s = { ...s, consecutiveReadFailures: 0 };
  }

  if (reading.counts && !reading.countsError) {
    const hadBaseline = s.errorRate !== null;
    s = foldCounts(spec, s, reading.counts);
    if (!hadBaseline && s.errorRate) s = { ...s, baselineAtMs: nowMs };
  }
  if (spec.latency && reading.latency && !reading.latencyError) s = foldLatency(spec, s, reading.latency.buckets);
  if (
    compareLatency &&
    reading.latency &&
    reading.stableLatency &&
    !reading.latencyError &&
    !reading.stableLatencyError
  ) {
    const folded = foldLatencyComparison(spec, s, reading.latency.buckets, reading.stableLatency.buckets);
    if (typeof folded === 'string')
      return end(
        { ...s, lastReadError: folded },
        'Inconclusive',
        'metrics',
        `latency comparison cannot work: ${folded}`,
        nowMs,
      );
    s = folded;
  }
  return decide(spec, s, nowMs);
}

function foldCounts(spec: CanaryAnalysisSpec, s: AnalysisState, c: CanaryCountsReading): AnalysisState {
  const counts = {
    canaryErrors: c.canaryErrors,
    canaryTotal: c.canaryTotal,
    stableErrors: c.stableErrors,
    stableTotal: c.stableTotal,
  };
  if (s.errorRate) return { ...s, errorRate: evaluate(s.errorRate, counts) };
  // The baseline. createSequentialTest throws on unusable start counts (errors > requests when two
  // counters were scraped at different instants): skip it, the next reading becomes the baseline.
  const valid =
    Object.values(counts).every((v) => Number.isFinite(v) && v >= 0) &&
    Math.round(c.canaryErrors) <= Math.round(c.canaryTotal) &&
    Math.round(c.stableErrors) <= Math.round(c.stableTotal);
  if (!valid) return { ...s, lastReadError: `unusable baseline counts ${JSON.stringify(counts)}` };
  const stableDispersion = s.stableDispersion ? { stableDispersion: s.stableDispersion } : {};
  return { ...s, errorRate: createSequentialTest({ ...spec.test, ...stableDispersion }, counts, testVersion(s)) };
}

const testVersion = (s: AnalysisState): 2 | 3 => s.testVersion ?? 2;

/** Largest block (in read intervals) the stable history's dispersion is measured for. */
export function dispersionBlocks(spec: CanaryAnalysisSpec): number {
  const ratio = Math.max(1, Math.floor((spec.maxIntervalMs ?? spec.intervalMs) / spec.intervalMs));
  let g = 1;
  while (g * 2 <= ratio * 2 && g < 16) g *= 2;
  return g;
}

/**
 * Folds in the stable version's history (one increment per read interval, oldest first, read once
 * before the baseline): its dispersion by interval size discounts the evidence of every interval.
 * A failed read is noted; the analysis then estimates dispersion from its own intervals.
 */
export function observeStableHistory(
  spec: CanaryAnalysisSpec,
  state: AnalysisState,
  history: readonly StableIncrement[] | { error: string },
): AnalysisState {
  if ('error' in history)
    return {
      ...state,
      stableDispersion: null,
      stableHistoryNote: `stable history unavailable (${history.error}); dispersion estimated from the analysis' own intervals`,
    };
  const model = stableDispersionModel(history, dispersionBlocks(spec), testVersion(state));
  if (!model)
    return {
      ...state,
      stableDispersion: null,
      stableHistoryNote: `stable history too short or without errors (${history.length} intervals); dispersion estimated from the analysis' own intervals`,
    };
  return { ...state, stableDispersion: model, stableHistoryNote: null };
}

/** Slow counts of both versions into the latency comparison (the first good pair is its baseline). */
function foldLatencyComparison(
  spec: CanaryAnalysisSpec,
  s: AnalysisState,
  canary: HistogramBucket[],
  stable: HistogramBucket[],
): AnalysisState | string {
  const latency = spec.latency!;
  const c = slowerThan(canary, latency.boundSeconds);
  const st = slowerThan(stable, latency.boundSeconds);
  if (typeof c === 'string') return `canary histogram: ${c}`;
  if (typeof st === 'string') return `stable histogram: ${st}`;
  const counts = { canaryErrors: c.slow, canaryTotal: c.total, stableErrors: st.slow, stableTotal: st.total };
  if (s.latencyTest) return { ...s, latencyTest: evaluate(s.latencyTest, counts) };
  const design = latency.test ?? spec.test;
  return { ...s, latencyTest: createSequentialTest(design, counts, testVersion(s)) };
}

function foldLatency(spec: CanaryAnalysisSpec, s: AnalysisState, buckets: HistogramBucket[]): AnalysisState {
  const latency = spec.latency!;
  if (!s.latencyBaseline) return { ...s, latencyBaseline: buckets };
  const window = bucketWindow(s.latencyBaseline, buckets);
  if (window === 'reset') return { ...s, latencyBaseline: buckets, latencyResets: s.latencyResets + 1 };
  // With the comparison the quantile is checked against the ceiling guard (or only shown, without one).
  const bound =
    latency.stableQuery !== undefined ? (latency.ceilingSeconds ?? latency.boundSeconds) : latency.boundSeconds;
  return { ...s, latency: checkLatencyBound(window, { quantile: latency.quantile, bound }) };
}

/**
 * The histogram of the window between two readings of cumulative bucket counters: per `le`, now
 * minus then. A bucket that went down means a counter reset (restart): 'reset', start a new window.
 */
export function bucketWindow(
  then: readonly HistogramBucket[],
  now: readonly HistogramBucket[],
): HistogramBucket[] | 'reset' {
  const key = (le: number | string) => {
    const n = typeof le === 'number' ? le : /^\+?inf/i.test(le.trim()) ? Infinity : Number(le);
    return Number.isNaN(n) ? String(le) : String(n);
  };
  const before = new Map<string, number>();
  for (const b of then) before.set(key(b.le), (before.get(key(b.le)) ?? 0) + b.count);
  const merged = new Map<string, { le: number | string; count: number }>();
  for (const b of now) {
    const k = key(b.le);
    const m = merged.get(k);
    if (m) m.count += b.count;
    else merged.set(k, { le: b.le, count: b.count });
  }
  const out: HistogramBucket[] = [];
  for (const [k, b] of merged) {
    const delta = b.count - (before.get(k) ?? 0);
    if (delta < 0) return 'reset';
    out.push({ le: b.le, count: delta });
  }
  return out;
}

function latencyText(l: LatencyBoundResult): string {
  const value = l.value === null ? 'n/a' : `${Math.round(l.value * 1000)}ms`;
  return `p${+(l.quantile * 100).toFixed(4)} ${value} vs bound ${Math.round(l.bound * 1000)}ms over ${l.observations} requests`;
}

function decide(spec: CanaryAnalysisSpec, s: AnalysisState, nowMs: number): AnalysisState {
  const test = s.errorRate;
  if (test?.decision === 'Failed') return end(s, 'Failed', 'error-rate', test.reason, nowMs);
  const compared = s.latencyTest ?? null;
  if (compared?.decision === 'Failed')
    return end(
      s,
      'Failed',
      'latency',
      `share of requests slower than ${Math.round(spec.latency!.boundSeconds * 1000)}ms is elevated: ${compared.reason}`,
      nowMs,
    );
  if (compared?.decision === 'Inconclusive')
    return end(s, 'Inconclusive', 'latency', `latency comparison: ${compared.reason}`, nowMs);
  const l = s.latency;
  const latencySpec = spec.latency;
  // With the comparison, the quantile check is only the explicit ceiling guard (absent: none).
  const guardBound = latencySpec?.stableQuery !== undefined ? latencySpec.ceilingSeconds : latencySpec?.boundSeconds;
  const g = l;
  const latencyCounts =
    latencySpec !== undefined &&
    guardBound !== undefined &&
    g !== null &&
    g.observations >= latencySpec.minObservations;
  if (latencyCounts && g.verdict === 'ExceedsBound')
    return end(
      s,
      'Failed',
      'latency',
      `latency above its ${latencySpec.stableQuery !== undefined ? 'ceiling' : 'bound'}: ${latencyText(g)} (${g.reason})`,
      nowMs,
    );
  const comparisonDone = latencySpec?.stableQuery === undefined || compared?.decision === 'Successful';
  if (test?.decision === 'Successful' && !comparisonDone) {
    s = {
      ...s,
      reason: `error rate passed (${test.reason}); latency comparison still undecided (${compared ? compared.reason : 'no baseline yet'})`,
    };
  } else if (test?.decision === 'Successful') {
    const comparedText = compared
      ? `; share slower than ${Math.round(latencySpec!.boundSeconds * 1000)}ms not elevated (${compared.reason})`
      : '';
    if (!latencySpec || guardBound === undefined)
      return end(s, 'Successful', 'error-rate', `${test.reason}${comparedText}`, nowMs);
    if (latencyCounts && g.verdict === 'WithinBound')
      return end(
        s,
        'Successful',
        'error-rate',
        `${test.reason}${comparedText}; latency within its ${latencySpec.stableQuery !== undefined ? 'ceiling' : 'bound'}: ${latencyText(g)}`,
        nowMs,
      );
    s = {
      ...s,
      reason: `error rate passed (${test.reason}); waiting for latency evidence (${l ? latencyText(l) : 'no latency window yet'}, need ${latencySpec.minObservations} requests)`,
    };
  } else if (test?.decision === 'Inconclusive') {
    return end(
      s,
      'Inconclusive',
      test.reason.startsWith('data too irregular') ? 'error-rate' : 'max-requests',
      test.reason,
      nowMs,
    );
  } else {
    s = { ...s, reason: test ? test.reason : 'waiting for a baseline reading' };
  }
  return nowMs >= s.deadlineMs ? expire(spec, s, nowMs) : s;
}

/** maxDuration reached: whatever is undecided becomes Inconclusive. */
export function expire(spec: CanaryAnalysisSpec, s: AnalysisState, nowMs: number): AnalysisState {
  if (s.decision !== 'Continue') return s;
  const window = `maxDuration ${Math.round(spec.maxDurationMs / 1000)}s reached`;
  if (!s.errorRate)
    return end(
      s,
      'Inconclusive',
      'max-duration',
      `${window} without a usable reading${s.lastReadError ? ` (last error: ${s.lastReadError})` : ''}`,
      nowMs,
    );
  if (s.errorRate.decision === 'Successful') {
    const l = s.latency;
    return end(
      s,
      'Inconclusive',
      'max-duration',
      `${window}: error rate passed but latency was not shown within its bound (${l ? `${l.verdict}, ${latencyText(l)}` : 'no latency window'}, need ${spec.latency?.minObservations} requests)`,
      nowMs,
    );
  }
  const errorRate = finalize(s.errorRate, window);
  return end({ ...s, errorRate }, 'Inconclusive', 'max-duration', errorRate.reason, nowMs);
}

/**
 * How long to sleep before the next read: to the next point of the interval grid counted from the
 * start (reads do not drift by the time each read takes; a read slower than an interval skips a
 * point), or less to read once more at the deadline.
 */
export function nextReadDelay(spec: CanaryAnalysisSpec, s: AnalysisState, nowMs: number, paced = true): number {
  const sinceStart = Math.max(0, nowMs - s.startedAtMs);
  const toGrid = spec.intervalMs - (sinceStart % spec.intervalMs);
  const skip = paced ? intervalsToSkip(spec, s, nowMs) : 0;
  return Math.max(1, Math.min(toGrid + skip * spec.intervalMs, s.deadlineMs - nowMs));
}

/**
 * Grid points to let pass before the next read: a read that cannot hold a new error cannot move
 * the test, so at low traffic the analysis waits until about one error (canary or stable, at the
 * rate seen since the baseline) can have arrived, up to maxInterval. With no error yet, it waits as
 * long again as it has already waited. Reads only cost history events; the thresholds account for
 * how many errors each read brings, so this is about events, not about the decision.
 */
function intervalsToSkip(spec: CanaryAnalysisSpec, s: AnalysisState, nowMs: number): number {
  const max = spec.maxIntervalMs;
  const test = s.errorRate;
  if (max === undefined || max <= spec.intervalMs || !test || s.baselineAtMs === undefined || s.baselineAtMs === null)
    return 0;
  const elapsed = nowMs - s.baselineAtMs;
  if (elapsed <= 0) return 0;
  const errors = test.errors.canary + test.errors.stable;
  const msPerError = errors > 0 ? elapsed / errors : elapsed;
  const intervals = Math.min(Math.floor(max / spec.intervalMs), Math.ceil(msPerError / spec.intervalMs));
  return Math.max(0, intervals - 1);
}

export function analysisResult(s: AnalysisState): CanaryAnalysisResult {
  const finishedAtMs = s.finishedAtMs ?? s.startedAtMs;
  const requests = s.errorRate?.requests ?? { canary: 0, stable: 0, total: 0 };
  return {
    name: s.name,
    stepIndex: s.stepIndex,
    ...(s.alpha !== undefined ? { alpha: s.alpha } : {}),
    ...(s.latencyTest ? { latencyTest: s.latencyTest } : {}),
    ...(s.stableHistoryNote ? { stableHistoryNote: s.stableHistoryNote } : {}),
    decision: s.decision === 'Continue' ? 'Inconclusive' : s.decision,
    reason: s.reason,
    decidedBy: s.decidedBy ?? 'max-duration',
    errorRate: s.errorRate,
    latency: s.latency,
    requestsToDecision: { ...requests },
    startedAt: new Date(s.startedAtMs).toISOString(),
    finishedAt: new Date(finishedAtMs).toISOString(),
    durationMs: finishedAtMs - s.startedAtMs,
    intervals: s.intervals,
    runs: s.runs,
    readFailures: s.readFailures,
    lastReadError: s.lastReadError,
  };
}
