/**
 * The boundary methods compared under the model they are calibrated on (independent errors, no
 * dispersion discount, fixed reads); the scenario suite with production-like traffic and the
 * analysis' defaults is bench/canaryScenarios.ts (`npm run bench`).
 *
 * Benchmark of the canary sequential test against the fixed-horizon two-proportion z-test:
 * alpha 0.05, power 0.8, stable at 1% errors, a regressed canary at 2%. Seeded simulations give the
 * false-alarm rate (healthy canary, 1% vs 1%), the power (2% vs 1%) and the canary requests to a
 * decision, compared with the fixed-horizon canary-arm size for the same allocation.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/canaryAnalysis.js
 */
import { cpus } from 'node:os';
import { fixedHorizonSampleSize } from '../src/analysis/fixedHorizon';
import { createSequentialTest, operatingCharacteristics, type BoundaryMethod } from '../src/analysis/sequentialTest';
import { simulateCanaries, type SimulationSummary } from '../src/analysis/simulateCanary';

const ALPHA = 0.05;
const POWER = 0.8;
const BASELINE = 0.01;
const REGRESSED = 0.02;
const HEALTHY_RUNS = 10_000;
const REGRESSED_RUNS = 5_000;

interface Split {
  readonly canaryShare: number;
  /** Requests per scrape interval; the test is evaluated once per interval. */
  readonly canaryPerInterval: number;
  readonly stablePerInterval: number;
  readonly methods: readonly BoundaryMethod[];
}

const ALL_METHODS: readonly BoundaryMethod[] = ['exact', 'wald', 'anytime-valid'];
const SPLITS: readonly Split[] = [
  { canaryShare: 0.5, canaryPerInterval: 10, stablePerInterval: 10, methods: ALL_METHODS },
  { canaryShare: 0.1, canaryPerInterval: 10, stablePerInterval: 90, methods: ALL_METHODS },
  // Evaluating after every canary request: the continuous-monitoring limit, without scrape overshoot.
  { canaryShare: 0.1, canaryPerInterval: 1, stablePerInterval: 9, methods: ['exact'] },
];

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const ci = (s: SimulationSummary): string =>
  `${pct(s.failedRate)} (${pct(s.failedRateInterval.lower)}–${pct(s.failedRateInterval.upper)})`;

export async function runCanaryAnalysisBench(): Promise<string> {
  const started = performance.now();
  const rows: string[] = [];
  let seed = 1;
  for (const split of SPLITS) {
    const stablePerCanary = split.stablePerInterval / split.canaryPerInterval;
    const fixed = fixedHorizonSampleSize({ alpha: ALPHA, power: POWER, p0: BASELINE, p1: REGRESSED, stablePerCanary });
    for (const boundaries of split.methods) {
      const design = createSequentialTest({
        alpha: ALPHA,
        power: POWER,
        minimumDetectableEffect: { kind: 'relative', increase: REGRESSED / BASELINE - 1 },
        canaryTrafficShare: split.canaryShare,
        boundaries,
        overdispersion: 'none',
      });
      const scenario = {
        stableErrorRate: BASELINE,
        canaryRequestsPerInterval: split.canaryPerInterval,
        stableRequestsPerInterval: split.stablePerInterval,
        maxCanaryRequests: 100 * fixed.canary,
      };
      const h0 = simulateCanaries(design, { ...scenario, canaryErrorRate: BASELINE }, HEALTHY_RUNS, seed++);
      const h1 = simulateCanaries(design, { ...scenario, canaryErrorRate: REGRESSED }, REGRESSED_RUNS, seed++);
      const oc = operatingCharacteristics({
        oddsRatio: design.design.oddsRatio,
        canaryTrafficShare: split.canaryShare,
        thresholds: { upper: design.upperThreshold, lower: design.lowerThreshold },
      });
      rows.push(
        `| ${100 * split.canaryShare}/${100 - 100 * split.canaryShare} | ${split.canaryPerInterval}+${split.stablePerInterval} | ${boundaries} | ${design.upperThreshold.toFixed(3)} / ${design.lowerThreshold.toFixed(3)} | ${ci(h0)} | ${ci(h1)} | ` +
          `${h0.meanCanaryRequests.toFixed(0)} / ${h0.p95CanaryRequests} | ${h1.meanCanaryRequests.toFixed(0)} / ${h1.p95CanaryRequests} | ${fixed.canary} | ` +
          `**${(h0.meanCanaryRequests / fixed.canary).toFixed(3)}** | **${(h1.meanCanaryRequests / fixed.canary).toFixed(3)}** | ${pct(oc.falseAlarmRate)} / ${pct(oc.power)} |`,
      );
      // Yield between designs so a caller's event loop (progress output, timeouts) stays responsive.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return [
    `Canary sequential test vs fixed horizon: alpha ${ALPHA}, power ${POWER}, stable ${pct(BASELINE)} errors, regressed canary ${pct(REGRESSED)} (MDE +100% relative).`,
    `${HEALTHY_RUNS} healthy (H0) and ${REGRESSED_RUNS} regressed (H1) simulated canaries per row, seeded; the test is evaluated once per scrape interval (canary+stable requests).`,
    'Requests are canary-side requests; stable gets the same multiple in the simulation and in the fixed-horizon design, so ratios of total requests are the same.',
    'Lattice: exact false-alarm rate and power of the design when evaluated after every error (Poisson limit).',
    '',
    '| Split % | Scrape interval | Boundaries | ln thresholds upper / lower | False alarms H0 (95% CI) | Power H1 (95% CI) | Canary requests H0 mean / p95 | H1 mean / p95 | Fixed horizon (canary arm) | Ratio H0 | Ratio H1 | Lattice α / power |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Node ${process.version}, ${cpus().length} CPUs, ${seconds} s.`,
  ].join('\n');
}

if (require.main === module) {
  runCanaryAnalysisBench().then(console.log, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
