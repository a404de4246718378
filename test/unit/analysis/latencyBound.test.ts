import { checkLatencyBound, estimateQuantile, type HistogramBucket } from '../../../src/analysis/latencyBound';

// 100 requests: 50 <= 100 ms, 30 in (100, 250], 15 in (250, 500], 4 in (500 ms, 1 s], 1 slower.
const buckets: HistogramBucket[] = [
  { le: '0.1', count: 50 },
  { le: '0.25', count: 80 },
  { le: '0.5', count: 95 },
  { le: '1', count: 99 },
  { le: '+Inf', count: 100 },
];

function value(q: number, b: readonly HistogramBucket[] = buckets): number {
  const e = estimateQuantile(q, b);
  if (!e.ok) throw new Error(e.detail);
  return e.value;
}

describe('estimateQuantile (histogram_quantile semantics)', () => {
  it('interpolates linearly inside the bucket, by hand', () => {
    // p90: rank 0.9·100 = 90 -> first bucket with count >= 90 is le=0.5 (count 95), the previous holds 80:
    //   0.25 + (0.5 - 0.25)·(90 - 80)/(95 - 80) = 0.25 + 0.25·10/15 = 0.416667
    expect(value(0.9)).toBeCloseTo(0.416667, 6);
    // p95: rank 95 is exactly the top of (0.25, 0.5]: 0.25 + 0.25·15/15 = 0.5
    expect(value(0.95)).toBeCloseTo(0.5, 12);
    // p25: rank 25 in the first bucket, whose lower edge is 0: 0 + 0.1·25/50 = 0.05
    expect(value(0.25)).toBeCloseTo(0.05, 12);
    // p97: rank 97 in (0.5, 1], which holds 4: 0.5 + 0.5·(97 - 95)/4 = 0.75
    expect(value(0.97)).toBeCloseTo(0.75, 12);
  });

  it('reports the largest finite bound, flagged as a lower bound, when the quantile is in +Inf', () => {
    const e = estimateQuantile(0.995, buckets);
    expect(e).toMatchObject({ ok: true, value: 1, bucketLowerBound: 1, bucketUpperBound: null });
  });

  it('accepts numeric and label forms of le, unsorted, and merges equal bounds', () => {
    const shuffled: HistogramBucket[] = [
      { le: Infinity, count: 100 },
      { le: 0.5, count: 95 },
      { le: '1.0', count: 60 }, // two series for le=1 ("1.0" and "1") after an aggregation: summed
      { le: '1', count: 39 },
      { le: '0.25', count: 80 },
      { le: '1e-1', count: 50 },
    ];
    expect(value(0.9, shuffled)).toBeCloseTo(0.416667, 6);
    expect(value(0.97, shuffled)).toBeCloseTo(0.75, 12);
  });

  it('repairs non-monotonic cumulative counts with a running max, and says so', () => {
    const skewed: HistogramBucket[] = [
      { le: '0.1', count: 50 },
      { le: '0.25', count: 48 }, // scraped a moment earlier than le=0.1
      { le: '0.5', count: 95 },
      { le: '+Inf', count: 100 },
    ];
    const e = estimateQuantile(0.5, skewed);
    expect(e).toMatchObject({ ok: true, monotonicityFixed: true });
    // After repair (0.1:50, 0.25:50, 0.5:95), rank 50 lies in the first bucket: 0.1.
    expect(e.ok && e.value).toBeCloseTo(0.1, 12);
  });

  it('fails clearly on empty, malformed or +Inf-less histograms', () => {
    expect(
      estimateQuantile(0.95, [
        { le: '0.5', count: 0 },
        { le: '+Inf', count: 0 },
      ]),
    ).toMatchObject({ ok: false, reason: 'no-observations' });
    expect(estimateQuantile(0.95, [])).toMatchObject({ ok: false, reason: 'no-inf-bucket' });
    expect(estimateQuantile(0.95, [{ le: '0.5', count: 3 }])).toMatchObject({ ok: false, reason: 'no-inf-bucket' });
    expect(estimateQuantile(0.95, [{ le: '+Inf', count: 3 }])).toMatchObject({ ok: false, reason: 'invalid-buckets' });
    expect(
      estimateQuantile(0.95, [
        { le: 'fast', count: 3 },
        { le: '+Inf', count: 3 },
      ]),
    ).toMatchObject({ ok: false, reason: 'invalid-buckets' });
    expect(
      estimateQuantile(0.95, [
        { le: '0.5', count: NaN },
        { le: '+Inf', count: 3 },
      ]),
    ).toMatchObject({ ok: false, reason: 'invalid-buckets' });
    expect(estimateQuantile(1.5, buckets)).toMatchObject({ ok: false, reason: 'invalid-quantile' });
  });

  it('accepts the fractional counts increase() produces', () => {
    const fractional = buckets.map((b) => ({ le: b.le, count: b.count * 0.37 }));
    expect(value(0.9, fractional)).toBeCloseTo(0.416667, 6);
  });
});

describe('checkLatencyBound', () => {
  it('passes exactly when the quantile bucket ends at or below the bound', () => {
    expect(checkLatencyBound(buckets, { quantile: 0.95, bound: 0.5 })).toMatchObject({
      verdict: 'WithinBound',
      exact: true,
      value: 0.5,
      observations: 100,
    });
  });

  it('fails exactly when the quantile bucket starts at or above the bound', () => {
    expect(checkLatencyBound(buckets, { quantile: 0.9, bound: 0.2 })).toMatchObject({
      verdict: 'ExceedsBound',
      exact: true,
    });
  });

  it('decides by interpolation inside the bucket, and says it did', () => {
    expect(checkLatencyBound(buckets, { quantile: 0.9, bound: 0.4 })).toMatchObject({
      verdict: 'ExceedsBound',
      exact: false,
    });
    expect(checkLatencyBound(buckets, { quantile: 0.9, bound: 0.45 })).toMatchObject({
      verdict: 'WithinBound',
      exact: false,
    });
  });

  it('fails closed when the quantile is in the +Inf bucket', () => {
    // histogram_quantile would say p99.5 = 1 s, which is only a lower bound.
    expect(checkLatencyBound(buckets, { quantile: 0.995, bound: 2 })).toMatchObject({
      verdict: 'ExceedsBound',
      exact: false,
      value: 1,
    });
    expect(checkLatencyBound(buckets, { quantile: 0.995, bound: 0.5 })).toMatchObject({
      verdict: 'ExceedsBound',
      exact: true,
    });
  });

  it('reports NoData for an empty window and InvalidHistogram for malformed input', () => {
    expect(
      checkLatencyBound(
        [
          { le: '0.5', count: 0 },
          { le: '+Inf', count: 0 },
        ],
        { quantile: 0.95, bound: 0.5 },
      ),
    ).toMatchObject({ verdict: 'NoData', value: null });
    expect(checkLatencyBound([{ le: '0.5', count: 1 }], { quantile: 0.95, bound: 0.5 })).toMatchObject({
      verdict: 'InvalidHistogram',
      value: null,
    });
  });

  it('returns plain JSON', () => {
    for (const q of [0.5, 0.95, 0.995]) {
      const r = checkLatencyBound(buckets, { quantile: q, bound: 0.5 });
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
  });
});
