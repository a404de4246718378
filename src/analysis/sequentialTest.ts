/**
 * Sequential test of "is the canary's error rate worse than stable's?" for continuous monitoring.
 *
 * Choice: Wald's SPRT on the *conditional* binomial split of errors between canary and stable.
 *
 * - Conditioning removes the unknown baseline. Given that an interval produced e errors among n_c
 *   canary and n_s stable requests, the number landing on the canary follows Fisher's noncentral
 *   hypergeometric law with the odds ratio ψ as its only parameter. Under H0 (ψ = 1) it is the
 *   central hypergeometric, whatever the baseline is and however it drifts between intervals, so the
 *   likelihood ratio is an exact martingale under H0 for Bernoulli requests. A plug-in SPRT (p0
 *   estimated from stable) is not: simulated at 1% errors with a 50/50 split it fails 17% of
 *   healthy canaries at alpha = 0.05. Lindon et al. (KDD 2022) test count streams through the same
 *   kind of conditional split.
 * - SPRT (simple H1 at the minimum detectable effect) rather than their mixture SPRT: the mixture
 *   test only ever rejects, so a healthy canary runs to the time limit, and it pays for its
 *   mixture at the MDE. Among tests with the same error rates the SPRT minimises the expected sample
 *   size under both hypotheses (Wald–Wolfowitz), and a canary gate must promote early too.
 * - Boundaries: Wald's A = (1-β)/α, B = β/(1-α) ignore overshoot. Errors are rare, so each error
 *   moves the statistic by ~0.3-0.7 against thresholds of ~2.8; the real error rates end up below
 *   nominal and the test needs up to ~0.72 of the fixed-horizon sample size. The default 'exact'
 *   boundaries are tightened until the error rates computed exactly (dynamic programming over the
 *   error lattice) equal alpha and 1-power, as in exact MaxSPRT critical values (Kulldorff et al.,
 *   2011); that brings the mean to ~0.58-0.66 of fixed horizon. 'anytime-valid' (A = 1/α, B = β)
 *   is the choice when alpha must hold by Ville's inequality under any traffic pattern and scrape
 *   schedule; its price is ~0.75. Numbers: docs/canary-statistics.md.
 *
 * The evidence object is plain JSON: it is stored in workflow history and audit logs, passed back
 * into `evaluate` with each scrape, and replays to the same decision. Pure and deterministic: no
 * Node built-ins, no I/O, no clock, no randomness, so Temporal workflow code may import it.
 */

export type SequentialDecision = 'Successful' | 'Failed' | 'Continue' | 'Inconclusive';

/** Cumulative request and error counts, as read from Prometheus counters. */
export interface CumulativeCounts {
  readonly canaryErrors: number;
  readonly canaryTotal: number;
  readonly stableErrors: number;
  readonly stableTotal: number;
}

/**
 * The regression the test must detect with the configured power. Be explicit about the scale:
 * - relative: canary error rate = stable error rate × (1 + increase); 1.0 means "doubled".
 * - absolute: canary error rate = baselineErrorRate + increase, e.g. 0.01 → 0.02.
 */
export type MinimumDetectableEffect =
  | { readonly kind: 'relative'; readonly increase: number }
  | { readonly kind: 'absolute'; readonly increase: number; readonly baselineErrorRate: number };

/** How the log-likelihood-ratio thresholds are chosen; see the module header. */
export type BoundaryMethod = 'exact' | 'wald' | 'anytime-valid';

export interface TrafficShareRange {
  readonly min: number;
  readonly max: number;
}

export interface SequentialTestConfig {
  /** False-alarm rate: probability of failing a healthy canary, e.g. 0.05. */
  readonly alpha: number;
  /** Probability of failing a canary that regressed by the minimum detectable effect, e.g. 0.8. */
  readonly power: number;
  readonly minimumDetectableEffect: MinimumDetectableEffect;
  /**
   * Fraction of requests the canary serves, canary / (canary + stable): 0.1 for a 10% canary, or a
   * range when the weight changes during the analysis. Exact boundaries are computed for the worst
   * case in the range; the statistic itself always uses the observed split.
   */
  readonly canaryTrafficShare: number | TrafficShareRange;
  /**
   * Default 'exact'. Explicit thresholds (e.g. `exactThresholds` computed once in an activity for an
   * extreme design whose calibration would be slow) are used as given and recorded as 'custom'.
   */
  readonly boundaries?: BoundaryMethod | Thresholds;
  /** Canary requests after which a still-undecided test becomes 'Inconclusive'. */
  readonly maxCanaryRequests?: number;
  /**
   * Default 'estimate': the extra variation of the error split between intervals (errors in
   * bursts or clusters within one version) is estimated as it comes and the evidence is discounted
   * by it (quasi-likelihood). 'none' trusts that errors are independent per request.
   */
  readonly overdispersion?: 'estimate' | 'none';
  /** Dispersion factor above which the data are too irregular to decide: Inconclusive. Default 10. */
  readonly maxDispersion?: number;
  /**
   * The stable version's extra variation between intervals, measured on its history before the
   * analysis (stableDispersionLevels): per interval size, the factor its counts vary by beyond
   * independent errors. With it, each interval's evidence is discounted by the factor for its size;
   * without it, by the estimate from the analysis' own intervals (weak until there are many).
   */
  readonly stableDispersion?: DispersionModel;
}

/** Dispersion φ of intervals holding about `stableRequests` stable requests. */
export interface DispersionLevel {
  readonly stableRequests: number;
  readonly stableErrors: number;
  readonly factor: number;
}

/**
 * The stable version's extra variation between intervals, by interval size (stableDispersionModel).
 * The canary's share of an interval's errors is assumed to vary by no more than stable's own counts
 * do at that size: exact for clustered errors, conservative for rates that vary per interval and
 * version (the split varies less than a count with 1−r of the errors does) and for slow drift.
 */
export interface DispersionModel {
  readonly levels: readonly DispersionLevel[];
}

/** Thresholds on the natural-log likelihood ratio: Failed at >= upper, Successful at <= lower. */
export interface Thresholds {
  readonly upper: number;
  readonly lower: number;
}

/** The design a test was created with, stored in the evidence so a decision can be audited alone. */
export interface SequentialDesign {
  readonly alpha: number;
  readonly power: number;
  readonly minimumDetectableEffect: MinimumDetectableEffect;
  /** Odds ratio (canary vs stable) the alternative hypothesis is built on. */
  readonly oddsRatio: number;
  readonly canaryTrafficShare: TrafficShareRange;
  readonly boundaries: BoundaryMethod | 'custom';
  readonly maxCanaryRequests: number | null;
  /** Absent in evidence from before the dispersion estimate (version 1): 'none'. */
  readonly overdispersion?: 'estimate' | 'none';
  readonly maxDispersion?: number;
  readonly stableDispersion?: DispersionModel;
}

/**
 * Sums behind the dispersion estimate: the Pearson statistic for "the canary's share of the errors is
 * the same in every interval", over intervals with at least one error. Plain sums so the evidence
 * stays small however long the analysis runs.
 */
export interface DispersionEvidence {
  /** Σ x_i²/e_i: x_i canary errors, e_i all errors of interval i. */
  readonly sumSquaresOverErrors: number;
  /** Intervals with at least one error. */
  readonly intervals: number;
  /** The factor φ ≥ 1 the log-likelihood ratio is divided by (1 while there is too little data). */
  readonly factor: number;
  /** With stableDispersion: Σ e_i/φ_i, the errors the discounted evidence is worth. */
  readonly effectiveErrors?: number;
  /** With stableDispersion: Σ ℓ_i/φ_i. */
  readonly discountedLogLikelihoodRatio?: number;
}

/** Everything the test knows; JSON-serialisable, and the only state `evaluate` needs. */
export interface SequentialTestEvidence {
  readonly test: 'conditional-sprt';
  /**
   * 2 adds the dispersion estimate and thresholds calibrated for the reads' batch size (the mean
   * effective errors per read, on LOOK_SIZES). 3 calibrates for the look size whose overshoot matches
   * the reads' (Σ x²/Σ x of the effective errors x per read, on READ_LOOK_SIZES) and judges the stable
   * history's dispersion with its own standard error (see TestRules).
   */
  readonly version: 1 | 2 | 3;
  readonly design: SequentialDesign;
  readonly decision: SequentialDecision;
  /** Human-readable why, for audit logs. */
  readonly reason: string;
  /** ln(L1/L0) summed over the consumed intervals. */
  readonly logLikelihoodRatio: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  /** Largest log-likelihood ratio seen at any evaluation. */
  readonly maxLogLikelihoodRatio: number;
  /**
   * min(1, 1 / max likelihood ratio): an always-valid p-value against "canary no worse than stable"
   * (Ville's inequality; Johari et al.), meaningful even when the test ends Inconclusive.
   */
  readonly alwaysValidPValue: number;
  /** Requests consumed by the test since it started (not the raw counter values). */
  readonly requests: { readonly canary: number; readonly stable: number; readonly total: number };
  readonly errors: { readonly canary: number; readonly stable: number };
  /** Counts the next observation is differenced against. */
  readonly lastCounts: CumulativeCounts;
  /** Observations consumed into the statistic. */
  readonly observations: number;
  /** Observations skipped because they were malformed or inconsistent (e.g. errors > requests). */
  readonly ignoredObservations: number;
  /** Times a counter went backwards (pod restart); the interval is skipped and counting restarts. */
  readonly counterResets: number;
  /** Σ of the intervals' ln(L1/L0) before the dispersion discount (version 2). */
  readonly rawLogLikelihoodRatio?: number;
  readonly dispersion?: DispersionEvidence;
  /** Effective errors per read the thresholds are calibrated for (version 2 and 3, 'exact' only). */
  readonly errorsPerLook?: number;
  /** Σ over reads of (the read's effective errors)², for the look size of version 3. */
  readonly sumSquaredReadErrors?: number;
}

const ZERO_COUNTS: CumulativeCounts = { canaryErrors: 0, canaryTotal: 0, stableErrors: 0, stableTotal: 0 };

/** A problem with a config: the field it is about (as named in SequentialTestConfig) and what is wrong with it. */
export interface ConfigProblem {
  field:
    | 'alpha'
    | 'power'
    | 'minimumDetectableEffect'
    | 'canaryTrafficShare'
    | 'boundaries'
    | 'overdispersion'
    | 'maxDispersion'
    | 'maxCanaryRequests';
  message: string;
}

/** Problems with a config, empty when valid; lets callers validate outside workflow code. */
export function validateSequentialTestConfig(config: SequentialTestConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (field: ConfigProblem['field'], message: string) => problems.push({ field, message });
  const { alpha, power, minimumDetectableEffect: mde } = config;
  if (!(alpha > 0 && alpha < 0.5)) problem('alpha', `must be in (0, 0.5), got ${alpha}`);
  if (!(power > 0.5 && power < 1)) problem('power', `must be in (0.5, 1), got ${power}`);
  if (!(mde.increase > 0 && Number.isFinite(mde.increase)))
    problem('minimumDetectableEffect', `${mde.kind} must be > 0, got ${mde.increase}`);
  if (mde.kind === 'absolute') {
    const p0 = mde.baselineErrorRate;
    if (!(p0 > 0 && p0 < 1)) problem('minimumDetectableEffect', `baselineErrorRate must be in (0, 1), got ${p0}`);
    else if (!(p0 + mde.increase < 1))
      problem('minimumDetectableEffect', `baselineErrorRate + increase must be < 1, got ${p0 + mde.increase}`);
  } else if (mde.kind !== 'relative') {
    problem('minimumDetectableEffect', `kind must be 'relative' or 'absolute'`);
  }
  const share = shareRange(config.canaryTrafficShare);
  if (!(share.min > 0 && share.max < 1 && share.min <= share.max)) {
    problem(
      'canaryTrafficShare',
      `must be in (0, 1) with min <= max, got ${JSON.stringify(config.canaryTrafficShare)}`,
    );
  }
  const boundaries = config.boundaries ?? 'exact';
  if (typeof boundaries === 'object') {
    if (!(
      Number.isFinite(boundaries.upper) &&
      Number.isFinite(boundaries.lower) &&
      boundaries.upper > 0 &&
      boundaries.lower < 0
    )) {
      problem('boundaries', `explicit boundaries need finite upper > 0 > lower, got ${JSON.stringify(boundaries)}`);
    }
  } else if (!['exact', 'wald', 'anytime-valid'].includes(boundaries)) {
    problem('boundaries', `must be 'exact', 'wald', 'anytime-valid' or {upper, lower}, got ${String(boundaries)}`);
  }
  if (problems.length === 0 && (config.boundaries ?? 'exact') === 'exact') {
    const cost = exactCalibrationCost(config.alpha, config.power, designOddsRatio(mde), share.min);
    if (cost > EXACT_CALIBRATION_BUDGET) {
      problem(
        'boundaries',
        `exact boundaries for this design (effect ${mde.increase}, canary share ${share.min}) cost ~${Math.round(cost / EXACT_CALIBRATION_BUDGET)}x the budget for workflow code; ` +
          `compute them once with exactThresholds (e.g. in an activity) and pass them as boundaries, or use 'anytime-valid'`,
      );
    }
  }
  if (config.overdispersion !== undefined && config.overdispersion !== 'estimate' && config.overdispersion !== 'none') {
    problem('overdispersion', `must be 'estimate' or 'none', got ${String(config.overdispersion)}`);
  }
  if (config.maxDispersion !== undefined && !(config.maxDispersion > 1 && Number.isFinite(config.maxDispersion)))
    problem('maxDispersion', `must be a number > 1, got ${config.maxDispersion}`);
  const max = config.maxCanaryRequests;
  if (max !== undefined && !(max > 0 && Number.isFinite(max)))
    problem('maxCanaryRequests', `must be a positive number, got ${max}`);
  return problems;
}

/** One line naming each problem's field, for errors outside the config file. */
export function describeConfigProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

function shareRange(share: number | TrafficShareRange): TrafficShareRange {
  return typeof share === 'number' ? { min: share, max: share } : { min: share.min, max: share.max };
}

/**
 * Odds ratio of the alternative. With an absolute effect the baseline is known, so it is exact.
 * With a relative one it is the risk ratio 1 + increase, which never exceeds the true odds ratio
 * of that regression, so the stated power is a lower bound.
 */
export function designOddsRatio(mde: MinimumDetectableEffect): number {
  if (mde.kind === 'relative') return 1 + mde.increase;
  const p0 = mde.baselineErrorRate;
  const p1 = p0 + mde.increase;
  return (p1 * (1 - p0)) / (p0 * (1 - p1));
}

/** Wald's classical boundaries: ln((1-β)/α) and ln(β/(1-α)). */
export function waldThresholds(alpha: number, power: number): Thresholds {
  const beta = 1 - power;
  return { upper: Math.log((1 - beta) / alpha), lower: Math.log(beta / (1 - alpha)) };
}

/** ln(1/α) and ln(β): the false-alarm rate is <= α by Ville's inequality whatever the data do. */
export function anytimeValidThresholds(alpha: number, power: number): Thresholds {
  return { upper: Math.log(1 / alpha), lower: Math.log(1 - power) };
}

export interface OperatingCharacteristics {
  /** P(Failed) when canary and stable have the same error rate. */
  readonly falseAlarmRate: number;
  /** P(Failed) at the design odds ratio. */
  readonly power: number;
  /** Expected errors (canary + stable) until a decision, under H0 and at the design effect. */
  readonly expectedErrorsH0: number;
  readonly expectedErrorsH1: number;
}

interface WalkResult {
  readonly fail: number;
  readonly succeed: number;
  /** Probability mass still undecided when the walk stopped. */
  readonly unresolved: number;
  readonly expectedErrors: number;
}

/** Lets a caller stop the walk once (fail, succeed, live mass) settle its question. */
type StopRule = (fail: number, succeed: number, live: number) => boolean;

// Cap on errors walked; the mass left undecided is reported and counted against the design.
const MAX_LATTICE_ERRORS = 200_000;
const NEGLIGIBLE_MASS = 1e-12;

/**
 * Exact operating characteristic of the test monitored after every error, in the Poisson limit
 * (errors rare, so each error is the canary's with probability θ = rψ/(rψ + 1 - r)). The statistic
 * is c·up + (k-c)·down after k errors of which c were the canary's, a walk on a lattice; dynamic
 * programming over (k, c) gives the absorption probabilities without simulation error.
 */
function walk(
  share: number,
  oddsRatio: number,
  thresholds: Thresholds,
  theta: number,
  stop?: StopRule,
  errorsPerLook = 1,
): WalkResult {
  const theta1 = (share * oddsRatio) / (share * oddsRatio + 1 - share);
  const up = Math.log(theta1 / share);
  const down = Math.log((1 - theta1) / (1 - share));
  const every = Math.max(1, errorsPerLook);
  // A fractional look size m looks after the ⌈j·m⌉-th error (reads of ⌊m⌋ and ⌈m⌉ errors, m on average).
  const lookAfter = Number.isInteger(every)
    ? (errors: number) => errors % every === 0
    : (errors: number) => Math.floor(errors / every + 1e-9) > Math.floor((errors - 1) / every + 1e-9);
  // Live canary-error counts at a given k form an interval no wider than (upper-lower)/ln ψ, plus
  // the errors walked between two looks.
  const width = Math.ceil((thresholds.upper - thresholds.lower) / Math.log(oddsRatio)) + 3 + Math.ceil(every);
  let cur = new Float64Array(width + 1);
  let next = new Float64Array(width + 1);
  cur[0] = 1;
  let lo = 0;
  let len = 1;
  let fail = 0;
  let succeed = 0;
  let expectedErrors = 0;
  let live = 1;
  for (let k = 0; k < MAX_LATTICE_ERRORS && live > NEGLIGIBLE_MASS; k++) {
    next.fill(0, 0, len + 1);
    for (let i = 0; i < len; i++) {
      const p = cur[i];
      next[i] += p * (1 - theta);
      next[i + 1] += p * theta;
    }
    let first = -1;
    let last = -1;
    live = 0;
    // Between looks (a read brings `every` errors at once) nothing is absorbed: that is the overshoot.
    const look = lookAfter(k + 1);
    for (let i = 0; i <= len; i++) {
      const p = next[i];
      if (p === 0) continue;
      const c = lo + i;
      const llr = c * up + (k + 1 - c) * down;
      if (!look) {
        live += p;
        if (first < 0) first = i;
        last = i;
      } else if (llr >= thresholds.upper) {
        fail += p;
        expectedErrors += p * (k + 1);
        next[i] = 0;
      } else if (llr <= thresholds.lower) {
        succeed += p;
        expectedErrors += p * (k + 1);
        next[i] = 0;
      } else {
        live += p;
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0 || (stop && stop(fail, succeed, live))) break;
    const swap = cur;
    cur = next;
    next = swap;
    cur.copyWithin(0, first, last + 1);
    lo += first;
    len = last - first + 1;
  }
  return { fail, succeed, unresolved: Math.max(0, 1 - fail - succeed), expectedErrors };
}

/** Exact false-alarm rate, power and expected errors for a design, at one canary traffic share. */
export function operatingCharacteristics(params: {
  readonly oddsRatio: number;
  readonly canaryTrafficShare: number;
  readonly thresholds: Thresholds;
  readonly errorsPerLook?: number;
}): OperatingCharacteristics {
  const { oddsRatio: psi, canaryTrafficShare: r, thresholds } = params;
  const m = params.errorsPerLook ?? 1;
  const h0 = walk(r, psi, thresholds, r, undefined, m);
  const h1 = walk(r, psi, thresholds, (r * psi) / (r * psi + 1 - r), undefined, m);
  return {
    falseAlarmRate: h0.fail + h0.unresolved,
    power: h1.fail,
    expectedErrorsH0: h0.expectedErrors,
    expectedErrorsH1: h1.expectedErrors,
  };
}

// Lattice cells visited ∝ (lattice width) × (errors to a decision); 1.5e5 is ~0.4 s on a slow core,
// a quarter of Temporal's 2 s deadlock timeout for a workflow task. Typical designs are ~1e3.
const EXACT_CALIBRATION_BUDGET = 1.5e5;

function exactCalibrationCost(alpha: number, power: number, oddsRatio: number, share: number): number {
  const { upper, lower } = anytimeValidThresholds(alpha, power);
  const theta1 = (share * oddsRatio) / (share * oddsRatio + 1 - share);
  // KL divergence per error under H0: how fast the statistic drifts to the lower threshold.
  const drift = -(share * Math.log(theta1 / share) + (1 - share) * Math.log((1 - theta1) / (1 - share)));
  return ((upper - lower) / Math.log(oddsRatio)) * ((upper - lower) / drift);
}

const BISECTION_STEPS = 10;
const MAX_ROUNDS = 8;
const CONVERGED = 2e-3;

/**
 * The tightest thresholds whose exact false-alarm rate is <= α and power >= 1-β at every listed
 * traffic share. Starts from the anytime-valid pair (feasible by Wald's inequalities) and alternates:
 * lower `upper` until α binds (which raises power), then raise `lower` until β binds (which lowers
 * the false-alarm rate). Both moves keep the pair feasible, so the result is feasible; undecided
 * mass counts against it. Each check stops its walk as soon as the answer is settled; a design
 * costs ~5-50 ms once per test (more for tiny effects or shares), never per evaluation.
 */
export function exactThresholds(params: {
  readonly alpha: number;
  readonly power: number;
  readonly oddsRatio: number;
  readonly canaryTrafficShare: TrafficShareRange;
  /** Errors each read brings (1: a look after every error). Larger looks overshoot, so thresholds come in. */
  readonly errorsPerLook?: number;
}): Thresholds {
  const { alpha, power, oddsRatio: psi } = params;
  const m = params.errorsPerLook ?? 1;
  const beta = 1 - power;
  const { min, max } = params.canaryTrafficShare;
  const shares = min === max ? [min] : [min, max];
  // P(Failed | H0) <= α: settled once fail alone exceeds α, or fail plus everything undecided does not.
  const falseAlarmOk = (t: Thresholds): boolean =>
    shares.every((r) => {
      const w = walk(r, psi, t, r, (fail, _succeed, live) => fail > alpha || fail + live <= alpha, m);
      return w.fail + w.unresolved <= alpha;
    });
  // P(not Failed | H1) <= β, symmetrically.
  const missOk = (t: Thresholds): boolean =>
    shares.every((r) => {
      const w = walk(
        r,
        psi,
        t,
        (r * psi) / (r * psi + 1 - r),
        (_fail, succeed, live) => succeed > beta || succeed + live <= beta,
        m,
      );
      return w.succeed + w.unresolved <= beta;
    });
  let { upper, lower } = anytimeValidThresholds(alpha, power);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let infeasible = 0;
    let feasibleUpper = upper;
    for (let i = 0; i < BISECTION_STEPS; i++) {
      const mid = (infeasible + feasibleUpper) / 2;
      if (falseAlarmOk({ upper: mid, lower })) feasibleUpper = mid;
      else infeasible = mid;
    }
    let feasibleLower = lower;
    infeasible = 0;
    for (let i = 0; i < BISECTION_STEPS; i++) {
      const mid = (feasibleLower + infeasible) / 2;
      if (missOk({ upper: feasibleUpper, lower: mid })) feasibleLower = mid;
      else infeasible = mid;
    }
    const converged = Math.abs(feasibleUpper - upper) < CONVERGED && Math.abs(feasibleLower - lower) < CONVERGED;
    upper = feasibleUpper;
    lower = feasibleLower;
    if (converged) break;
  }
  return { upper, lower };
}

/** Thresholds for a validated config. */
export function thresholdsFor(config: SequentialTestConfig): Thresholds {
  const boundaries = config.boundaries ?? 'exact';
  if (typeof boundaries === 'object') return { upper: boundaries.upper, lower: boundaries.lower };
  if (boundaries === 'wald') return waldThresholds(config.alpha, config.power);
  if (boundaries === 'anytime-valid') return anytimeValidThresholds(config.alpha, config.power);
  return cachedExactThresholds(
    config.alpha,
    config.power,
    designOddsRatio(config.minimumDetectableEffect),
    shareRange(config.canaryTrafficShare),
    1,
  );
}

// Exact thresholds depend only on the design and the look size; a pure function's results, so a
// cache shared by every test in the process (or workflow isolate) changes no decision.
const thresholdCache = new Map<string, Thresholds>();
const THRESHOLD_CACHE_LIMIT = 2_000;

function cachedExactThresholds(
  alpha: number,
  power: number,
  oddsRatio: number,
  share: TrafficShareRange,
  errorsPerLook: number,
): Thresholds {
  const key = `${alpha}|${power}|${oddsRatio}|${share.min}|${share.max}|${errorsPerLook}`;
  const hit = thresholdCache.get(key);
  if (hit) return hit;
  const t = exactThresholds({ alpha, power, oddsRatio, canaryTrafficShare: share, errorsPerLook });
  if (thresholdCache.size >= THRESHOLD_CACHE_LIMIT) thresholdCache.clear();
  thresholdCache.set(key, t);
  return t;
}

/**
 * Look sizes the exact thresholds are calibrated for: powers of √2, rounded down. A read's batch of
 * errors is rounded down to one of these, so the thresholds assume at most the overshoot the reads
 * really have (conservative), and a design is calibrated for a handful of sizes, not one per read.
 */
const LOOK_SIZES = [1, 2, 3, 4, 5, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128];
/**
 * Version 3's look sizes: steps of at most ~19% (a quarter error below 3), fractional ones looking
 * after every ⌈j·m⌉-th error, so rounding down gives away less of the reads' overshoot.
 */
const READ_LOOK_SIZES = [
  1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9.5, 11, 13, 16, 19, 22, 27, 32, 38, 45, 54, 64,
  76, 90, 108, 128,
];

/** The largest calibrated look size not above `errorsPerRead` (version 2's sizes unless given). */
export function lookSizeFor(errorsPerRead: number, sizes: readonly number[] = LOOK_SIZES): number {
  let size = 1;
  for (const s of sizes) if (s <= errorsPerRead) size = s;
  return size;
}

/**
 * The look size the thresholds assume for reads bringing x_i effective errors: version 2 takes the
 * mean Σx/reads. Version 3 takes Σx²/Σx, the size of the read an error falls in on average: a
 * read's overshoot grows with that (renewal theory: E[X²]/2E[X]), and reads of a constant m errors
 * have m; Poisson reads of mean λ have 1 + λ, so their zero-error reads no longer dilute it.
 */
export function readLookSize(
  version: 2 | 3,
  effectiveErrors: number,
  sumSquaredReadErrors: number,
  reads: number,
): number {
  if (version === 2) return lookSizeFor(effectiveErrors / reads);
  return lookSizeFor(effectiveErrors > 0 ? sumSquaredReadErrors / effectiveErrors : 1, READ_LOOK_SIZES);
}

// Prior weight (in intervals) of "no extra variation" in the dispersion estimate: early reads, with
// too few intervals to estimate it, are not allowed to conclude that errors are wildly irregular.
const DISPERSION_PRIOR_INTERVALS = 4;
// Intervals with errors needed before "too irregular" may end the test.
const DISPERSION_MIN_INTERVALS = 5;
const DEFAULT_MAX_DISPERSION = 10;

/**
 * φ for an interval with `stableRequests` stable requests: the measured level nearest in size on a
 * log scale (levels within noise of 1 count as 1; see stableDispersionModel).
 */
export function dispersionAt(model: DispersionModel, stableRequests: number): number {
  const levels = model.levels;
  if (levels.length === 0) return 1;
  const distance = (l: DispersionLevel) =>
    Math.abs(Math.log(Math.max(1, l.stableRequests)) - Math.log(Math.max(1, stableRequests)));
  let best = levels[0];
  for (const l of levels) if (distance(l) < distance(best)) best = l;
  return Math.max(1, best.factor);
}

/** One interval of the stable version's history: its errors and requests. */
export interface StableIncrement {
  readonly errors: number;
  readonly total: number;
}

// Blocks needed for a level's estimate: fewer give a factor too noisy to trust.
const MIN_HISTORY_BLOCKS = 12;

/**
 * The stable version's dispersion from its history (consecutive intervals, e.g. one per scrape over
 * the last hour). For blocks of 1, 2, 4, ... intervals it measures how much neighbouring blocks'
 * error rates differ relative to what independent errors give,
 *
 *   φ_g = Σ (x_i/n_i − x_{i−1}/n_{i−1})² / Σ p̂(1−p̂)(1/n_i + 1/n_{i−1}).
 *
 * Successive differences leave out most slow drift (which the conditional test does not mind) and
 * keep what changes from one interval to the next: bursts, clusters, per-interval rate variation.
 * A level close enough to 1 counts as 1; any other is raised by one standard error, since
 * underestimating the dispersion is what costs false alarms. Neighbouring differences share a
 * block, so the statistic's standard error is √(3/blocks), not the √(2/blocks) of independent
 * squares. Version 3 (the default) uses that and lets a level within 2.5 of them count as 1 (about
 * 1% of independent histories per level); version 2, for analyses started before it,
 * took 2·√(2/blocks) (~6%, each such run then slowed by its ~1.3× discount). Undefined without
 * errors or with fewer than MIN_HISTORY_BLOCKS intervals.
 */
export function stableDispersionModel(
  history: readonly StableIncrement[],
  maxBlock = 8,
  version: 2 | 3 = 3,
): DispersionModel | undefined {
  const levels: DispersionLevel[] = [];
  for (let g = 1; g <= maxBlock; g *= 2) {
    const blocks: StableIncrement[] = [];
    for (let i = 0; i + g <= history.length; i += g) {
      let errors = 0;
      let total = 0;
      for (let k = i; k < i + g; k++) {
        errors += history[k].errors;
        total += history[k].total;
      }
      if (total > 0) blocks.push({ errors, total });
    }
    if (blocks.length < MIN_HISTORY_BLOCKS) break;
    const totalRequests = blocks.reduce((s, b) => s + b.total, 0);
    const p = blocks.reduce((s, b) => s + b.errors, 0) / totalRequests;
    if (!(p > 0 && p < 1)) break;
    let num = 0;
    let den = 0;
    for (let i = 1; i < blocks.length; i++) {
      num += (blocks[i].errors / blocks[i].total - blocks[i - 1].errors / blocks[i - 1].total) ** 2;
      den += p * (1 - p) * (1 / blocks[i].total + 1 / blocks[i - 1].total);
    }
    const phi = num / den;
    const se = Math.sqrt((version === 3 ? 3 : 2) / (blocks.length - 1));
    const within = version === 3 ? 2.5 : 2;
    levels.push({
      stableRequests: totalRequests / blocks.length,
      stableErrors: (p * totalRequests) / blocks.length,
      factor: phi < 1 + within * se ? 1 : phi * (1 + se),
    });
  }
  return levels.length === 0 ? undefined : { levels };
}

/**
 * φ from the Pearson homogeneity statistic of the canary's share of errors across intervals:
 * Σ x_i²/e_i − X²/E over θ̂(1−θ̂), θ̂ = X/E, on (intervals − 1) degrees of freedom. Under
 * independent errors its expectation is 1 whatever the baseline, its drift over time and the
 * canary's own (constant) elevation; clusters of k errors within one version make it ≈ k, bursts
 * per version ≈ 1 + (variance of the burst factor) × (errors per interval). Shared drift leaves it
 * alone (conditioning removes it), which is why it is not measured on the stable side alone.
 */
export function dispersionFactor(
  sumSquaresOverErrors: number,
  canaryErrors: number,
  errors: number,
  intervals: number,
): number {
  if (intervals < 2 || errors <= 0) return 1;
  const theta = canaryErrors / errors;
  if (theta <= 0 || theta >= 1) return 1;
  const pearson = Math.max(0, (sumSquaresOverErrors - (canaryErrors * canaryErrors) / errors) / (theta * (1 - theta)));
  return Math.max(1, (pearson + DISPERSION_PRIOR_INTERVALS) / (intervals - 1 + DISPERSION_PRIOR_INTERVALS));
}

/**
 * Starts a test. `startCounts` are the counters' values when the analysis starts (raw Prometheus
 * counters keep their history); omit them when observations already count from zero. `version`
 * 2 keeps the look sizes of analyses started before version 3 (SequentialTestEvidence.version).
 * Throws RangeError on an invalid config (a programming error, not a data problem).
 */
export function createSequentialTest(
  config: SequentialTestConfig,
  startCounts: CumulativeCounts = ZERO_COUNTS,
  version: 2 | 3 = 3,
): SequentialTestEvidence {
  const problems = validateSequentialTestConfig(config);
  if (problems.length > 0) throw new RangeError(`invalid sequential test config: ${describeConfigProblems(problems)}`);
  const thresholds = thresholdsFor(config);
  const start = normaliseCounts(startCounts);
  if (typeof start === 'string') throw new RangeError(`invalid start counts: ${start}`);
  return {
    test: 'conditional-sprt',
    version,
    design: {
      alpha: config.alpha,
      power: config.power,
      minimumDetectableEffect: { ...config.minimumDetectableEffect },
      oddsRatio: designOddsRatio(config.minimumDetectableEffect),
      canaryTrafficShare: shareRange(config.canaryTrafficShare),
      boundaries: typeof config.boundaries === 'object' ? 'custom' : (config.boundaries ?? 'exact'),
      maxCanaryRequests: config.maxCanaryRequests ?? null,
      overdispersion: config.overdispersion ?? 'estimate',
      maxDispersion: config.maxDispersion ?? DEFAULT_MAX_DISPERSION,
      ...(config.stableDispersion ? { stableDispersion: config.stableDispersion } : {}),
    },
    decision: 'Continue',
    reason: 'no observations yet',
    logLikelihoodRatio: 0,
    upperThreshold: thresholds.upper,
    lowerThreshold: thresholds.lower,
    maxLogLikelihoodRatio: 0,
    alwaysValidPValue: 1,
    requests: { canary: 0, stable: 0, total: 0 },
    errors: { canary: 0, stable: 0 },
    lastCounts: start,
    observations: 0,
    ignoredObservations: 0,
    counterResets: 0,
    rawLogLikelihoodRatio: 0,
    dispersion: { sumSquaresOverErrors: 0, intervals: 0, factor: 1 },
    errorsPerLook: 1,
    ...(version === 3 ? { sumSquaredReadErrors: 0 } : {}),
  };
}

/**
 * Rounds counts to integers (Prometheus increase() extrapolates to fractions; the bias is at most
 * half a request per counter) and checks them; returns a reason string when unusable.
 */
function normaliseCounts(c: CumulativeCounts): CumulativeCounts | string {
  const values = [c.canaryErrors, c.canaryTotal, c.stableErrors, c.stableTotal];
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0))
    return `counts must be finite and non-negative: ${JSON.stringify(c)}`;
  const n = {
    canaryErrors: Math.round(c.canaryErrors),
    canaryTotal: Math.round(c.canaryTotal),
    stableErrors: Math.round(c.stableErrors),
    stableTotal: Math.round(c.stableTotal),
  };
  if (n.canaryErrors > n.canaryTotal || n.stableErrors > n.stableTotal)
    return `more errors than requests: ${JSON.stringify(n)}`;
  return n;
}

/**
 * ln(L1/L0) of one interval: x·ln ψ − ln E0[ψ^X], X the canary's share of the interval's e errors,
 * hypergeometric under H0 (errors spread over n_c + n_s requests irrespective of the baseline).
 * Linear in the number of errors of the interval; log-sum-exp keeps large intervals finite.
 */
export function intervalLogLikelihoodRatio(increment: CumulativeCounts, oddsRatio: number): number {
  const nc = increment.canaryTotal;
  const ns = increment.stableTotal;
  const x = increment.canaryErrors;
  const e = x + increment.stableErrors;
  const kMin = Math.max(0, e - ns);
  const kMax = Math.min(e, nc);
  if (kMin >= kMax) return 0; // the split of errors is forced: no information about ψ
  const lnPsi = Math.log(oddsRatio);
  // Online log-sum-exp over k of log w(k) (H0) and log w(k) + (k - kMin)·ln ψ (H1), w relative to w(kMin).
  let logW = 0;
  let max0 = 0;
  let sum0 = 1;
  let max1 = 0;
  let sum1 = 1;
  for (let k = kMin; k < kMax; k++) {
    logW += Math.log((nc - k) * (e - k)) - Math.log((k + 1) * (ns - e + k + 1));
    const v1 = logW + (k + 1 - kMin) * lnPsi;
    if (logW > max0) {
      sum0 = sum0 * Math.exp(max0 - logW) + 1;
      max0 = logW;
    } else sum0 += Math.exp(logW - max0);
    if (v1 > max1) {
      sum1 = sum1 * Math.exp(max1 - v1) + 1;
      max1 = v1;
    } else sum1 += Math.exp(v1 - max1);
  }
  return (x - kMin) * lnPsi - (max1 + Math.log(sum1)) + (max0 + Math.log(sum0));
}

const fmt = (v: number): string => v.toFixed(3);

/**
 * Consumes one scrape of cumulative counts and returns the new evidence. A final decision
 * (anything but 'Continue') is returned unchanged: the test has stopped. Data problems never throw
 * (a throw in workflow code would fail the workflow task in a loop); they are counted and skipped:
 * - a counter went backwards (restart): counting restarts from the new values, interval skipped;
 * - malformed or inconsistent counts (errors > requests, e.g. two counters scraped at different
 *   instants): skipped without moving the baseline, so the next consistent scrape covers the gap.
 * Skipping intervals keeps the statistic a martingale under H0, so alpha still holds.
 */
export function evaluate(evidence: SequentialTestEvidence, observation: CumulativeCounts): SequentialTestEvidence {
  if (evidence.decision !== 'Continue') return evidence;
  const counts = normaliseCounts(observation);
  if (typeof counts === 'string') {
    return {
      ...evidence,
      ignoredObservations: evidence.ignoredObservations + 1,
      reason: `ignored observation: ${counts}`,
    };
  }
  const last = evidence.lastCounts;
  if (
    counts.canaryErrors < last.canaryErrors ||
    counts.canaryTotal < last.canaryTotal ||
    counts.stableErrors < last.stableErrors ||
    counts.stableTotal < last.stableTotal
  ) {
    return {
      ...evidence,
      lastCounts: counts,
      counterResets: evidence.counterResets + 1,
      reason: 'counter reset: interval skipped, counting restarts from the new values',
    };
  }
  const increment: CumulativeCounts = {
    canaryErrors: counts.canaryErrors - last.canaryErrors,
    canaryTotal: counts.canaryTotal - last.canaryTotal,
    stableErrors: counts.stableErrors - last.stableErrors,
    stableTotal: counts.stableTotal - last.stableTotal,
  };
  if (increment.canaryErrors > increment.canaryTotal || increment.stableErrors > increment.stableTotal) {
    return {
      ...evidence,
      ignoredObservations: evidence.ignoredObservations + 1,
      reason: `ignored observation: interval has more errors than requests: ${JSON.stringify(increment)}`,
    };
  }
  const intervalLlr = intervalLogLikelihoodRatio(increment, evidence.design.oddsRatio);
  const requests = {
    canary: evidence.requests.canary + increment.canaryTotal,
    stable: evidence.requests.stable + increment.stableTotal,
    total: evidence.requests.total + increment.canaryTotal + increment.stableTotal,
  };
  const errors = {
    canary: evidence.errors.canary + increment.canaryErrors,
    stable: evidence.errors.stable + increment.stableErrors,
  };
  const observations = evidence.observations + 1;
  let llr: number;
  let next: Partial<SequentialTestEvidence> = {};
  let irregular = false;
  if (evidence.version === 1) {
    llr = evidence.logLikelihoodRatio + intervalLlr;
  } else {
    // Quasi-likelihood: the evidence of intervals whose split varies more than independent errors
    // allow is worth 1/φ of its face value, and each read brings E/φ effective errors.
    const raw = (evidence.rawLogLikelihoodRatio ?? 0) + intervalLlr;
    const e = increment.canaryErrors + increment.stableErrors;
    const d = evidence.dispersion ?? { sumSquaresOverErrors: 0, intervals: 0, factor: 1 };
    const sums =
      e > 0
        ? {
            sumSquaresOverErrors: d.sumSquaresOverErrors + (increment.canaryErrors * increment.canaryErrors) / e,
            intervals: d.intervals + 1,
          }
        : d;
    const own = dispersionFactor(
      sums.sumSquaresOverErrors,
      errors.canary,
      errors.canary + errors.stable,
      sums.intervals,
    );
    const model = evidence.design.stableDispersion;
    const maxDispersion = evidence.design.maxDispersion ?? DEFAULT_MAX_DISPERSION;
    let effectiveErrors: number;
    let factor: number;
    let readErrors = e;
    if (evidence.design.overdispersion === 'none') {
      factor = 1;
      llr = raw;
      effectiveErrors = errors.canary + errors.stable;
    } else if (model) {
      // Each interval discounted by the factor the stable history predicts for its size and split.
      const phi = dispersionAt(model, increment.stableTotal);
      llr = (d.discountedLogLikelihoodRatio ?? 0) + intervalLlr / phi;
      effectiveErrors = (d.effectiveErrors ?? 0) + e / phi;
      readErrors = e / phi;
      factor = (errors.canary + errors.stable) / Math.max(effectiveErrors, 1e-9);
      if (e === 0) factor = d.factor;
    } else {
      factor = own;
      llr = raw / factor;
      effectiveErrors = (errors.canary + errors.stable) / factor;
      readErrors = e / factor;
    }
    // The stable history's factor is known from the first read; the analysis' own estimate needs intervals.
    irregular =
      evidence.design.overdispersion !== 'none' &&
      ((model !== undefined && factor > maxDispersion) ||
        (own > maxDispersion && sums.intervals >= DISPERSION_MIN_INTERVALS));
    next = {
      rawLogLikelihoodRatio: raw,
      dispersion: { ...sums, factor, ...(model ? { effectiveErrors, discountedLogLikelihoodRatio: llr } : {}) },
    };
    const version = evidence.version;
    const sumSquared = (evidence.sumSquaredReadErrors ?? 0) + readErrors * readErrors;
    if (version === 3) next = { ...next, sumSquaredReadErrors: sumSquared };
    if (evidence.design.boundaries === 'exact') {
      const errorsPerLook = readLookSize(version, effectiveErrors, sumSquared, observations);
      if (errorsPerLook !== evidence.errorsPerLook) {
        const t = cachedExactThresholds(
          evidence.design.alpha,
          evidence.design.power,
          evidence.design.oddsRatio,
          evidence.design.canaryTrafficShare,
          errorsPerLook,
        );
        next = { ...next, errorsPerLook, upperThreshold: t.upper, lowerThreshold: t.lower };
      }
    }
  }
  const upper = next.upperThreshold ?? evidence.upperThreshold;
  const lower = next.lowerThreshold ?? evidence.lowerThreshold;
  const maxLlr = Math.max(evidence.maxLogLikelihoodRatio, llr);
  let decision: SequentialDecision = 'Continue';
  // A constant while undecided: the numbers are in the evidence, and this runs once per scrape.
  let reason = 'log-likelihood ratio between the thresholds';
  if (irregular) {
    decision = 'Inconclusive';
    const d = next.dispersion!;
    reason = `data too irregular to decide: error counts vary ${fmt(Math.max(d.factor, dispersionFactor(d.sumSquaresOverErrors, errors.canary, errors.canary + errors.stable, d.intervals)))}x more between intervals than independent errors allow (limit ${evidence.design.maxDispersion ?? DEFAULT_MAX_DISPERSION})`;
  } else if (llr >= upper) {
    decision = 'Failed';
    reason = `log-likelihood ratio ${fmt(llr)} >= ${fmt(upper)}: canary error rate is elevated (odds ratio ${fmt(evidence.design.oddsRatio)} favoured over 1)`;
  } else if (llr <= lower) {
    decision = 'Successful';
    reason = `log-likelihood ratio ${fmt(llr)} <= ${fmt(lower)}: no regression of the minimum detectable effect`;
  } else if (evidence.design.maxCanaryRequests !== null && requests.canary >= evidence.design.maxCanaryRequests) {
    decision = 'Inconclusive';
    reason = `reached ${evidence.design.maxCanaryRequests} canary requests without a decision (log-likelihood ratio ${fmt(llr)})`;
  }
  return {
    ...evidence,
    ...next,
    decision,
    reason,
    logLikelihoodRatio: llr,
    maxLogLikelihoodRatio: maxLlr,
    alwaysValidPValue: Math.min(1, Math.exp(-maxLlr)),
    requests,
    errors,
    lastCounts: counts,
    observations,
  };
}

/** Ends the analysis (time limit reached): 'Continue' becomes 'Inconclusive', decisions stay. */
export function finalize(evidence: SequentialTestEvidence, why = 'analysis window ended'): SequentialTestEvidence {
  if (evidence.decision !== 'Continue') return evidence;
  return {
    ...evidence,
    decision: 'Inconclusive',
    reason: `${why} without a decision (log-likelihood ratio ${fmt(evidence.logLikelihoodRatio)}, always-valid p ${fmt(evidence.alwaysValidPValue)})`,
  };
}
