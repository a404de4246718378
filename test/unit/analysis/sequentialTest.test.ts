import {
  anytimeValidThresholds,
  createSequentialTest,
  designOddsRatio,
  evaluate,
  exactThresholds,
  finalize,
  intervalLogLikelihoodRatio,
  operatingCharacteristics,
  validateSequentialTestConfig,
  waldThresholds,
  type CumulativeCounts,
  type SequentialTestConfig,
  type SequentialTestEvidence,
} from '../../../src/analysis/sequentialTest';

const doubled = { kind: 'relative', increase: 1 } as const;
const config = (over: Partial<SequentialTestConfig> = {}): SequentialTestConfig => ({
  alpha: 0.05,
  power: 0.8,
  minimumDetectableEffect: doubled,
  canaryTrafficShare: 0.5,
  ...over,
});
const counts = (
  canaryErrors: number,
  canaryTotal: number,
  stableErrors: number,
  stableTotal: number,
): CumulativeCounts => ({ canaryErrors, canaryTotal, stableErrors, stableTotal });
const feed = (e: SequentialTestEvidence, ...obs: CumulativeCounts[]): SequentialTestEvidence => obs.reduce(evaluate, e);

describe('thresholds', () => {
  it("Wald's A = (1-β)/α and B = β/(1-α) for alpha 0.05, power 0.8, by hand", () => {
    // ln(0.8/0.05) = ln 16 = 2.772589; ln(0.2/0.95) = ln(4/19) = -1.558145
    const t = waldThresholds(0.05, 0.8);
    expect(t.upper).toBeCloseTo(2.772589, 6);
    expect(t.lower).toBeCloseTo(-1.558145, 6);
  });

  it('anytime-valid A = 1/α and B = β, by hand', () => {
    // ln 20 = 2.995732; ln 0.2 = -1.609438
    const t = anytimeValidThresholds(0.05, 0.8);
    expect(t.upper).toBeCloseTo(2.995732, 6);
    expect(t.lower).toBeCloseTo(-1.609438, 6);
  });

  it('exact thresholds are tighter and make the exact error rates bind at alpha and 1 - power', () => {
    for (const share of [0.5, 0.1, 0.01]) {
      const t = exactThresholds({
        alpha: 0.05,
        power: 0.8,
        oddsRatio: 2,
        canaryTrafficShare: { min: share, max: share },
      });
      const wald = waldThresholds(0.05, 0.8);
      expect(t.upper).toBeLessThan(wald.upper);
      expect(t.lower).toBeGreaterThan(wald.lower);
      const oc = operatingCharacteristics({ oddsRatio: 2, canaryTrafficShare: share, thresholds: t });
      expect(oc.falseAlarmRate).toBeLessThanOrEqual(0.05);
      expect(oc.falseAlarmRate).toBeGreaterThan(0.048);
      expect(oc.power).toBeGreaterThanOrEqual(0.8);
      expect(oc.power).toBeLessThan(0.806);
    }
  });

  it('pins the exact thresholds of the reference designs (regression guard)', () => {
    const at = (share: number) =>
      exactThresholds({ alpha: 0.05, power: 0.8, oddsRatio: 2, canaryTrafficShare: { min: share, max: share } });
    expect(at(0.5).upper).toBeCloseTo(2.642, 2);
    expect(at(0.5).lower).toBeCloseTo(-1.4, 2);
    expect(at(0.1).upper).toBeCloseTo(2.566, 2);
    expect(at(0.1).lower).toBeCloseTo(-1.517, 2);
  });

  it('a traffic-share range is calibrated for its worst case', () => {
    const t = exactThresholds({ alpha: 0.05, power: 0.8, oddsRatio: 2, canaryTrafficShare: { min: 0.05, max: 0.5 } });
    for (const share of [0.05, 0.1, 0.25, 0.5]) {
      const oc = operatingCharacteristics({ oddsRatio: 2, canaryTrafficShare: share, thresholds: t });
      expect(oc.falseAlarmRate).toBeLessThanOrEqual(0.05);
      expect(oc.power).toBeGreaterThanOrEqual(0.8);
    }
  });

  it("the lattice computation respects Wald's inequalities for the anytime-valid pair", () => {
    // α' <= (1 - β')/A and β' <= B·(1 - α') hold exactly for any SPRT; overshoot makes them strict.
    const t = anytimeValidThresholds(0.05, 0.8);
    const oc = operatingCharacteristics({ oddsRatio: 2, canaryTrafficShare: 0.1, thresholds: t });
    expect(oc.falseAlarmRate).toBeLessThanOrEqual(Math.exp(-t.upper) * oc.power);
    expect(1 - oc.power).toBeLessThanOrEqual(Math.exp(t.lower) * (1 - oc.falseAlarmRate));
  });
});

describe('intervalLogLikelihoodRatio (conditional on the interval total errors)', () => {
  // 100 canary and 100 stable requests, design odds ratio ψ = 2.
  it('one error, on the canary: X ~ Bernoulli(1/2) under H0, E0[2^X] = 1.5, ln(2/1.5) = ln(4/3)', () => {
    expect(intervalLogLikelihoodRatio(counts(1, 100, 0, 100), 2)).toBeCloseTo(0.287682, 6);
  });

  it('one error, on stable: ln(1/1.5) = ln(2/3)', () => {
    expect(intervalLogLikelihoodRatio(counts(0, 100, 1, 100), 2)).toBeCloseTo(-0.405465, 6);
  });

  it('two errors, both on the canary: hypergeometric, by hand', () => {
    // P0(X=0) = C(100,2)/C(200,2) = 4950/19900, P0(X=1) = 100·100/19900, P0(X=2) = 4950/19900
    // E0[2^X] = (4950 + 2·10000 + 4·4950)/19900 = 44750/19900 = 2.248744
    // ln(2² / 2.248744) = ln(1.778771) = 0.575923
    expect(intervalLogLikelihoodRatio(counts(2, 100, 0, 100), 2)).toBeCloseTo(0.575923, 6);
  });

  it('is ln(θ1/r) per canary error when intervals are large, θ1 = rψ/(rψ + 1 - r)', () => {
    // r = 0.1: ln(2 / (0.2 + 0.9)) = ln(1.818182) = 0.597837
    expect(intervalLogLikelihoodRatio(counts(1, 1_000_000, 0, 9_000_000), 2)).toBeCloseTo(0.597837, 6);
  });

  it('carries no information when the split of errors is forced', () => {
    expect(intervalLogLikelihoodRatio(counts(3, 100, 0, 0), 2)).toBe(0);
    expect(intervalLogLikelihoodRatio(counts(0, 100, 0, 100), 2)).toBe(0);
    expect(intervalLogLikelihoodRatio(counts(5, 5, 5, 5), 2)).toBe(0);
  });

  it('stays finite for huge intervals', () => {
    const v = intervalLogLikelihoodRatio(counts(30_000, 1_000_000, 20_000, 1_000_000), 2);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(100);
  });
});

describe('evaluate', () => {
  it('accumulates the log-likelihood ratio over a small known sequence, by hand', () => {
    let e = createSequentialTest(config({ boundaries: 'wald', overdispersion: 'none' }));
    // Interval 1: 100 + 100 requests, the one error is the canary's: +0.287682
    e = evaluate(e, counts(1, 100, 0, 100));
    expect(e.logLikelihoodRatio).toBeCloseTo(0.287682, 6);
    // Interval 2: one error, on stable: -0.405465 -> -0.117783
    e = evaluate(e, counts(1, 200, 1, 200));
    expect(e.logLikelihoodRatio).toBeCloseTo(-0.117783, 6);
    // Interval 3: two errors, both canary: +0.575923 -> 0.458140
    e = evaluate(e, counts(3, 300, 1, 300));
    expect(e.logLikelihoodRatio).toBeCloseTo(0.45814, 5);
    expect(e).toMatchObject({
      decision: 'Continue',
      requests: { canary: 300, stable: 300, total: 600 },
      errors: { canary: 3, stable: 1 },
      observations: 3,
    });
    expect(e.upperThreshold).toBeCloseTo(2.772589, 6);
    expect(e.lowerThreshold).toBeCloseTo(-1.558145, 6);
    // Always-valid p-value: 1 / max likelihood ratio = exp(-0.458140) = 0.632459
    expect(e.alwaysValidPValue).toBeCloseTo(0.632459, 5);
  });

  it('fails a canary whose errors pile up, and the decision is final', () => {
    let e = createSequentialTest(config());
    // Each interval: 2 canary errors, none on stable -> +0.575923 each; crosses 2.642 on the 5th.
    for (let i = 1; i <= 4; i++) e = evaluate(e, counts(2 * i, 100 * i, 0, 100 * i));
    expect(e.decision).toBe('Continue');
    e = evaluate(e, counts(10, 500, 0, 500));
    expect(e.decision).toBe('Failed');
    expect(e.reason).toMatch(/elevated/);
    expect(evaluate(e, counts(10, 10_000, 500, 10_000))).toBe(e);
    expect(finalize(e)).toBe(e);
  });

  it('passes a canary that makes fewer errors than stable', () => {
    const e = feed(
      createSequentialTest(config()),
      counts(0, 100, 1, 100),
      counts(0, 200, 2, 200),
      counts(0, 300, 3, 300),
      counts(0, 400, 4, 400),
    );
    // Four stable errors: 4·(-0.405465) = -1.62 <= -1.400
    expect(e.decision).toBe('Successful');
    expect(e.logLikelihoodRatio).toBeCloseTo(-1.62186, 5);
  });

  it('turns Continue into Inconclusive at maxCanaryRequests or on finalize', () => {
    const capped = feed(
      createSequentialTest(config({ maxCanaryRequests: 200 })),
      counts(1, 100, 0, 100),
      counts(1, 200, 1, 200),
    );
    expect(capped.decision).toBe('Inconclusive');
    expect(capped.reason).toMatch(/200 canary requests/);
    const open = evaluate(createSequentialTest(config()), counts(1, 100, 0, 100));
    const ended = finalize(open, 'analysis window of 30m ended');
    expect(ended.decision).toBe('Inconclusive');
    expect(ended.reason).toMatch(/^analysis window of 30m ended without a decision/);
  });

  it('differences against startCounts when counters carry history', () => {
    const e = evaluate(
      createSequentialTest(config({ boundaries: 'wald' }), counts(50, 10_000, 70, 20_000)),
      counts(51, 10_100, 70, 20_100),
    );
    expect(e.requests).toEqual({ canary: 100, stable: 100, total: 200 });
    expect(e.logLikelihoodRatio).toBeCloseTo(0.287682, 6);
  });

  it('skips an interval on a counter reset and restarts counting from the new values', () => {
    const before = evaluate(createSequentialTest(config()), counts(1, 100, 0, 100));
    const reset = evaluate(before, counts(0, 10, 1, 300));
    expect(reset.counterResets).toBe(1);
    expect(reset.logLikelihoodRatio).toBe(before.logLikelihoodRatio);
    expect(reset.lastCounts).toEqual(counts(0, 10, 1, 300));
    const after = evaluate(reset, counts(1, 110, 1, 400));
    expect(after.logLikelihoodRatio).toBeCloseTo(2 * 0.287682, 6);
  });

  it('ignores malformed or inconsistent scrapes without losing data', () => {
    const start = evaluate(createSequentialTest(config()), counts(0, 100, 0, 100));
    // Error counter scraped after the request counter: 3 new errors but only 1 new request.
    const skewed = evaluate(start, counts(3, 101, 0, 200));
    expect(skewed.ignoredObservations).toBe(1);
    expect(skewed.lastCounts).toEqual(start.lastCounts);
    for (const bad of [counts(NaN, 1, 0, 1), counts(-1, 100, 0, 100), counts(5, 2, 0, 300)]) {
      const e = evaluate(skewed, bad);
      expect(e.ignoredObservations).toBe(2);
      expect(e.logLikelihoodRatio).toBe(0);
    }
    // The next consistent scrape covers the whole gap.
    const caught = evaluate(skewed, counts(3, 200, 0, 200));
    expect(caught.requests.canary).toBe(200);
    expect(caught.errors.canary).toBe(3);
  });

  it('rounds the fractional counts increase() returns', () => {
    const e = evaluate(createSequentialTest(config({ boundaries: 'wald' })), counts(0.9, 99.6, 0.2, 100.4));
    expect(e.lastCounts).toEqual(counts(1, 100, 0, 100));
    expect(e.logLikelihoodRatio).toBeCloseTo(0.287682, 6);
  });

  it('evidence is plain JSON and replays identically after a round trip', () => {
    const obs = [counts(1, 100, 0, 100), counts(1, 200, 1, 200), counts(3, 300, 1, 300), counts(3, 400, 2, 400)];
    let direct = createSequentialTest(config({ maxCanaryRequests: 10_000 }));
    let stored = JSON.parse(JSON.stringify(direct)) as SequentialTestEvidence;
    for (const o of obs) {
      direct = evaluate(direct, o);
      stored = JSON.parse(JSON.stringify(evaluate(stored, o))) as SequentialTestEvidence;
      expect(stored).toEqual(direct);
    }
    // JSON.stringify would turn NaN or Infinity into null; nothing here may be null.
    expect(JSON.stringify(finalize(direct))).not.toMatch(/null/);
  });
});

describe('the look size the thresholds are calibrated for', () => {
  // Reads of 1 and 3 errors (0 + 1, then 2 + 1): no decision yet, no dispersion discount.
  const reads = [counts(0, 1000, 1, 1000), counts(2, 2000, 2, 2000)];
  const exact = config({ overdispersion: 'none' });

  it('version 3 (default): Σx²/Σx = (1 + 9)/4 = 2.5 errors, the read an error falls in on average', () => {
    const e = feed(createSequentialTest(exact), ...reads);
    expect(e.version).toBe(3);
    expect(e.decision).toBe('Continue');
    expect(e.sumSquaredReadErrors).toBe(10);
    expect(e.errorsPerLook).toBe(2.5);
    const t = exactThresholds({
      ...exact,
      oddsRatio: 2,
      canaryTrafficShare: { min: 0.5, max: 0.5 },
      errorsPerLook: 2.5,
    });
    expect(e.upperThreshold).toBe(t.upper);
    expect(e.lowerThreshold).toBe(t.lower);
  });

  it('version 2 (analyses started before): the mean, 4/2 = 2, on its coarser sizes', () => {
    const e = feed(createSequentialTest(exact, undefined, 2), ...reads);
    expect(e.version).toBe(2);
    expect(e.sumSquaredReadErrors).toBeUndefined();
    expect(e.errorsPerLook).toBe(2);
  });
});

describe('configuration', () => {
  it('computes the design odds ratio from an explicit effect scale', () => {
    expect(designOddsRatio({ kind: 'relative', increase: 1 })).toBe(2);
    // 1% -> 2%: (0.02·0.99)/(0.01·0.98) = 0.0198/0.0098 = 2.020408
    expect(designOddsRatio({ kind: 'absolute', increase: 0.01, baselineErrorRate: 0.01 })).toBeCloseTo(2.020408, 6);
  });

  it('records the design in the evidence', () => {
    const e = createSequentialTest(
      config({ canaryTrafficShare: { min: 0.05, max: 0.25 }, boundaries: { upper: 2.5, lower: -1.5 } }),
    );
    expect(e.design).toMatchObject({
      alpha: 0.05,
      power: 0.8,
      oddsRatio: 2,
      canaryTrafficShare: { min: 0.05, max: 0.25 },
      boundaries: 'custom',
      maxCanaryRequests: null,
    });
    expect([e.upperThreshold, e.lowerThreshold]).toEqual([2.5, -1.5]);
  });

  it('rejects invalid configs with every problem listed', () => {
    expect(validateSequentialTestConfig(config())).toEqual([]);
    const problems = validateSequentialTestConfig(config({ alpha: 0.7, power: 0.3, canaryTrafficShare: 1 }));
    expect(problems).toEqual([
      { field: 'alpha', message: 'must be in (0, 0.5), got 0.7' },
      { field: 'power', message: 'must be in (0.5, 1), got 0.3' },
      { field: 'canaryTrafficShare', message: 'must be in (0, 1) with min <= max, got 1' },
    ]);
    expect(() => createSequentialTest(config({ alpha: 0 }))).toThrow(RangeError);
    expect(() =>
      createSequentialTest(
        config({ minimumDetectableEffect: { kind: 'absolute', increase: 0.01, baselineErrorRate: 0 } }),
      ),
    ).toThrow(/baselineErrorRate/);
    expect(() => createSequentialTest(config({ boundaries: { upper: -1, lower: -2 } }))).toThrow(/upper > 0 > lower/);
  });

  it('refuses exact boundaries too costly for workflow code, pointing to the alternatives', () => {
    const extreme = config({ minimumDetectableEffect: { kind: 'relative', increase: 0.05 }, canaryTrafficShare: 0.01 });
    expect(validateSequentialTestConfig(extreme)).toEqual([
      { field: 'boundaries', message: expect.stringMatching(/exactThresholds/) },
    ]);
    expect(validateSequentialTestConfig({ ...extreme, boundaries: 'anytime-valid' })).toEqual([]);
  });
});
