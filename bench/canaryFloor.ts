/**
 * How few samples a regressed canary can be decided in when the data come in reads: in normal
 * theory (the score of the fixed-horizon test as Brownian motion, looked at every D of the
 * fixed-horizon information), the least E[sample | H1] over *every* sequential test with
 * false-alarm rate 0.05 and power 0.8, found by backward induction on the Lagrangian
 * E1[T] + λ0·P0(fail) + λ1·P1(pass), next to the best SPRT with constant thresholds at the same
 * reads. Both as a fraction of the fixed-horizon sample. Not part of runBenchmarks (~20 s a row).
 *
 *   node dist/bench/canaryFloor.js [0.03,0.065,0.09,0.165,0.41]
 */
const Z_ALPHA = 1.6448536; // z(0.95)
const Z_BETA = 0.8416212; // z(0.8)
const DELTA = Z_ALPHA + Z_BETA; // drift per unit of information that the fixed-horizon test needs exactly 1 of
const H = 0.02;
const LO = -12;
const HI = 24;
const N = Math.round((HI - LO) / H) + 1;
const GRID = Float64Array.from({ length: N }, (_, i) => LO + i * H);

type Regions = Uint8Array[]; // per look: 0 continue, 1 fail (reject H0), 2 pass

interface Kernel {
  taps: Float64Array;
  w: number;
}

/** One read's increment of the score under H1, N(δD, D), as taps on the grid. */
function kernel(d: number): Kernel {
  const sd = Math.sqrt(d);
  const mu = DELTA * d;
  const w = Math.ceil((Math.abs(mu) + 7 * sd) / H);
  const taps = new Float64Array(2 * w + 1);
  let sum = 0;
  for (let j = -w; j <= w; j++) {
    const z = (j * H - mu) / sd;
    taps[j + w] = Math.exp((-z * z) / 2);
    sum += taps[j + w];
  }
  for (let j = 0; j < taps.length; j++) taps[j] /= sum;
  return { taps, w };
}

/** f0/f1 at information t and score s: probabilities under H0 are H1's weighted by it. */
const ratio = (t: number, s: number): number => Math.exp(-DELTA * s + (DELTA * DELTA * t) / 2);

function expectation(c: Float64Array, i: number, k: Kernel): number {
  let e = 0;
  for (let j = -k.w; j <= k.w; j++) e += k.taps[j + k.w] * c[Math.min(N - 1, Math.max(0, i + j))];
  return e;
}

/** The Bayes-optimal stopping regions for the Lagrangian with multipliers l0, l1 (horizon K reads). */
function optimalRegions(d: number, reads: number, l0: number, l1: number, k: Kernel): Regions {
  const regions: Regions = [];
  let cost = new Float64Array(N);
  const last = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const fail = l0 * ratio(reads * d, GRID[i]);
    cost[i] = Math.min(fail, l1);
    last[i] = fail < l1 ? 1 : 2;
  }
  regions[reads] = last;
  for (let look = reads - 1; look >= 1; look--) {
    const next = new Float64Array(N);
    const r = new Uint8Array(N);
    for (let i = 0; i < N; i++) {
      const go = d + expectation(cost, i, k);
      const fail = l0 * ratio(look * d, GRID[i]);
      if (go < fail && go < l1) next[i] = go;
      else if (fail < l1) [next[i], r[i]] = [fail, 1];
      else [next[i], r[i]] = [l1, 2];
    }
    cost = next;
    regions[look] = r;
  }
  return regions;
}

/** The SPRT: log-likelihood ratio δS − δ²t/2 against constant thresholds. */
function sprtRegions(d: number, reads: number, upper: number, lower: number): Regions {
  const regions: Regions = [];
  for (let look = 1; look <= reads; look++) {
    const r = new Uint8Array(N);
    for (let i = 0; i < N; i++) {
      const llr = DELTA * GRID[i] - (DELTA * DELTA * look * d) / 2;
      r[i] = look === reads ? (llr >= (upper + lower) / 2 ? 1 : 2) : llr >= upper ? 1 : llr <= lower ? 2 : 0;
    }
    regions[look] = r;
  }
  return regions;
}

/** False-alarm rate, miss rate and E1[T] of a set of regions. */
function operating(d: number, reads: number, regions: Regions, k: Kernel) {
  let f = new Float64Array(N);
  f[Math.round(-LO / H)] = 1;
  let alpha = 0;
  let beta = 0;
  let expected = 0;
  let live = 1;
  for (let look = 1; look <= reads; look++) {
    const g = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const p = f[i];
      if (p === 0) continue;
      for (let j = -k.w; j <= k.w; j++) g[Math.min(N - 1, Math.max(0, i + j))] += p * k.taps[j + k.w];
    }
    expected += d * live;
    live = 0;
    const r = regions[look];
    for (let i = 0; i < N; i++) {
      if (g[i] === 0) continue;
      if (r[i] === 1) alpha += g[i] * ratio(look * d, GRID[i]);
      else if (r[i] === 2) beta += g[i];
      else live += g[i];
      if (r[i] !== 0) g[i] = 0;
    }
    f = g;
  }
  return { alpha, beta, expected };
}

/** Alternating bisections on the two parameters until alpha = 0.05 and beta = 0.2. */
function calibrate(make: (x: number, y: number) => Regions, d: number, reads: number, k: Kernel) {
  let x = 0;
  let y = 0;
  for (let round = 0; round < 6; round++) {
    let [a, b] = [-8, 12];
    for (let i = 0; i < 22; i++) {
      const m = (a + b) / 2;
      if (operating(d, reads, make(m, y), k).alpha > 0.05) a = m;
      else b = m;
    }
    x = b;
    [a, b] = [-8, 12];
    for (let i = 0; i < 22; i++) {
      const m = (a + b) / 2;
      if (operating(d, reads, make(x, m), k).beta > 0.2) a = m;
      else b = m;
    }
    y = b;
  }
  return operating(d, reads, make(x, y), k);
}

export interface FloorPoint {
  alpha: number;
  beta: number;
  /** E1[T] over the fixed-horizon sample. */
  expected: number;
}

/** The least E1[T] of any test, and of the constant-threshold SPRT, for reads of d of the fixed horizon. */
export function floor(d: number): { best: FloorPoint; sprt: FloorPoint } {
  const reads = Math.ceil(4 / d); // four fixed horizons: the mass left undecided there is < 1e-4
  const k = kernel(d);
  const best = calibrate((x, y) => optimalRegions(d, reads, Math.exp(x), Math.exp(y), k), d, reads, k);
  const sprt = calibrate((x, y) => sprtRegions(d, reads, Math.max(0.01, x), -Math.max(0.01, y)), d, reads, k);
  return { best, sprt };
}

export function floorRow(d: number): string {
  const { best, sprt } = floor(d);
  const f = (r: { alpha: number; beta: number; expected: number }) =>
    `${r.expected.toFixed(3)} (α ${(100 * r.alpha).toFixed(2)}%, power ${(100 * (1 - r.beta)).toFixed(1)}%)`;
  return `| ${d} | ${f(best)} | ${f(sprt)} |`;
}

if (require.main === module) {
  const reads = (process.argv[2] ?? '0.03,0.065,0.09,0.165,0.41').split(',').map(Number);
  console.log('| read (share of the fixed-horizon information) | any test: least E1[T] | constant-threshold SPRT |');
  console.log('|---|---|---|');
  for (const d of reads) console.log(floorRow(d));
}
