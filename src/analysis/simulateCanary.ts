/**
 * Seeded simulation of canaries against the sequential test, for tests, benchmarks and for
 * checking a design's false-alarm rate and power before using it. Randomness comes only from the
 * PRNG passed in, so every run is reproducible (and safe to run in workflow code if ever needed).
 */
import { inverseNormalCdf } from './fixedHorizon';
import { evaluate, finalize, type SequentialDecision, type SequentialTestEvidence } from './sequentialTest';

/** Uniform draws in [0, 1). */
export type Rng = () => number;

/**
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32: 32-bit integer arithmetic only,
 * fast, and much better distributed than a linear congruential generator.
 */
export function createRng(seed: number): Rng {
  let x = seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result / 4294967296;
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}

/**
 * Binomial(n, p) draw by counting geometric gaps between successes: O(n·min(p, 1-p) + 1) work,
 * exact, and cheap for the rare errors canaries have (a batch of 500 requests at 1% is ~5 draws).
 */
export function sampleBinomial(rng: Rng, n: number, p: number): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - sampleBinomial(rng, n, 1 - p);
  const logQ = Math.log1p(-p);
  let successes = 0;
  let position = 0;
  for (;;) {
    position += Math.floor(Math.log(1 - rng()) / logQ) + 1;
    if (position > n) return successes;
    successes++;
  }
}

export interface CanaryScenario {
  readonly canaryErrorRate: number;
  readonly stableErrorRate: number;
  /** Requests per scrape interval; the test is evaluated once per interval. */
  readonly canaryRequestsPerInterval: number;
  readonly stableRequestsPerInterval: number;
  /** The run stops (Inconclusive) after this many canary requests. */
  readonly maxCanaryRequests: number;
}

export interface CanaryRun {
  readonly decision: SequentialDecision;
  readonly canaryRequests: number;
  readonly stableRequests: number;
  readonly intervals: number;
}

/** Feeds one simulated canary into the test, one scrape of cumulative counts per interval. */
export function simulateCanary(initial: SequentialTestEvidence, scenario: CanaryScenario, rng: Rng): CanaryRun {
  let evidence = initial;
  let canaryErrors = 0;
  let canaryTotal = 0;
  let stableErrors = 0;
  let stableTotal = 0;
  let intervals = 0;
  while (evidence.decision === 'Continue' && canaryTotal < scenario.maxCanaryRequests) {
    canaryErrors += sampleBinomial(rng, scenario.canaryRequestsPerInterval, scenario.canaryErrorRate);
    stableErrors += sampleBinomial(rng, scenario.stableRequestsPerInterval, scenario.stableErrorRate);
    canaryTotal += scenario.canaryRequestsPerInterval;
    stableTotal += scenario.stableRequestsPerInterval;
    intervals++;
    evidence = evaluate(evidence, { canaryErrors, canaryTotal, stableErrors, stableTotal });
  }
  evidence = finalize(evidence, 'simulation reached maxCanaryRequests');
  return { decision: evidence.decision, canaryRequests: canaryTotal, stableRequests: stableTotal, intervals };
}

export interface SimulationSummary {
  readonly runs: number;
  readonly failed: number;
  readonly successful: number;
  readonly inconclusive: number;
  /** failed / runs: the false-alarm rate under H0, the power under H1. */
  readonly failedRate: number;
  /** 95% Wilson score interval of failedRate. */
  readonly failedRateInterval: { readonly lower: number; readonly upper: number };
  readonly meanCanaryRequests: number;
  readonly p95CanaryRequests: number;
  readonly meanTotalRequests: number;
  readonly p95TotalRequests: number;
}

/** Runs `runs` independent canaries from one seed and summarises decisions and requests to decision. */
export function simulateCanaries(
  initial: SequentialTestEvidence,
  scenario: CanaryScenario,
  runs: number,
  seed: number,
): SimulationSummary {
  const rng = createRng(seed);
  const canary: number[] = [];
  const total: number[] = [];
  let failed = 0;
  let successful = 0;
  let inconclusive = 0;
  for (let i = 0; i < runs; i++) {
    const run = simulateCanary(initial, scenario, rng);
    if (run.decision === 'Failed') failed++;
    else if (run.decision === 'Successful') successful++;
    else inconclusive++;
    canary.push(run.canaryRequests);
    total.push(run.canaryRequests + run.stableRequests);
  }
  return {
    runs,
    failed,
    successful,
    inconclusive,
    failedRate: failed / runs,
    failedRateInterval: wilsonInterval(failed, runs),
    meanCanaryRequests: mean(canary),
    p95CanaryRequests: quantileOfSample(canary, 0.95),
    meanTotalRequests: mean(total),
    p95TotalRequests: quantileOfSample(total, 0.95),
  };
}

/** Wilson score interval for a binomial proportion; behaves at rates near 0 where Wald's does not. */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): { lower: number; upper: number } {
  if (trials <= 0) return { lower: 0, upper: 1 };
  const z = inverseNormalCdf(1 - (1 - confidence) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials))) / (1 + z2n);
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

export function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
}

/** Nearest-rank empirical quantile. */
export function quantileOfSample(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
