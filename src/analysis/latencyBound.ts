/**
 * Latency quantiles from Prometheus classic histograms, and a check of a quantile against a bound.
 *
 * The estimate follows PromQL's histogram_quantile (linear interpolation inside the bucket, lower
 * edge 0 for the first bucket, the largest finite `le` when the quantile lies in the +Inf bucket)
 * so numbers match the dashboards. The check goes further than comparing that number: it reports
 * whether the bucket edges alone settle the verdict, and it fails closed when the quantile lies in
 * the +Inf bucket, where histogram_quantile's answer is only a lower bound.
 *
 * Pure and deterministic, no Node built-ins: safe in Temporal workflow code. Results are plain JSON
 * (no Infinity or NaN: an unbounded edge is null).
 */

/** One cumulative bucket: `count` observations were <= `le`. `le` may be the label string ("+Inf"). */
export interface HistogramBucket {
  readonly le: number | string;
  readonly count: number;
}

export type QuantileFailure = 'invalid-quantile' | 'invalid-buckets' | 'no-inf-bucket' | 'no-observations';

export type QuantileEstimate =
  | {
      readonly ok: true;
      readonly quantile: number;
      /** histogram_quantile's value, in the unit of `le` (seconds, by Prometheus convention). */
      readonly value: number;
      readonly observations: number;
      /** Edges of the bucket the quantile lies in; the true quantile is in (lower, upper]. */
      readonly bucketLowerBound: number;
      /** null for the +Inf bucket: then `value` is only a lower bound of the true quantile. */
      readonly bucketUpperBound: number | null;
      /** Cumulative counts decreased somewhere (scrape skew) and were raised to a running max, as Prometheus does. */
      readonly monotonicityFixed: boolean;
    }
  | { readonly ok: false; readonly quantile: number; readonly reason: QuantileFailure; readonly detail: string };

function parseLe(le: number | string): number {
  if (typeof le === 'number') return le;
  const s = le.trim();
  if (/^\+?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  return s === '' ? NaN : Number(s);
}

/** The q-quantile (0 <= q <= 1) of a cumulative histogram, like PromQL's histogram_quantile. */
export function estimateQuantile(q: number, buckets: readonly HistogramBucket[]): QuantileEstimate {
  if (!(q >= 0 && q <= 1))
    return { ok: false, quantile: q, reason: 'invalid-quantile', detail: `quantile must be in [0, 1], got ${q}` };
  const parsed = buckets.map((b) => ({ le: parseLe(b.le), count: b.count }));
  const bad = parsed.find((b) => Number.isNaN(b.le) || !(Number.isFinite(b.count) && b.count >= 0));
  if (bad)
    return {
      ok: false,
      quantile: q,
      reason: 'invalid-buckets',
      detail: `bucket with unusable le or count: ${JSON.stringify(bad)}`,
    };
  // Sort, and merge buckets with the same bound ("1" and "1.0" after an aggregation), as Prometheus does.
  parsed.sort((a, b) => a.le - b.le);
  const merged: { le: number; count: number }[] = [];
  for (const b of parsed) {
    const prev = merged[merged.length - 1];
    if (prev && prev.le === b.le) prev.count += b.count;
    else merged.push({ ...b });
  }
  if (merged.length === 0 || merged[merged.length - 1].le !== Infinity) {
    return { ok: false, quantile: q, reason: 'no-inf-bucket', detail: 'the highest bucket must have le="+Inf"' };
  }
  if (merged.length < 2)
    return {
      ok: false,
      quantile: q,
      reason: 'invalid-buckets',
      detail: 'need at least one finite bucket besides +Inf',
    };
  let monotonicityFixed = false;
  for (let i = 1; i < merged.length; i++) {
    if (merged[i].count < merged[i - 1].count) {
      merged[i].count = merged[i - 1].count;
      monotonicityFixed = true;
    }
  }
  const observations = merged[merged.length - 1].count;
  if (observations === 0)
    return {
      ok: false,
      quantile: q,
      reason: 'no-observations',
      detail: 'the histogram is empty (no requests in the window)',
    };

  const rank = q * observations;
  let b = merged.findIndex((bucket, i) => i < merged.length - 1 && bucket.count >= rank);
  const last = merged.length - 1;
  if (b === -1) b = last;
  const lower = b > 0 ? merged[b - 1].le : Math.min(0, merged[0].le);
  if (b === last) {
    // Only "more than the largest finite bound" is known; report that bound, as Prometheus does.
    return {
      ok: true,
      quantile: q,
      value: merged[last - 1].le,
      observations,
      bucketLowerBound: merged[last - 1].le,
      bucketUpperBound: null,
      monotonicityFixed,
    };
  }
  const upper = merged[b].le;
  if (b === 0 && upper <= 0) {
    return {
      ok: true,
      quantile: q,
      value: upper,
      observations,
      bucketLowerBound: upper,
      bucketUpperBound: upper,
      monotonicityFixed,
    };
  }
  const below = b > 0 ? merged[b - 1].count : 0;
  const inBucket = merged[b].count - below;
  // inBucket is 0 only when rank is 0 (q = 0 with an empty first bucket): report the lower edge.
  const value = inBucket > 0 ? lower + (upper - lower) * ((rank - below) / inBucket) : lower;
  return {
    ok: true,
    quantile: q,
    value,
    observations,
    bucketLowerBound: lower,
    bucketUpperBound: upper,
    monotonicityFixed,
  };
}

export interface LatencyBoundCheck {
  /** e.g. 0.95 for p95. */
  readonly quantile: number;
  /** Largest acceptable value of that quantile, in the unit of `le` (0.5 for 500 ms in seconds). */
  readonly bound: number;
}

export type LatencyVerdict = 'WithinBound' | 'ExceedsBound' | 'NoData' | 'InvalidHistogram';

export interface LatencyBoundResult {
  readonly verdict: LatencyVerdict;
  readonly quantile: number;
  readonly bound: number;
  /** histogram_quantile's estimate, or null when there is none. */
  readonly value: number | null;
  readonly observations: number;
  /** True when bucket edges alone settle the verdict; false when it rests on interpolation. */
  readonly exact: boolean;
  readonly reason: string;
}

/**
 * Is the quantile within the bound? The true quantile lies in the bucket (lower, upper]: upper <=
 * bound proves it within, lower >= bound proves it exceeds, anything else is decided by the
 * interpolated value (exact: false). A quantile in the +Inf bucket fails closed.
 */
export function checkLatencyBound(buckets: readonly HistogramBucket[], check: LatencyBoundCheck): LatencyBoundResult {
  const { quantile, bound } = check;
  const base = { quantile, bound };
  if (!Number.isFinite(bound))
    return {
      ...base,
      verdict: 'InvalidHistogram',
      value: null,
      observations: 0,
      exact: false,
      reason: `bound must be a finite number, got ${bound}`,
    };
  const estimate = estimateQuantile(quantile, buckets);
  if (!estimate.ok) {
    const verdict: LatencyVerdict = estimate.reason === 'no-observations' ? 'NoData' : 'InvalidHistogram';
    return { ...base, verdict, value: null, observations: 0, exact: false, reason: estimate.detail };
  }
  const { value, observations, bucketLowerBound: lower, bucketUpperBound: upper } = estimate;
  const label = `p${+(quantile * 100).toFixed(6)}`;
  if (upper === null) {
    const exact = bound <= lower;
    return {
      ...base,
      verdict: 'ExceedsBound',
      value,
      observations,
      exact,
      reason: `${label} is above the largest finite bucket (${lower}); ${exact ? `so above the bound ${bound}` : `cannot show it is within ${bound}, failing closed`}`,
    };
  }
  if (upper <= bound)
    return {
      ...base,
      verdict: 'WithinBound',
      value,
      observations,
      exact: true,
      reason: `${label} <= bucket edge ${upper} <= bound ${bound}`,
    };
  if (lower >= bound)
    return {
      ...base,
      verdict: 'ExceedsBound',
      value,
      observations,
      exact: true,
      reason: `${label} > bucket edge ${lower} >= bound ${bound}`,
    };
  const within = value <= bound;
  return {
    ...base,
    verdict: within ? 'WithinBound' : 'ExceedsBound',
    value,
    observations,
    exact: false,
    reason: `${label} ≈ ${value} (interpolated in (${lower}, ${upper}]) ${within ? '<=' : '>'} bound ${bound}`,
  };
}

/**
 * Requests slower than `bound` in a cumulative histogram: count(+Inf) − count(le = bound). The bound
 * must be a bucket edge (a share of requests above a point inside a bucket is not in the data);
 * returns why not as a string.
 */
export function slowerThan(
  buckets: readonly HistogramBucket[],
  bound: number,
): { slow: number; total: number } | string {
  let total: number | undefined;
  let within: number | undefined;
  for (const b of buckets) {
    const le = parseLe(b.le);
    if (!Number.isFinite(b.count) || b.count < 0) return `bucket le="${b.le}" has an unusable count ${b.count}`;
    if (le === Infinity) total = (total ?? 0) + b.count;
    else if (Math.abs(le - bound) <= 1e-9 * Math.max(1, Math.abs(bound))) within = (within ?? 0) + b.count;
  }
  if (total === undefined) return 'the histogram has no le="+Inf" bucket';
  if (within === undefined) {
    const edges = buckets
      .map((b) => parseLe(b.le))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    return `the bound ${bound}s is not a bucket edge of the histogram (edges: ${edges.join(', ')}); choose one of them`;
  }
  return { slow: Math.max(0, total - within), total };
}
