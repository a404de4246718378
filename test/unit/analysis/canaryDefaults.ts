// Shared by the canary simulation tests: the default analysis and the run counts that make the
// false-alarm check fail a 6% design (derivation in simulation.test.ts).
import type { ScenarioSummary } from '../../../src/canary/simulateAnalysis';
import type { CanaryAnalysisSpec } from '../../../src/canary/types';

export const HEALTHY_RUNS = 8100;
export const MAX_FALSE_ALARMS = 450;

/** The analysis resolveCanary builds from a `canary:` block with defaults, at one traffic share. */
export function defaultSpec(share: number, over: Partial<CanaryAnalysisSpec> = {}): CanaryAnalysisSpec {
  const q = { errors: 'e', total: 't' };
  return {
    name: 'defaults',
    queries: { canary: q, stable: q },
    test: {
      alpha: 0.05,
      power: 0.8,
      minimumDetectableEffect: { kind: 'relative', increase: 1 },
      canaryTrafficShare: share,
      boundaries: 'exact',
      maxCanaryRequests: 50_000,
    },
    intervalMs: 15_000,
    maxIntervalMs: 120_000,
    // The default reads an hour; a quarter keeps the tests fast (60 intervals still estimate the dispersion).
    stableHistoryMs: 900_000,
    maxDurationMs: 24 * 3_600_000,
    continueAsNewEvery: 100,
    ...over,
  };
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
export const describeSummary = (label: string, s: ScenarioSummary, fixed: number): string =>
  `${label}: Failed ${s.failed}/${s.runs} = ${pct(s.failedRate)} (95% CI ${pct(s.failedRateInterval.lower)}-${pct(s.failedRateInterval.upper)}), inconclusive ${s.inconclusive}, ` +
  `canary requests mean ${s.meanCanaryRequests.toFixed(0)} (${(s.meanCanaryRequests / fixed).toFixed(3)} of ${fixed}; ${(s.meanCanaryRequests / s.fixedCanaryRequests).toFixed(3)} of the fixed horizon at the reads, ${s.fixedCanaryRequests.toFixed(0)}), reads ${s.meanReads.toFixed(1)}`;
