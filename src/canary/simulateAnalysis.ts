// Drives the real analysis state machine (analysisState.ts: observe, nextReadDelay, the sequential
// test inside) over seeded scrapes, with workflow time simulated, and judges the same scrapes with
// a fixed-horizon z-test and a Kayenta-style Mann-Whitney test. For bench/canaryScenarios.ts and the
// tests. Pure: randomness only from the PRNG passed in.
import { createRng, mean, quantileOfSample, wilsonInterval } from '../analysis/simulateCanary';
import {
  fixedHorizonJudgement,
  mannWhitneyJudgement,
  scrapeStream,
  type Scrape,
  type TrafficScenario,
} from '../analysis/trafficSimulation';
import { nextReadDelay, observe, observeStableHistory, startAnalysis } from './analysisState';
import type { AnalysisDecision, CanaryAnalysisSpec } from './types';

export interface ScenarioRun {
  readonly decision: AnalysisDecision;
  readonly decidedBy: string;
  readonly canaryRequests: number;
  readonly seconds: number;
  readonly reads: number;
  /** Fixed horizon at the first scrape with its sample size: failed? and canary requests used. */
  readonly fixedFailed: boolean;
  readonly fixedCanaryRequests: number;
  readonly fixedSeconds: number;
  readonly mannWhitneyFailed: boolean;
}

/** One canary through the analysis, and the two comparisons, on the same scrapes. */
/** A latency histogram of one side as two buckets: within the bound, and +Inf. */
function twoBuckets(boundSeconds: number, total: number, slow: number) {
  return {
    buckets: [
      { le: boundSeconds, count: total - slow },
      { le: '+Inf', count: total },
    ],
    at: '',
  };
}

export function simulateAnalysisRun(
  spec: CanaryAnalysisSpec,
  scenario: TrafficScenario,
  fixedCanaryRequests: number,
  rng: () => number,
): ScenarioRun {
  const stream = scrapeStream(scenario, rng);
  const scrapes: Scrape[] = [
    { atSeconds: 0, canaryErrors: 0, canaryTotal: 0, stableErrors: 0, stableTotal: 0, canarySlow: 0, stableSlow: 0 },
  ];
  const scrapeAt = (ms: number): Scrape => {
    const index = Math.floor(ms / 1000 / scenario.scrapeIntervalSeconds + 1e-9);
    while (scrapes.length <= index) scrapes.push(stream.next());
    return scrapes[index];
  };
  const reading = (ms: number) => {
    const s = scrapeAt(ms);
    return {
      counts: {
        canaryErrors: s.canaryErrors,
        canaryTotal: s.canaryTotal,
        stableErrors: s.stableErrors,
        stableTotal: s.stableTotal,
        at: '',
      },
      // Latency as two buckets: within the bound, and +Inf.
      ...(spec.latency ? { latency: twoBuckets(spec.latency.boundSeconds, s.canaryTotal, s.canarySlow) } : {}),
      ...(spec.latency?.stableQuery
        ? { stableLatency: twoBuckets(spec.latency.boundSeconds, s.stableTotal, s.stableSlow) }
        : {}),
    };
  };
  let now = 0;
  let state = startAnalysis(spec, 0, now);
  if (spec.stableHistoryMs !== undefined) {
    // The stable version's history, as the workflow reads it before the baseline (one point per interval).
    const historyStream = scrapeStream({ ...scenario, scrapeIntervalSeconds: spec.intervalMs / 1000 }, rng);
    const history: { errors: number; total: number }[] = [];
    let previous = { stableErrors: 0, stableTotal: 0 };
    for (let k = 0; k < Math.round(spec.stableHistoryMs / spec.intervalMs); k++) {
      const h = historyStream.next();
      history.push({ errors: h.stableErrors - previous.stableErrors, total: h.stableTotal - previous.stableTotal });
      previous = h;
    }
    state = observeStableHistory(spec, state, history);
  }
  state = observe(spec, state, reading(now), now);
  while (state.decision === 'Continue') {
    now += nextReadDelay(spec, state, now);
    state = observe(spec, state, reading(now), now);
  }
  // The comparisons: the fixed-horizon test looks once, at the first scrape holding its sample.
  let i = 0;
  while (scrapeAt(i * scenario.scrapeIntervalSeconds * 1000).canaryTotal < fixedCanaryRequests) i++;
  const horizon = scrapes[i];
  const canaryRates: number[] = [];
  const stableRates: number[] = [];
  for (let k = 1; k <= i; k++) {
    const a = scrapes[k - 1];
    const b = scrapes[k];
    if (b.canaryTotal > a.canaryTotal)
      canaryRates.push((b.canaryErrors - a.canaryErrors) / (b.canaryTotal - a.canaryTotal));
    if (b.stableTotal > a.stableTotal)
      stableRates.push((b.stableErrors - a.stableErrors) / (b.stableTotal - a.stableTotal));
  }
  return {
    decision: state.decision,
    decidedBy: state.decidedBy ?? 'max-duration',
    canaryRequests: state.errorRate?.requests.canary ?? 0,
    seconds: ((state.finishedAtMs ?? now) - state.startedAtMs) / 1000,
    reads: state.intervals,
    fixedFailed: fixedHorizonJudgement(horizon, spec.test.alpha),
    fixedCanaryRequests: horizon.canaryTotal,
    fixedSeconds: horizon.atSeconds,
    mannWhitneyFailed: mannWhitneyJudgement(canaryRates, stableRates, spec.test.alpha),
  };
}

export interface ScenarioSummary {
  readonly runs: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly failedRate: number;
  readonly failedRateInterval: { readonly lower: number; readonly upper: number };
  readonly meanCanaryRequests: number;
  readonly p95CanaryRequests: number;
  readonly meanSeconds: number;
  readonly p95Seconds: number;
  readonly meanReads: number;
  readonly fixedFailedRate: number;
  readonly fixedCanaryRequests: number;
  readonly fixedSeconds: number;
  readonly mannWhitneyFailedRate: number;
}

export function simulateScenario(
  spec: CanaryAnalysisSpec,
  scenario: TrafficScenario,
  fixedCanaryRequests: number,
  runs: number,
  seed: number,
): ScenarioSummary {
  const rng = createRng(seed);
  const all: ScenarioRun[] = [];
  for (let r = 0; r < runs; r++) all.push(simulateAnalysisRun(spec, scenario, fixedCanaryRequests, rng));
  const failed = all.filter((r) => r.decision === 'Failed').length;
  const canary = all.map((r) => r.canaryRequests);
  const seconds = all.map((r) => r.seconds);
  return {
    runs,
    failed,
    inconclusive: all.filter((r) => r.decision === 'Inconclusive').length,
    failedRate: failed / runs,
    failedRateInterval: wilsonInterval(failed, runs),
    meanCanaryRequests: mean(canary),
    p95CanaryRequests: quantileOfSample(canary, 0.95),
    meanSeconds: mean(seconds),
    p95Seconds: quantileOfSample(seconds, 0.95),
    meanReads: mean(all.map((r) => r.reads)),
    fixedFailedRate: all.filter((r) => r.fixedFailed).length / runs,
    fixedCanaryRequests: mean(all.map((r) => r.fixedCanaryRequests)),
    fixedSeconds: mean(all.map((r) => r.fixedSeconds)),
    mannWhitneyFailedRate: all.filter((r) => r.mannWhitneyFailed).length / runs,
  };
}
