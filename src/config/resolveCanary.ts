// gantry.yaml's `canary:` block (schema/canary.schema.json) into the CanaryPlan a promotion runs
// with: defaults filled in, durations in milliseconds, `{app}` and `{environment}` substituted,
// each analysis's statistical design checked by validateSequentialTestConfig. Node-only (kubeconfig
// paths resolve against gantry.yaml's folder); the plan it makes is plain JSON for workflow code.
//
// The schema catches shapes; this catches what a schema cannot say (the weight an analysis runs at,
// exactly one effect size, a design too expensive for workflow code, the last weight being 100).
// It re-checks shapes too, since `raw` may not have been through the schema.
// Routers and metric providers read their own blocks: each registry names the kinds there are.
import { metricProvider, metricProviders, type MetricsProviderSpec } from '../../activities/metrics';
import { trafficRouter, trafficRouters, type RouterSpec } from '../../activities/traffic';
import { validateSequentialTestConfig, type BoundaryMethod, type MinimumDetectableEffect, type SequentialTestConfig } from '../analysis';
import type { CanaryAnalysisSpec, CanaryPlan, CanaryStep, LatencySpec, SideQueries } from '../canary/types';
import { CanaryReader, isObj, type CanaryProblem, type Obj, type PathSegment } from './canaryReader';

export { formatCanaryPath, type CanaryProblem, type PathSegment } from './canaryReader';

export const CANARY_DEFAULTS = {
  onInconclusive: 'pause',
  /** Chance of failing a healthy canary, across all the analyses of one environment's canary. */
  alpha: 0.05,
  analysis: {
    alpha: 0.05,
    power: 0.8,
    minimumDetectableEffect: { kind: 'relative', increase: 1 } as MinimumDetectableEffect,
    boundaries: 'exact' as BoundaryMethod,
    interval: '15s',
    maxInterval: '2m',
    stableHistory: '1h',
    maxDuration: '30m',
    continueAsNewEvery: 100,
    latency: { quantile: 0.95, minObservations: 200 },
  },
} as const;

export class CanaryConfigError extends Error {
  name = 'CanaryConfigError';
  constructor(
    readonly problems: CanaryProblem[],
    readonly context: { app: string; environment: string },
  ) {
    super(
      `canary of ${context.app} in ${context.environment} is not valid:\n` + problems.map((p) => `  canary${p.path ? (p.path.startsWith('[') ? '' : '.') + p.path : ''}: ${p.message}`).join('\n'),
    );
  }
}

/**
 * The plan for one environment's canary, or undefined when there is none (no block, or no steps).
 * Throws CanaryConfigError listing every problem.
 */
export function resolveCanary(raw: unknown, ctx: { app: string; environment: string; baseDir?: string }): CanaryPlan | undefined {
  const { plan, problems } = resolve(raw, ctx);
  if (problems.length > 0) throw new CanaryConfigError(problems, ctx);
  return plan;
}

/** Every problem of a `canary:` block, empty when valid: for `gantry validate`, with lines. */
export function canaryProblems(raw: unknown, ctx: { app: string; environment: string } = { app: 'app', environment: 'environment' }): CanaryProblem[] {
  return resolve(raw, ctx).problems;
}

/** `{app}` and `{environment}` in any text name the app and environment being promoted. */
function substitute(v: unknown, ctx: { app: string; environment: string }): unknown {
  if (typeof v === 'string') return v.replaceAll('{app}', ctx.app).replaceAll('{environment}', ctx.environment);
  if (Array.isArray(v)) return v.map((x) => substitute(x, ctx));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, ctx)]));
  return v;
}

function resolve(rawInput: unknown, ctx: { app: string; environment: string; baseDir?: string }): { plan?: CanaryPlan; problems: CanaryProblem[] } {
  const c = new CanaryReader();
  if (rawInput === undefined || rawInput === null) return { problems: [] };
  const raw = c.mapping(substitute(rawInput, ctx), [], ['router', 'metrics', 'steps', 'onInconclusive', 'backgroundAnalysis', 'alpha']);
  if (!raw) return { problems: c.problems };
  const alphaBudget = c.number(raw.alpha, ['alpha'], CANARY_DEFAULTS.alpha, (n) => n > 0 && n < 0.5, 'between 0 and 0.5 (e.g. 0.05)');

  if (raw.steps !== undefined && !Array.isArray(raw.steps)) c.add(['steps'], 'must be a list of steps');
  const rawSteps = Array.isArray(raw.steps) ? (raw.steps as unknown[]) : [];

  const router = raw.router === undefined ? undefined : resolveRouter(c, raw.router, ctx.baseDir);
  if (raw.router === undefined && rawSteps.length > 0) c.add(['router'], 'required (the steps set traffic weights through it)');
  const metrics = raw.metrics === undefined ? undefined : resolveMetrics(c, raw.metrics);

  let onInconclusive: CanaryPlan['onInconclusive'] = CANARY_DEFAULTS.onInconclusive;
  if (raw.onInconclusive !== undefined) {
    if (raw.onInconclusive === 'abort' || raw.onInconclusive === 'pause') onInconclusive = raw.onInconclusive;
    else c.add(['onInconclusive'], `must be abort or pause, got ${JSON.stringify(raw.onInconclusive)}`);
  }

  const share = alphaShares(c, raw, rawSteps, alphaBudget);
  const steps: CanaryStep[] = [];
  // The canary's weight after the steps so far; null once a setWeight is invalid (nothing follows from it).
  let weight: number | null = 0;
  let firstAnalysis: number | undefined;
  rawSteps.forEach((rawStep, i) => {
    const at: PathSegment[] = ['steps', i];
    const one = c.oneOf(rawStep, at, ['setWeight', 'pause', 'analysis']);
    if (!one) return;
    const [kind, value] = one;
    if (kind === 'setWeight') {
      const w = c.number(value, [...at, 'setWeight'], undefined, (n) => n >= 0 && n <= 100, 'from 0 to 100 (percent of requests to the canary)', true);
      weight = w ?? null;
      if (w !== undefined) steps.push({ kind: 'setWeight', weight: w });
    } else if (kind === 'pause') {
      const step = resolvePause(c, value, [...at, 'pause']);
      if (step) steps.push(step);
    } else {
      firstAnalysis ??= i;
      const analysis = resolveAnalysis(c, value, [...at, 'analysis'], i, weight, share);
      if (analysis) steps.push({ kind: 'analysis', analysis });
    }
  });
  // A background analysis watches from the first weight above 0 until the last step ends.
  const firstWeight = steps.find((s): s is Extract<CanaryStep, { kind: 'setWeight' }> => s.kind === 'setWeight' && s.weight > 0 && s.weight < 100);
  const backgroundAnalysis =
    raw.backgroundAnalysis === undefined ? undefined : resolveAnalysis(c, raw.backgroundAnalysis, ['backgroundAnalysis'], -1, firstWeight?.weight ?? 0, share);
  if (raw.backgroundAnalysis !== undefined && raw.metrics === undefined) c.add(['metrics'], 'required (backgroundAnalysis reads metrics)');
  if (firstAnalysis !== undefined && raw.metrics === undefined) c.add(['metrics'], `required (step ${firstAnalysis} is an analysis)`);
  if (rawSteps.length > 0 && weight !== null && weight !== 100 && c.problems.length === 0) {
    c.add(['steps'], `must end with the canary at 100% (add "- setWeight: 100" last); these steps leave it at ${weight}%`);
  }
  if (c.problems.length > 0 || rawSteps.length === 0) return { problems: c.problems };
  return { plan: { router: router!, ...(metrics ? { metrics } : {}), steps, onInconclusive, alpha: alphaBudget!, ...(backgroundAnalysis ? { backgroundAnalysis } : {}) }, problems: [] };
}

function resolveRouter(c: CanaryReader, v: unknown, baseDir?: string): RouterSpec | undefined {
  const one = c.oneOf(v, ['router'], Object.keys(trafficRouters));
  return one && trafficRouter(one[0])!.readConfig(c, one[1], ['router', one[0]], baseDir);
}

function resolveMetrics(c: CanaryReader, v: unknown): MetricsProviderSpec | undefined {
  const one = c.oneOf(v, ['metrics'], Object.keys(metricProviders));
  return one && metricProvider(one[0])!.readConfig(c, one[1], ['metrics', one[0]]);
}

function resolvePause(c: CanaryReader, v: unknown, at: PathSegment[]): CanaryStep | undefined {
  if (v === null) return { kind: 'pause' };
  if (typeof v === 'string') {
    const durationMs = c.duration(v, at);
    return durationMs === undefined ? undefined : { kind: 'pause', durationMs };
  }
  const p = c.mapping(v, at, ['duration']);
  if (!p) return undefined;
  if (p.duration === undefined) return { kind: 'pause' };
  const durationMs = c.duration(p.duration, [...at, 'duration']);
  return durationMs === undefined ? undefined : { kind: 'pause', durationMs };
}

/**
 * The alpha of an analysis that names none: one budget (canary.alpha) for every analysis of the
 * canary, steps and background alike, so the chance that any of them fails a healthy canary is at
 * most the budget (Bonferroni: it holds however the analyses depend on each other). Analyses that
 * name their alpha take it from the budget; the others share the rest equally.
 */
function alphaShares(c: CanaryReader, raw: Obj, rawSteps: unknown[], budget: number | undefined): number | undefined {
  if (budget === undefined) return undefined;
  const analyses: { at: PathSegment[]; alpha: unknown }[] = [];
  rawSteps.forEach((step, i) => {
    if (isObj(step) && isObj(step.analysis)) analyses.push({ at: ['steps', i, 'analysis', 'alpha'], alpha: step.analysis.alpha });
    else if (isObj(step) && 'analysis' in step && step.analysis === null) analyses.push({ at: ['steps', i, 'analysis', 'alpha'], alpha: undefined });
  });
  if (isObj(raw.backgroundAnalysis)) analyses.push({ at: ['backgroundAnalysis', 'alpha'], alpha: raw.backgroundAnalysis.alpha });
  // Alphas out of range are reported where they stand; they take nothing from the budget here.
  const named = analyses.filter((a) => typeof a.alpha === 'number' && a.alpha > 0 && a.alpha < 0.5);
  const spent = named.reduce((sum, a) => sum + (a.alpha as number), 0);
  const unnamed = analyses.length - named.length;
  if (spent > budget + 1e-12 || (unnamed > 0 && spent >= budget)) {
    c.add(named[named.length - 1].at, `the analyses' alphas add up to ${+spent.toFixed(6)}${unnamed > 0 ? ` and leave nothing for ${unnamed} more` : ''}, over the canary's alpha budget ${budget} (set canary.alpha, or lower them)`);
    return undefined;
  }
  return unnamed > 0 ? (budget - spent) / unnamed : budget;
}

const ANALYSIS_KEYS = [
  'name', 'errorRate', 'latency', 'alpha', 'power', 'minimumDetectableEffect', 'canaryTrafficShare', 'boundaries',
  'maxCanaryRequests', 'interval', 'maxInterval', 'stableHistory', 'maxDuration', 'continueAsNewEvery',
] as const;

function resolveAnalysis(c: CanaryReader, v: unknown, at: PathSegment[], stepIndex: number, weight: number | null, alphaShare: number | undefined): CanaryAnalysisSpec | undefined {
  const before = c.problems.length;
  const a = c.mapping(v ?? {}, at, ANALYSIS_KEYS);
  if (!a) return undefined;
  const d = CANARY_DEFAULTS.analysis;
  if (weight !== null && (weight <= 0 || weight >= 100)) {
    c.add(at, `runs with the canary at ${weight}%: set a weight between 1 and 99 in an earlier step (an analysis compares canary and stable traffic)`);
  }
  const name = c.text(a.name, [...at, 'name'], stepIndex < 0 ? 'background' : `analysis-${stepIndex}`);

  let queries: CanaryAnalysisSpec['queries'] | undefined;
  const er = a.errorRate === undefined ? (c.add([...at, 'errorRate'], 'required'), undefined) : c.mapping(a.errorRate, [...at, 'errorRate'], ['canary', 'stable']);
  if (er) {
    const side = (key: 'canary' | 'stable'): SideQueries | undefined => {
      const sAt = [...at, 'errorRate', key];
      if (er[key] === undefined) return (c.add(sAt, 'required'), undefined);
      const s = c.mapping(er[key], sAt, ['errors', 'total']);
      if (!s) return undefined;
      const errors = c.text(s.errors, [...sAt, 'errors']);
      const total = c.text(s.total, [...sAt, 'total']);
      return errors !== undefined && total !== undefined ? { errors, total } : undefined;
    };
    const canary = side('canary');
    const stable = side('stable');
    if (canary && stable) queries = { canary, stable };
  }

  let latency: LatencySpec | undefined;
  if (a.latency !== undefined) {
    const lAt = [...at, 'latency'];
    const l = c.mapping(a.latency, lAt, ['buckets', 'stableBuckets', 'quantile', 'bound', 'ceiling', 'minObservations']);
    if (l) {
      const query = c.text(l.buckets, [...lAt, 'buckets']);
      const stableQuery = l.stableBuckets === undefined ? undefined : c.text(l.stableBuckets, [...lAt, 'stableBuckets']);
      const quantile = c.number(l.quantile, [...lAt, 'quantile'], d.latency.quantile, (n) => n > 0 && n < 1, 'between 0 and 1 (0.95 for p95)');
      const boundMs = c.duration(l.bound, [...lAt, 'bound']);
      const ceilingMs = l.ceiling === undefined ? undefined : c.duration(l.ceiling, [...lAt, 'ceiling']);
      if (l.ceiling !== undefined && l.stableBuckets === undefined) c.add([...lAt, 'ceiling'], 'only goes with stableBuckets (without them, bound itself is the guard)');
      const minObservations = c.number(l.minObservations, [...lAt, 'minObservations'], d.latency.minObservations, (n) => n >= 1, '>= 1', true);
      if (query !== undefined && quantile !== undefined && boundMs !== undefined && minObservations !== undefined) {
        latency = {
          query,
          quantile,
          boundSeconds: boundMs / 1000,
          minObservations,
          ...(stableQuery !== undefined ? { stableQuery } : {}),
          ...(ceilingMs !== undefined ? { ceilingSeconds: ceilingMs / 1000 } : {}),
        };
      }
    }
  }

  // Without a budget share (the budget itself is invalid) the default stands in so the rest is still checked.
  const alpha = c.number(a.alpha, [...at, 'alpha'], alphaShare ?? d.alpha, (n) => n > 0 && n < 0.5, 'between 0 and 0.5 (e.g. 0.05)');
  const power = c.number(a.power, [...at, 'power'], d.power, (n) => n > 0.5 && n < 1, 'between 0.5 and 1 (e.g. 0.8)');
  const mde = resolveEffect(c, a.minimumDetectableEffect, [...at, 'minimumDetectableEffect']);
  // With the weight unknown (an invalid setWeight, already reported) 0.5 stands in so the rest is still checked.
  const defaultShare = weight !== null && weight > 0 && weight < 100 ? weight / 100 : weight === null ? 0.5 : undefined;
  const share = a.canaryTrafficShare === undefined ? defaultShare : c.number(a.canaryTrafficShare, [...at, 'canaryTrafficShare'], undefined, (n) => n > 0 && n < 1, 'between 0 and 1 (exclusive)');
  let boundaries: BoundaryMethod = d.boundaries;
  if (a.boundaries !== undefined) {
    if (a.boundaries === 'exact' || a.boundaries === 'wald' || a.boundaries === 'anytime-valid') boundaries = a.boundaries;
    else c.add([...at, 'boundaries'], `must be exact, wald or anytime-valid, got ${JSON.stringify(a.boundaries)}`);
  }
  const maxCanaryRequests = a.maxCanaryRequests === undefined ? undefined : c.number(a.maxCanaryRequests, [...at, 'maxCanaryRequests'], undefined, (n) => n >= 1, '>= 1', true);
  const intervalMs = c.duration(a.interval, [...at, 'interval'], d.interval);
  const maxDurationMs = c.duration(a.maxDuration, [...at, 'maxDuration'], d.maxDuration);
  if (intervalMs !== undefined && maxDurationMs !== undefined && maxDurationMs < intervalMs) {
    c.add([...at, 'maxDuration'], `must be at least the interval (${a.interval ?? d.interval})`);
  }
  const maxIntervalMs = c.duration(a.maxInterval, [...at, 'maxInterval'], d.maxInterval);
  if (intervalMs !== undefined && maxIntervalMs !== undefined && maxIntervalMs < intervalMs) {
    c.add([...at, 'maxInterval'], `must be at least the interval (${a.interval ?? d.interval})`);
  }
  const stableHistoryMs = a.stableHistory === 'none' ? null : c.duration(a.stableHistory, [...at, 'stableHistory'], d.stableHistory);
  const continueAsNewEvery = c.number(a.continueAsNewEvery, [...at, 'continueAsNewEvery'], d.continueAsNewEvery, (n) => n >= 1, '>= 1', true);

  if (alpha === undefined || power === undefined || mde === undefined || share === undefined) return undefined;
  // With the latency comparison the analysis makes two tests: each gets half its alpha.
  const comparing = latency?.stableQuery !== undefined;
  const testAlpha = comparing ? alpha / 2 : alpha;
  const test: SequentialTestConfig = { alpha: testAlpha, power, minimumDetectableEffect: mde, canaryTrafficShare: share, boundaries, ...(maxCanaryRequests !== undefined ? { maxCanaryRequests } : {}) };
  if (latency && comparing) latency = { ...latency, test: { alpha: testAlpha, power, minimumDetectableEffect: { kind: 'relative', increase: 1 }, canaryTrafficShare: share, boundaries } };
  for (const problem of validateSequentialTestConfig(test)) c.add([...at, designField(problem)], designMessage(problem, mde));
  if (c.problems.length > before || !name || !queries || intervalMs === undefined || maxDurationMs === undefined || continueAsNewEvery === undefined || maxIntervalMs === undefined || stableHistoryMs === undefined) return undefined;
  return {
    name,
    queries,
    ...(latency ? { latency } : {}),
    test,
    intervalMs,
    maxIntervalMs,
    ...(stableHistoryMs !== null ? { stableHistoryMs } : {}),
    maxDurationMs,
    continueAsNewEvery,
  };
}

function resolveEffect(c: CanaryReader, v: unknown, at: PathSegment[]): MinimumDetectableEffect | undefined {
  if (v === undefined) return CANARY_DEFAULTS.analysis.minimumDetectableEffect;
  const m = c.mapping(v, at, ['relative', 'absolute', 'baselineErrorRate']);
  if (!m) return undefined;
  const positive = (key: string) => c.number(m[key], [...at, key], undefined, (n) => n > 0, '> 0');
  if (m.relative !== undefined && m.absolute !== undefined) {
    c.add(at, 'must name exactly one of: relative, absolute');
    return undefined;
  }
  if (m.relative !== undefined) {
    if (m.baselineErrorRate !== undefined) c.add([...at, 'baselineErrorRate'], 'only goes with absolute (a relative effect needs no baseline)');
    const increase = positive('relative');
    return increase === undefined || m.baselineErrorRate !== undefined ? undefined : { kind: 'relative', increase };
  }
  if (m.absolute !== undefined) {
    const increase = positive('absolute');
    const baselineErrorRate =
      m.baselineErrorRate === undefined
        ? (c.add([...at, 'baselineErrorRate'], 'required with absolute (the stable error rate the effect is added to)'), undefined)
        : c.number(m.baselineErrorRate, [...at, 'baselineErrorRate'], undefined, (n) => n > 0 && n < 1, 'between 0 and 1 (exclusive)');
    return increase === undefined || baselineErrorRate === undefined ? undefined : { kind: 'absolute', increase, baselineErrorRate };
  }
  c.add(at, 'must name exactly one of: relative, absolute');
  return undefined;
}

/** The YAML field a validateSequentialTestConfig message is about. */
function designField(problem: string): string {
  for (const key of ['alpha', 'power', 'canaryTrafficShare', 'maxCanaryRequests', 'minimumDetectableEffect']) if (problem.startsWith(key)) return key;
  if (problem.startsWith('baselineErrorRate')) return 'minimumDetectableEffect';
  return 'boundaries';
}

function designMessage(problem: string, mde: MinimumDetectableEffect): string {
  return problem.replace('minimumDetectableEffect.increase', mde.kind).replace(/^(alpha|power|canaryTrafficShare|maxCanaryRequests|minimumDetectableEffect\.?)\s*/, '');
}
