import { fixedHorizonSampleSize, inverseNormalCdf } from '../../../src/analysis/fixedHorizon';

describe('inverseNormalCdf', () => {
  it('matches standard normal tables', () => {
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0, 12);
    expect(inverseNormalCdf(0.95)).toBeCloseTo(1.644854, 6);
    expect(inverseNormalCdf(0.8)).toBeCloseTo(0.841621, 6);
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959964, 6);
    expect(inverseNormalCdf(0.99)).toBeCloseTo(2.326348, 6);
    // Tails use the other branch of Acklam's approximation.
    expect(inverseNormalCdf(0.01)).toBeCloseTo(-2.326348, 6);
    expect(inverseNormalCdf(1e-6)).toBeCloseTo(-4.753424, 5);
  });

  it('is antisymmetric around 0.5', () => {
    for (const p of [0.001, 0.02, 0.1, 0.3]) expect(inverseNormalCdf(1 - p)).toBeCloseTo(-inverseNormalCdf(p), 9);
  });

  it('rejects probabilities outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, 1.5, NaN]) expect(() => inverseNormalCdf(p)).toThrow(RangeError);
  });
});

describe('fixedHorizonSampleSize', () => {
  it('gives 1826 per group for 1% -> 2% at alpha 0.05 one-sided, power 0.8', () => {
    // By hand: z(0.95) = 1.644854, z(0.8) = 0.841621, p̄ = (0.02 + 0.01)/2 = 0.015.
    //   z(0.95)·sqrt(2·p̄·q̄)       = 1.644854 · sqrt(2·0.015·0.985) = 1.644854 · 0.171901 = 0.282752
    //   z(0.8)·sqrt(p0q0 + p1q1)   = 0.841621 · sqrt(0.0099 + 0.0196) = 0.841621 · 0.171756 = 0.144553
    //   n = (0.282752 + 0.144553)² / (0.02 - 0.01)² = 0.427305² / 0.0001 = 0.182590 / 0.0001 = 1825.9 -> 1826
    expect(fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.01, p1: 0.02 })).toEqual({
      canary: 1826,
      stable: 1826,
      total: 3652,
    });
  });

  it('handles unequal allocation (a 10% canary: 9 stable requests per canary request)', () => {
    // By hand: k = 9, p̄ = (0.02 + 9·0.01)/10 = 0.011.
    //   1.644854 · sqrt(0.011·0.989·(1 + 1/9)) = 1.644854 · 0.109944 = 0.180842
    //   0.841621 · sqrt(0.0196 + 0.0099/9)    = 0.841621 · 0.143875 = 0.121088
    //   n_c = 0.301931² / 0.0001 = 911.6 -> 912, n_s = 9 · 912 = 8208
    expect(fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.01, p1: 0.02, stablePerCanary: 9 })).toEqual({
      canary: 912,
      stable: 8208,
      total: 9120,
    });
  });

  it('grows with power and shrinks with alpha and effect', () => {
    const base = fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.01, p1: 0.02 }).canary;
    expect(fixedHorizonSampleSize({ alpha: 0.05, power: 0.9, p0: 0.01, p1: 0.02 }).canary).toBeGreaterThan(base);
    expect(fixedHorizonSampleSize({ alpha: 0.01, power: 0.8, p0: 0.01, p1: 0.02 }).canary).toBeGreaterThan(base);
    expect(fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.01, p1: 0.03 }).canary).toBeLessThan(base);
  });

  it('rejects nonsense inputs', () => {
    expect(() => fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.02, p1: 0.01 })).toThrow(RangeError);
    expect(() => fixedHorizonSampleSize({ alpha: 0, power: 0.8, p0: 0.01, p1: 0.02 })).toThrow(RangeError);
    expect(() => fixedHorizonSampleSize({ alpha: 0.05, power: 1, p0: 0.01, p1: 0.02 })).toThrow(RangeError);
    expect(() => fixedHorizonSampleSize({ alpha: 0.05, power: 0.8, p0: 0.01, p1: 0.02, stablePerCanary: 0 })).toThrow(
      RangeError,
    );
  });
});
