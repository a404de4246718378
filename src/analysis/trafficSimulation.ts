/**
 * Seeded traffic for canary scenarios: what Prometheus would hold at each scrape of four counters
 * (canary errors/requests, stable errors/requests) and, for latency, of the "slower than the bound"
 * bucket counts, under error patterns seen in production rather than only independent errors. The
 * benchmark (bench/canaryScenarios.ts) and the tests drive the real analysis with it, and judge the
 * same scrapes with the comparisons users know (fixed horizon, Kayenta-style Mann-Whitney).
 * Pure: randomness comes only from the PRNG passed in.
 */
import { inverseNormalCdf } from './fixedHorizon';
import { sampleBinomial, type Rng } from './simulateCanary';

/**
 * How errors arrive, per version and scrape interval:
 * - independent: each request fails on its own (the model the test was built on);
 * - drift: both versions' rates move together, slowly (a shared dependency degrading);
 * - bursts: each version, independently, has a 5% chance per interval of a burst at 10× its rate;
 * - clustered: errors come in groups of `clusterSize` (a retry storm, a batch request);
 * - rate-variation: each version's rate varies per interval, independently (log-normal, σ 0.5),
 *   and the request rate varies too.
 */
export type ErrorPattern = 'independent' | 'drift' | 'bursts' | 'clustered' | 'rate-variation';

export interface TrafficScenario {
  /** Requests per second, canary plus stable. */
  readonly requestsPerSecond: number;
  /** The canary's share of requests, 0..1. */
  readonly canaryShare: number;
  readonly scrapeIntervalSeconds: number;
  readonly stableErrorRate: number;
  readonly canaryErrorRate: number;
  readonly pattern: ErrorPattern;
  /** Errors per group for 'clustered'. */
  readonly clusterSize?: number;
  /** Share of requests slower than the latency bound, per version (latency scenarios). */
  readonly stableSlowShare?: number;
  readonly canarySlowShare?: number;
}

/** Cumulative counters at one scrape. */
export interface Scrape {
  readonly atSeconds: number;
  readonly canaryErrors: number;
  readonly canaryTotal: number;
  readonly stableErrors: number;
  readonly stableTotal: number;
  readonly canarySlow: number;
  readonly stableSlow: number;
}

export function standardNormal(rng: Rng): number {
  // Inverse CDF of one uniform: one draw per normal keeps streams aligned across scenarios.
  return inverseNormalCdf(Math.min(1 - 1e-12, Math.max(1e-12, rng())));
}

/**
 * Binomial draw: exact (geometric gaps, one draw per success) while the expected count is below
 * `exactBelow`, the normal approximation (rounded, clamped) above. Error counts are drawn exactly up
 * to 200; how requests split between versions does not need it (the test conditions on it).
 */
export function drawBinomial(rng: Rng, n: number, p: number, exactBelow = 200): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  const variance = mean * (1 - p);
  if (Math.min(mean, n - mean) < exactBelow) return sampleBinomial(rng, n, p);
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(variance) * standardNormal(rng))));
}

/** Poisson(mean) through the same binomial machinery (n large, p small). */
function drawCount(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  const n = Math.max(1000, Math.ceil(mean * 100));
  return drawBinomial(rng, n, mean / n, 20);
}

/** A generator of scrapes for one simulated canary; call `next()` for each scrape in turn. */
export function scrapeStream(scenario: TrafficScenario, rng: Rng): { next(): Scrape } {
  const s = scenario;
  let at = 0;
  let cum = { canaryErrors: 0, canaryTotal: 0, stableErrors: 0, stableTotal: 0, canarySlow: 0, stableSlow: 0 };
  let driftLog = 0;
  const lognormal = (sigma: number) => Math.exp(sigma * standardNormal(rng) - (sigma * sigma) / 2);
  const errorsOf = (n: number, p: number): number => {
    switch (s.pattern) {
      case 'independent':
      case 'drift':
        return drawBinomial(rng, n, Math.min(1, p * Math.exp(driftLog)));
      case 'bursts':
        return drawBinomial(rng, n, Math.min(1, p * (rng() < 0.05 ? 10 : 1)));
      case 'clustered': {
        const k = s.clusterSize ?? 5;
        return Math.min(n, k * drawBinomial(rng, n, p / k));
      }
      case 'rate-variation':
        return drawBinomial(rng, n, Math.min(1, p * lognormal(0.5)));
    }
  };
  return {
    next(): Scrape {
      at += s.scrapeIntervalSeconds;
      if (s.pattern === 'drift') driftLog = 0.9 * driftLog + 0.2 * standardNormal(rng);
      const rateFactor = s.pattern === 'rate-variation' || s.pattern === 'drift' ? lognormal(0.3) : 1;
      const requests = drawCount(rng, s.requestsPerSecond * s.scrapeIntervalSeconds * rateFactor);
      const canary = drawBinomial(rng, requests, s.canaryShare, 20);
      const stable = requests - canary;
      cum = {
        canaryErrors: cum.canaryErrors + errorsOf(canary, s.canaryErrorRate),
        canaryTotal: cum.canaryTotal + canary,
        stableErrors: cum.stableErrors + errorsOf(stable, s.stableErrorRate),
        stableTotal: cum.stableTotal + stable,
        canarySlow: cum.canarySlow + drawBinomial(rng, canary, s.canarySlowShare ?? 0),
        stableSlow: cum.stableSlow + drawBinomial(rng, stable, s.stableSlowShare ?? 0),
      };
      return { atSeconds: at, ...cum };
    },
  };
}

/**
 * The fixed-horizon comparison on the same scrapes: the one-sided pooled two-proportion z-test,
 * evaluated once, at the first scrape with at least `canaryRequests` canary requests.
 */
export function fixedHorizonJudgement(scrape: Scrape, alpha: number): boolean {
  const p1 = scrape.canaryErrors / scrape.canaryTotal;
  const p0 = scrape.stableErrors / scrape.stableTotal;
  const pooled = (scrape.canaryErrors + scrape.stableErrors) / (scrape.canaryTotal + scrape.stableTotal);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / scrape.canaryTotal + 1 / scrape.stableTotal));
  if (!(se > 0)) return false;
  return (p1 - p0) / se > inverseNormalCdf(1 - alpha);
}

/**
 * A Kayenta-style judgement over the same intervals: the per-interval error rates of canary and
 * stable compared by a one-sided Mann-Whitney U test (normal approximation with tie correction),
 * canary "High" when significant at alpha. Kayenta's default is two-sided at 98% confidence plus an
 * effect-size tolerance; one-sided at the same alpha is the generous version of it.
 */
export function mannWhitneyJudgement(
  canaryRates: readonly number[],
  stableRates: readonly number[],
  alpha: number,
): boolean {
  const n1 = canaryRates.length;
  const n2 = stableRates.length;
  if (n1 === 0 || n2 === 0) return false;
  const all = [...canaryRates.map((v) => ({ v, c: true })), ...stableRates.map((v) => ({ v, c: false }))].sort(
    (a, b) => a.v - b.v,
  );
  let rankSumCanary = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const rank = (i + 1 + j) / 2;
    const t = j - i;
    tieTerm += t * t * t - t;
    for (let k = i; k < j; k++) if (all[k].c) rankSumCanary += rank;
    i = j;
  }
  const u = rankSumCanary - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return false;
  return (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance) > inverseNormalCdf(1 - alpha);
}
