// One canary analysis, as a child workflow of the promotion (started by runCanary.ts): every
// interval a short activity reads the counters (and the latency buckets), and the pure state
// machine in src/canary/analysisState.ts folds them into the sequential test's evidence, until the
// test decides (Successful, Failed) or maxDuration ends it (Inconclusive). No heartbeats: each read
// is a short activity with its own timeout. Every `continueAsNewEvery` reads (or when Temporal
// suggests it) it continues as new carrying the state, so its history stays small however long
// the analysis runs. Deterministic: time is workflow time, all I/O is in activities.
import { continueAsNew, isCancellation, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type * as metrics from '../activities/metrics';
import {
  analysisResult,
  nextReadDelay,
  observe,
  observeStableHistory,
  startAnalysis,
  type AnalysisReading,
  type AnalysisState,
} from '../src/canary/analysisState';
import type { CanaryAnalysisResult, CanaryAnalysisSpec, MetricsProviderSpec } from '../src/canary/types';
import { readFailure } from '../src/canary/failures';
import { activityOptions } from './activityOptions';
import { onEnvironmentQueue } from './environmentQueue';

export interface CanaryAnalysisInput {
  spec: CanaryAnalysisSpec;
  provider: MetricsProviderSpec;
  app: string;
  environment: string;
  /** The environment's task queue: metrics are read from inside the environment; absent: the main queue. */
  taskQueue?: string;
  stepIndex: number;
  /** Carried across continue-as-new; absent on the first run. */
  state?: AnalysisState;
}

const reads = proxyActivities<typeof metrics>(activityOptions.perCall);

export async function canaryAnalysis(input: CanaryAnalysisInput): Promise<CanaryAnalysisResult> {
  const { spec } = input;
  // Version-3 look sizes and dispersion levels change decisions: analyses recorded before keep version 2
  // (a continued run carries its version in the state).
  let state: AnalysisState =
    input.state ?? startAnalysis(spec, input.stepIndex, Date.now(), patched('canary-read-overshoot-looks') ? 3 : 2);
  if (!input.state && spec.stableHistoryMs !== undefined && patched('canary-stable-dispersion'))
    state = observeStableHistory(spec, state, await readStableHistory(input));
  let readsThisRun = 0;
  for (;;) {
    // Reads paced by traffic change the timers an analysis starts: old histories keep the fixed grid.
    if (state.intervals > 0)
      await sleep(nextReadDelay(spec, state, Date.now(), patched('canary-reads-follow-traffic')));
    const reading = await read(input);
    state = observe(spec, state, reading, Date.now());
    readsThisRun++;
    if (state.decision !== 'Continue') return analysisResult(state);
    if (readsThisRun >= spec.continueAsNewEvery || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof canaryAnalysis>({ ...input, state: { ...state, runs: state.runs + 1 } });
    }
  }
}

async function read(input: CanaryAnalysisInput): Promise<AnalysisReading> {
  const { spec, provider, environment } = input;
  const options = onEnvironmentQueue(activityOptions.metricsRead(provider, spec), input.taskQueue);
  const stableQuery = spec.latency?.stableQuery;
  const [counts, latency, stableLatency] = await Promise.allSettled([
    reads.readCanaryCounts.executeWithOptions({ ...options, summary: `canary counts ${spec.name} ${environment}` }, [
      { provider, queries: spec.queries },
    ]),
    spec.latency
      ? reads.readLatencyBuckets.executeWithOptions(
          { ...options, summary: `canary latency ${spec.name} ${environment}` },
          [{ provider, query: spec.latency.query }],
        )
      : Promise.resolve(undefined),
    // Only configs with the latency comparison read it: histories of others are unchanged.
    stableQuery !== undefined
      ? reads.readLatencyBuckets.executeWithOptions(
          { ...options, summary: `stable latency ${spec.name} ${environment}` },
          [{ provider, query: stableQuery }],
        )
      : Promise.resolve(undefined),
  ]);
  for (const r of [counts, latency, stableLatency])
    if (r.status === 'rejected' && isCancellation(r.reason)) throw r.reason;
  return {
    ...(counts.status === 'fulfilled' ? { counts: counts.value } : { countsError: readFailure(counts.reason) }),
    ...(latency.status === 'fulfilled'
      ? latency.value
        ? { latency: latency.value }
        : {}
      : { latencyError: readFailure(latency.reason) }),
    ...(stableLatency.status === 'fulfilled'
      ? stableLatency.value
        ? { stableLatency: stableLatency.value }
        : {}
      : { stableLatencyError: readFailure(stableLatency.reason) }),
  };
}

/** The stable version's history before the baseline; a failure is no verdict, the analysis goes on without it. */
async function readStableHistory(
  input: CanaryAnalysisInput,
): Promise<{ errors: number; total: number }[] | { error: string }> {
  const { spec, provider, environment } = input;
  try {
    const reading = await reads.readStableHistory.executeWithOptions(
      { ...activityOptions.metricsRead(provider, spec), summary: `stable history ${spec.name} ${environment}` },
      [{ provider, queries: spec.queries.stable, lookbackMs: spec.stableHistoryMs!, stepMs: spec.intervalMs }],
    );
    return reading.increments;
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { error: readFailure(err).message };
  }
}
