// The resolved canary of one environment (from gantry.yaml's `canary:` block, see
// schema/canary.schema.json and src/config/resolveCanary.ts), and the requests and answers that
// cross between the canary workflows and their activities. Plain JSON: a plan travels inside the
// promotion's input, and evidence is stored in workflow history.
import type { HistogramBucket, LatencyBoundResult, SequentialTestConfig, SequentialTestEvidence } from '../analysis';

export interface CanaryPlan {
  router: RouterSpec;
  /** Absent only when no step is an analysis. */
  metrics?: MetricsProviderSpec;
  steps: CanaryStep[];
  /** What an analysis that ends Inconclusive does: abort the canary, or pause for a person. */
  onInconclusive: 'abort' | 'pause';
  /** Runs beside the steps; a Failed decision stops the walk and rolls back whatever step is running. */
  backgroundAnalysis?: CanaryAnalysisSpec;
  /**
   * The false-alarm budget of the whole canary: its analyses' alphas add up to at most this
   * (resolveCanary splits it). Absent in plans from before the budget.
   */
  alpha?: number;
}

// ---------------------------------------------------------------------------------------------
// Traffic routers. A router moves a share of requests between the stable and the canary version.

// One kind per router, each with its spec type and implementation in activities/traffic (type
// imports only: nothing of the activities runs in workflow code).
import type { RouterSpec } from '../../activities/traffic';
export type { RouterSpec };
export type { HaproxyRouter } from '../../activities/traffic/haproxy';
export type { HttpRouteRouter } from '../../activities/traffic/httpRoute';
export type { ReplicaRatioRouter } from '../../activities/traffic/replicaRatio';

// ---------------------------------------------------------------------------------------------
// Metric providers.

// One kind per provider, each with its spec type and implementation in activities/metrics.
import type { MetricsProviderSpec } from '../../activities/metrics';
export type { MetricsProviderSpec };
export type { PrometheusProvider } from '../../activities/metrics/prometheus';

// ---------------------------------------------------------------------------------------------
// Steps.

export type CanaryStep = SetWeightStep | PauseStep | AnalysisStep;

export interface SetWeightStep {
  kind: 'setWeight';
  /** Percent of requests the canary gets, 0..100. */
  weight: number;
}

export interface PauseStep {
  kind: 'pause';
  /** Sleep this long; absent: wait until an operator resumes the promotion. */
  durationMs?: number;
}

export interface AnalysisStep {
  kind: 'analysis';
  analysis: CanaryAnalysisSpec;
}

/** PromQL for one side: both must return one cumulative counter value (one series or a scalar). */
export interface SideQueries {
  errors: string;
  total: string;
}

export interface ErrorRateQueries {
  canary: SideQueries;
  stable: SideQueries;
}

export interface LatencySpec {
  /** PromQL returning the canary's cumulative histogram buckets, one series per `le`. */
  query: string;
  /** 0.95 for p95. */
  quantile: number;
  /** Largest acceptable value of that quantile, in seconds (the unit of Prometheus' `le`). */
  boundSeconds: number;
  /** Requests in the analysis window before the latency verdict counts, either way. */
  minObservations: number;
  /**
   * PromQL returning the stable version's histogram buckets. With it, latency is a test with error
   * control: the share of requests slower than `boundSeconds` (a bucket edge) on canary vs stable,
   * by the same conditional sequential test as errors (`test`); the quantile check against
   * `ceilingSeconds` is then only a guard. Without it, the quantile check against `boundSeconds`
   * is a guard with no error control (a canary near its bound fails often).
   */
  stableQuery?: string;
  /** The comparison's design: alpha (its share of the analysis' alpha), power, effect on the slow share. */
  test?: SequentialTestConfig;
  /** With stableQuery: the explicit absolute guard on the canary's quantile (absent: no guard). */
  ceilingSeconds?: number;
}

export interface CanaryAnalysisSpec {
  /** For people: `analysis-3` unless named in gantry.yaml. */
  name: string;
  queries: ErrorRateQueries;
  latency?: LatencySpec;
  /** The sequential test's design (src/analysis), validated by validateSequentialTestConfig. */
  test: SequentialTestConfig;
  /**
   * The shortest time between reads: Prometheus' scrape interval (a read between two scrapes sees
   * nothing new). Reads happen on this grid.
   */
  intervalMs: number;
  /**
   * The longest time between reads. Between the two, reads follow traffic: the next one comes once
   * about one new error (canary or stable) can have arrived to move the test. Absent: every interval.
   */
  maxIntervalMs?: number;
  /**
   * How much of the stable version's history to read before the baseline, for its dispersion
   * (errors in bursts or clusters). Absent: none is read; the analysis estimates it from its own intervals.
   */
  stableHistoryMs?: number;
  /** Without a decision by then, the analysis ends Inconclusive. */
  maxDurationMs: number;
  /** Reads per workflow run of the analysis before it continues as new (keeps history small). */
  continueAsNewEvery: number;
}

// ---------------------------------------------------------------------------------------------
// Activity requests and answers.

export interface SetCanaryWeightRequest {
  router: RouterSpec;
  /** 0..100: percent of requests to the canary; the stable server gets the rest. */
  weight: number;
  app: string;
  environment: string;
}

export interface SetCanaryWeightResult {
  weight: number;
  /** The canary's share before, in percent (rounded). */
  previous: number;
  /** False when the router already had these weights: nothing was written. */
  changed: boolean;
  detail: string;
}

export interface ReadCanaryCountsRequest {
  provider: MetricsProviderSpec;
  queries: ErrorRateQueries;
  /** Evaluation instant (ISO 8601); now when absent. All four queries are evaluated at one instant. */
  at?: string;
}

export interface CanaryCountsReading {
  canaryErrors: number;
  canaryTotal: number;
  stableErrors: number;
  stableTotal: number;
  /** The evaluation instant, ISO 8601. */
  at: string;
}

export interface ReadStableHistoryRequest {
  provider: MetricsProviderSpec;
  /** The stable version's error and request counters (the analysis' own stable queries). */
  queries: SideQueries;
  /** How far back from `at` to read, and the step between points (the analysis interval). */
  lookbackMs: number;
  stepMs: number;
  at?: string;
}

/** The stable version's increments per step, oldest first; intervals across a counter reset are left out. */
export interface StableHistoryReading {
  increments: { errors: number; total: number }[];
  at: string;
}

export interface ReadLatencyBucketsRequest {
  provider: MetricsProviderSpec;
  query: string;
  at?: string;
}

export interface LatencyBucketsReading {
  /** Cumulative bucket counters; `le` as Prometheus labels it ("0.1", "+Inf"). */
  buckets: HistogramBucket[];
  at: string;
}

// ---------------------------------------------------------------------------------------------
// Outcomes.

export type AnalysisDecision = 'Successful' | 'Failed' | 'Inconclusive';

/** What decided an analysis. */
export type DecidedBy = 'error-rate' | 'latency' | 'max-duration' | 'max-requests' | 'metrics';

export interface CanaryAnalysisResult {
  name: string;
  stepIndex: number;
  /** This analysis' share of the canary's false-alarm budget (absent from results before the budget). */
  alpha?: number;
  /** The latency comparison's evidence (slow counts through the sequential test), when configured. */
  latencyTest?: SequentialTestEvidence | null;
  /** Why the stable history did not give a dispersion (the analysis then estimated it itself). */
  stableHistoryNote?: string | null;
  decision: AnalysisDecision;
  reason: string;
  decidedBy: DecidedBy;
  /** The sequential test's evidence: counts, log-likelihood ratio, thresholds, p-value; null if no counts were ever read. */
  errorRate: SequentialTestEvidence | null;
  /** The latest latency check on the analysis window; null when not configured or never read. */
  latency: LatencyBoundResult | null;
  /** Requests the error-rate test consumed until the decision. */
  requestsToDecision: { canary: number; stable: number; total: number };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Reads attempted, and workflow runs (1 + continue-as-new count). */
  intervals: number;
  runs: number;
  readFailures: number;
  lastReadError: string | null;
}

export interface CanaryStepRecord {
  index: number;
  kind: CanaryStep['kind'];
  /** e.g. `setWeight 25`, `pause 5m`, `pause until resumed`, `analysis error-rate`. */
  description: string;
  startedAt: string;
  finishedAt?: string;
  result?: 'ok' | 'failed' | 'inconclusive' | 'resumed' | 'cancelled';
  detail?: string;
}

export interface CanaryEvidence {
  steps: CanaryStepRecord[];
  analyses: CanaryAnalysisResult[];
  /** The canary's weight now: runCanary updates it as it goes (0 after a rollback or an abort). */
  weight: number;
}

export interface CanaryRunResult {
  outcome: 'Successful' | 'Failed' | 'Aborted';
  evidence: CanaryEvidence;
  reason?: string;
}
