/**
 * Canary analysis scenario suite: the real analysis (src/canary/analysisState.ts with its reads
 * paced by traffic, the conditional sequential test with its batch-calibrated thresholds and the
 * stable-history dispersion discount, all as `gantry worker` runs them) over seeded traffic, and,
 * on the same scrapes, a fixed-horizon z-test at the same alpha/power and a Kayenta-style
 * Mann-Whitney judgement over the same intervals.
 *
 * Grid: 10, 100, 1,000 requests/s × 15 s and 30 s scrapes × 5%, 10%, 50% canary shares with
 * independent errors; then error patterns (shared drift, per-version bursts, clusters of 2 and 5,
 * per-interval rate variation) at 100 requests/s, 10%, 15 s. Stable errs at 1%; a regressed canary
 * at 2% (the default minimum detectable effect, +100% relative). Defaults otherwise: alpha 0.05,
 * power 0.8, reads between the scrape interval and 2 minutes, the stable version's last hour read
 * for its dispersion.
 *
 *   node dist/bench/canaryScenarios.js [--quick]        # prints the table
 *   node dist/bench/runBenchmarks.js --only canary      # also writes it into bench/RESULTS.md
 */
import { cpus } from 'node:os';
import { fixedHorizonSampleSize } from '../src/analysis/fixedHorizon';
import type { ErrorPattern, TrafficScenario } from '../src/analysis/trafficSimulation';
import { simulateScenario, type ScenarioSummary } from '../src/canary/simulateAnalysis';
import type { CanaryAnalysisSpec } from '../src/canary/types';
import type { Section } from './benchKit';

const ALPHA = 0.05;
const POWER = 0.8;
const STABLE_ERROR_RATE = 0.01;
const REGRESSED_ERROR_RATE = 0.02;

interface Row {
  readonly label: string;
  readonly scenario: Omit<TrafficScenario, 'canaryErrorRate'>;
  /** Latency rows: H1 is a latency regression (canary's slow share), errors stay equal. */
  readonly latency?: { readonly mode: 'comparison' | 'guard'; readonly canarySlowShareH1: number };
}

function rows(): Row[] {
  const out: Row[] = [];
  for (const requestsPerSecond of [10, 100, 1000]) {
    for (const scrapeIntervalSeconds of [15, 30]) {
      for (const canaryShare of [0.05, 0.1, 0.5]) {
        out.push({
          label: `independent, ${requestsPerSecond}/s, ${scrapeIntervalSeconds}s, ${100 * canaryShare}%`,
          scenario: {
            requestsPerSecond,
            scrapeIntervalSeconds,
            canaryShare,
            stableErrorRate: STABLE_ERROR_RATE,
            pattern: 'independent',
          },
        });
      }
    }
  }
  const patterns: [string, ErrorPattern, number?][] = [
    ['shared drift', 'drift'],
    ['per-version bursts (5% of intervals at 10×)', 'bursts'],
    ['clusters of 2', 'clustered', 2],
    ['clusters of 5', 'clustered', 5],
    ['rate variation per interval (σ 0.5)', 'rate-variation'],
  ];
  for (const [label, pattern, clusterSize] of patterns) {
    out.push({
      label: `${label}, 100/s, 15s, 10%`,
      scenario: {
        requestsPerSecond: 100,
        scrapeIntervalSeconds: 15,
        canaryShare: 0.1,
        stableErrorRate: STABLE_ERROR_RATE,
        pattern,
        ...(clusterSize ? { clusterSize } : {}),
      },
    });
  }
  // Latency shapes: the bound at stable's p95 (5% of requests slower) or with a margin (4% slower);
  // a regressed canary has twice the slow share. "guard" is the quantile check alone, as before.
  const latencyRows: [string, number, number, 'comparison' | 'guard'][] = [
    ['latency comparison, both 5% slower than the bound (p95 at the bound)', 0.05, 0.05, 'comparison'],
    ['latency comparison, both 4% slower (p95 within the bound)', 0.04, 0.04, 'comparison'],
    ['latency guard alone (p95 ≤ bound, 200 requests), both 4% slower', 0.04, 0.04, 'guard'],
  ];
  for (const [label, stableSlowShare, canarySlowShare, mode] of latencyRows) {
    out.push({
      label: `${label}, 100/s, 15s, 10%`,
      scenario: {
        requestsPerSecond: 100,
        scrapeIntervalSeconds: 15,
        canaryShare: 0.1,
        stableErrorRate: STABLE_ERROR_RATE,
        pattern: 'independent',
        stableSlowShare,
        canarySlowShare,
      },
      latency: { mode, canarySlowShareH1: 2 * canarySlowShare },
    });
  }
  return out;
}

/** The analysis as resolveCanary builds it from a `canary:` block with defaults. */
export function defaultAnalysisSpec(
  share: number,
  scrapeIntervalSeconds: number,
  maxCanaryRequests: number,
  latency?: 'comparison' | 'guard',
): CanaryAnalysisSpec {
  const q = { errors: 'errors', total: 'total' };
  // As resolveCanary splits it: with the latency comparison each test gets half the alpha.
  const alpha = latency === 'comparison' ? ALPHA / 2 : ALPHA;
  const test = {
    alpha,
    power: POWER,
    minimumDetectableEffect: { kind: 'relative', increase: 1 },
    canaryTrafficShare: share,
    maxCanaryRequests,
  } as const;
  return {
    name: 'bench',
    queries: { canary: q, stable: q },
    ...(latency
      ? {
          latency: {
            query: 'canary',
            quantile: 0.95,
            boundSeconds: 0.5,
            minObservations: 200,
            ...(latency === 'comparison'
              ? { stableQuery: 'stable', test: { ...test, maxCanaryRequests: undefined } }
              : {}),
          },
        }
      : {}),
    test,
    intervalMs: scrapeIntervalSeconds * 1000,
    maxIntervalMs: 120_000,
    stableHistoryMs: 3600_000,
    maxDurationMs: 24 * 3600_000,
    continueAsNewEvery: 100,
  };
}

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const seconds = (s: number): string => (s >= 600 ? `${(s / 60).toFixed(0)} min` : `${s.toFixed(0)} s`);

export interface CanaryScenarioResult {
  readonly section: Section;
  readonly rows: readonly { label: string; h0: ScenarioSummary; h1: ScenarioSummary; fixedCanary: number }[];
}

export async function canaryScenarios(options: { quick?: boolean } = {}): Promise<CanaryScenarioResult> {
  const started = performance.now();
  // 10,000 each: the mean's standard error is ~0.004 of the fixed horizon, small against the 0.65 line.
  const healthyRuns = options.quick ? 400 : 10_000;
  const regressedRuns = options.quick ? 200 : 10_000;
  const table: string[] = [];
  const results: { label: string; h0: ScenarioSummary; h1: ScenarioSummary; fixedCanary: number }[] = [];
  let seed = 12_000;
  for (const row of rows()) {
    const s = row.scenario;
    const fixed = fixedHorizonSampleSize({
      alpha: ALPHA,
      power: POWER,
      p0: STABLE_ERROR_RATE,
      p1: REGRESSED_ERROR_RATE,
      stablePerCanary: (1 - s.canaryShare) / s.canaryShare,
    });
    const spec = defaultAnalysisSpec(s.canaryShare, s.scrapeIntervalSeconds, 30 * fixed.canary, row.latency?.mode);
    const h0 = simulateScenario(spec, { ...s, canaryErrorRate: STABLE_ERROR_RATE }, fixed.canary, healthyRuns, seed++);
    const regressed = row.latency
      ? { canaryErrorRate: STABLE_ERROR_RATE, canarySlowShare: row.latency.canarySlowShareH1 }
      : { canaryErrorRate: REGRESSED_ERROR_RATE };
    const h1 = simulateScenario(spec, { ...s, ...regressed }, fixed.canary, regressedRuns, seed++);
    results.push({ label: row.label, h0, h1, fixedCanary: fixed.canary });
    const perRead = s.requestsPerSecond * s.canaryShare * s.scrapeIntervalSeconds;
    table.push(
      `| ${row.label} | ${perRead.toFixed(0)} | ${pct(h0.failedRate)} (${pct(h0.failedRateInterval.lower)}–${pct(h0.failedRateInterval.upper)}) | ${pct(h1.failedRate)} | ` +
        `${pct(h0.inconclusive / h0.runs)} / ${pct(h1.inconclusive / h1.runs)} | ` +
        `${h0.meanCanaryRequests.toFixed(0)} / ${h0.p95CanaryRequests} | ${h1.meanCanaryRequests.toFixed(0)} / ${h1.p95CanaryRequests} | ` +
        `${seconds(h0.meanSeconds)} (${seconds(h0.p95Seconds)}) / ${seconds(h1.meanSeconds)} (${seconds(h1.p95Seconds)}) | ${h0.meanReads.toFixed(1)} | ` +
        `${fixed.canary} | **${(h0.meanCanaryRequests / fixed.canary).toFixed(2)} / ${(h1.meanCanaryRequests / fixed.canary).toFixed(2)}** | ` +
        // The comparisons judge error counts; on latency rows (errors equal) they say nothing.
        (row.latency
          ? '– | – | – | – |'
          : `${h0.fixedCanaryRequests.toFixed(0)}, ${seconds(h0.fixedSeconds)} | ${(h0.meanCanaryRequests / h0.fixedCanaryRequests).toFixed(2)} / ${(h1.meanCanaryRequests / h1.fixedCanaryRequests).toFixed(2)} | ` +
            `${pct(h0.fixedFailedRate)} / ${pct(h1.fixedFailedRate)} | ${pct(h0.mannWhitneyFailedRate)} / ${pct(h1.mannWhitneyFailedRate)} |`),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  const took = ((performance.now() - started) / 1000).toFixed(0);
  const independent = results.filter((r) => r.label.startsWith('independent'));
  // The guard-alone row shows the old design's false failures; the worst of Gantry's defaults excludes it.
  const defaults = results.filter((r) => !r.label.startsWith('latency guard'));
  const worstAlpha = Math.max(...defaults.map((r) => r.h0.failedRate));
  const within = (r: (typeof results)[number]) =>
    r.h0.meanCanaryRequests / r.fixedCanary <= 0.65 && r.h1.meanCanaryRequests / r.fixedCanary <= 0.65;
  const section: Section = {
    title: '7. Canary analysis: scenario suite',
    caption:
      `The real analysis (\`src/canary/analysisState.ts\`: reads paced by traffic between the scrape interval and 2 min, the conditional sequential test with thresholds calibrated for the overshoot of the reads it gets (version 3: the look size Σx²/Σx of the errors per read), ` +
      `the stable version's last hour read for its dispersion) against seeded traffic, with defaults: alpha ${ALPHA}, power ${POWER}, stable ${pct(STABLE_ERROR_RATE)} errors, regressed canary ${pct(REGRESSED_ERROR_RATE)} (MDE +100% relative). ` +
      `${healthyRuns} healthy (H0) and ${regressedRuns} regressed (H1) canaries per row, seeded. Side by side on the same scrapes: a fixed-horizon one-sided two-proportion z-test at the same alpha and power, ` +
      `which looks once at the first scrape holding its sample (FH), and a Kayenta-style one-sided Mann-Whitney test of the per-scrape error rates over the same scrapes (MW). ` +
      'Canary requests are those the decision used; wall time is from the baseline read to the deciding read. "FH nominal" is the fixed-horizon canary sample; "FH at the reads" is what a fixed-horizon test really consumes when it can only look at a scrape.',
    table: [
      '| scenario (pattern, traffic, scrape, canary share) | canary requests per scrape | false alarms H0 (95% CI) | power H1 | inconclusive H0 / H1 | canary requests H0 mean / p95 | H1 mean / p95 | wall time H0 mean (p95) / H1 | reads H0 | FH nominal | ratio to FH nominal H0 / H1 | FH at the reads: requests, wall | ratio to FH at the reads H0 / H1 | FH false alarms / power | MW false alarms / power |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...table,
    ].join('\n'),
    notes: [
      `Independent errors: false alarms at most ${pct(Math.max(...independent.map((r) => r.h0.failedRate)))} across the grid; worst row with the defaults ${pct(worstAlpha)} (the latency guard alone is the old design, for comparison).`,
      'Latency rows: H1 is the canary with twice the slow share (errors equal), so "power" is the latency comparison\'s; the error comparisons (FH, MW) do not apply.',
      `Within 0.65× the nominal fixed horizon under both H0 and H1: ${independent.filter(within).length} of ${independent.length} grid rows. Where one scrape brings a large share of the fixed-horizon sample, no test that reads scrapes can get under it: compare with "FH at the reads".`,
      'Over-dispersed errors break the fixed-horizon and Mann-Whitney comparisons\' alpha as well; the analysis discounts evidence by the stable version\'s measured dispersion and ends Inconclusive ("data too irregular") above a factor of 10.',
      `Node ${process.version}, ${cpus().length} CPUs, ${took} s.`,
    ],
    headline: [
      `Canary analysis (${results.length} scenarios): false alarms ≤ ${pct(worstAlpha)} at alpha ${ALPHA}; ${independent.filter(within).length}/${independent.length} independent-error grid rows decide within 0.65× the fixed-horizon canary sample under H0 and H1.`,
    ],
  };
  return { section, rows: results };
}

if (require.main === module) {
  canaryScenarios({ quick: process.argv.includes('--quick') }).then(
    ({ section }) =>
      console.log(
        [`## ${section.title}`, '', section.caption, '', section.table, '', ...section.notes.map((n) => `- ${n}`)].join(
          '\n',
        ),
      ),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
