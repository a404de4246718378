/**
 * Fixed-horizon sample size for a one-sided two-proportion z-test, and the inverse normal CDF it
 * needs. This is the yardstick the sequential test is measured against: "how many requests would a
 * test that looks once need for the same alpha, power and effect?".
 *
 * Pure and deterministic (no Node built-ins, no I/O), so workflow code may import it.
 */

// Acklam's rational approximation of the standard normal quantile; relative error < 1.2e-9,
// far below anything a sample-size calculation can notice, and no dependency needed.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** z such that P(Z <= z) = p for a standard normal Z; p must lie strictly between 0 and 1. */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`inverseNormalCdf: p must be in (0, 1), got ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
    );
  }
  if (p > 1 - P_LOW) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  );
}

export interface FixedHorizonInput {
  /** One-sided false-alarm rate, e.g. 0.05. */
  readonly alpha: number;
  /** Probability of detecting the regression p0 -> p1, e.g. 0.8. */
  readonly power: number;
  /** Error rate of stable (and of a healthy canary), e.g. 0.01. */
  readonly p0: number;
  /** Error rate of a regressed canary, e.g. 0.02; must exceed p0 (the test is one-sided). */
  readonly p1: number;
  /** Stable requests per canary request (allocation ratio k); 1 = equal groups. Default 1. */
  readonly stablePerCanary?: number;
}

export interface FixedHorizonSampleSize {
  /** Requests the canary group needs. */
  readonly canary: number;
  /** Requests the stable group needs (canary × stablePerCanary, rounded up). */
  readonly stable: number;
  readonly total: number;
}

/**
 * Sample size of the one-sided two-proportion z-test (pooled variance under H0, unpooled under H1,
 * no continuity correction; Fleiss, "Statistical Methods for Rates and Proportions", §4):
 *
 *   n_c = [ z(1-α)·sqrt(p̄q̄(1 + 1/k)) + z(power)·sqrt(p1q1 + p0q0/k) ]² / (p1 - p0)²,
 *   p̄ = (p1 + k·p0)/(1 + k),   n_s = k·n_c.
 *
 * With k = 1 this is the textbook per-group size; p0=0.01, p1=0.02, α=0.05, power=0.8 gives 1826.
 */
export function fixedHorizonSampleSize(input: FixedHorizonInput): FixedHorizonSampleSize {
  const { alpha, power, p0, p1 } = input;
  const k = input.stablePerCanary ?? 1;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
  if (!(power > 0.5 && power < 1)) throw new RangeError(`power must be in (0.5, 1), got ${power}`);
  if (!(p0 > 0 && p1 > p0 && p1 < 1)) throw new RangeError(`need 0 < p0 < p1 < 1, got p0=${p0} p1=${p1}`);
  if (!(k > 0 && Number.isFinite(k))) throw new RangeError(`stablePerCanary must be a positive number, got ${k}`);
  const zAlpha = inverseNormalCdf(1 - alpha);
  const zBeta = inverseNormalCdf(power);
  const pBar = (p1 + k * p0) / (1 + k);
  const root =
    zAlpha * Math.sqrt(pBar * (1 - pBar) * (1 + 1 / k)) + zBeta * Math.sqrt(p1 * (1 - p1) + (p0 * (1 - p0)) / k);
  // The tiny epsilon keeps an exact integer (up to rounding noise) from being bumped up by one.
  const canary = Math.ceil((root * root) / ((p1 - p0) * (p1 - p0)) - 1e-9);
  const stable = Math.ceil(canary * k - 1e-9);
  return { canary, stable, total: canary + stable };
}
