// gantry.yaml's `canary:` block into the CanaryPlan a promotion runs with, in one step: the schema
// (schema/canary.schema.json, compiled in canarySchema.ts) checks every field's shape, then the
// block is converted (defaults filled in, durations in milliseconds, `{app}` and `{environment}`
// substituted) while the rules a schema cannot state are checked by hand: the weight an analysis
// runs at, the alpha budget, fields that only go together, a design too expensive for workflow
// code (validateSequentialTestConfig), the last weight being 100. Node-only (kubeconfig paths
// resolve against gantry.yaml's folder); the plan it makes is plain JSON for workflow code.
// Routers and metric providers convert their own blocks: each registry names the kinds there are.
import { metricProvider, metricProviders, type MetricsProviderSpec } from '../../activities/metrics';
import { trafficRouter, trafficRouters, type RouterSpec } from '../../activities/traffic';
import {
  validateSequentialTestConfig,
  type BoundaryMethod,
  type MinimumDetectableEffect,
  type SequentialTestConfig,
} from '../analysis';
import type { CanaryAnalysisSpec, CanaryPlan, CanaryStep, LatencySpec } from '../canary/types';
import { CanaryReader, formatCanaryPath, isObj, type CanaryProblem, type Obj, type PathSegment } from './canaryReader';
import { canarySchemaProblems, compareOrder, validateCanaryBlock } from './canarySchema';

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
      `canary of ${context.app} in ${context.environment} is not valid:\n` +
        problems
          .map((p) => `  canary${p.path ? (p.path.startsWith('[') ? '' : '.') + p.path : ''}: ${p.message}`)
          .join('\n'),
    );
  }
}

/**
 * The plan for one environment's canary, or undefined when there is none (no block, or no steps).
 * Throws CanaryConfigError listing every problem.
 */
export function resolveCanary(
  raw: unknown,
  ctx: { app: string; environment: string; baseDir?: string },
): CanaryPlan | undefined {
  const { plan, problems } = resolve(raw, ctx);
  if (problems.length > 0) throw new CanaryConfigError(problems, ctx);
  return plan;
}

/** Every problem of a `canary:` block, empty when valid: for `gantry validate`, with lines. */
export function canaryProblems(
  raw: unknown,
  ctx: { app: string; environment: string } = { app: 'app', environment: 'environment' },
): CanaryProblem[] {
  return resolve(raw, ctx).problems;
}

/** `{app}` and `{environment}` in any text name the app and environment being promoted. */
function substitute(v: unknown, ctx: { app: string; environment: string }): unknown {
  if (typeof v === 'string') return v.replaceAll('{app}', ctx.app).replaceAll('{environment}', ctx.environment);
  if (Array.isArray(v)) return v.map((x) => substitute(x, ctx));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, ctx)]));
  return v;
}

/**
 * A mapping with nothing under it (`analysis:`, `prometheus:`) parses as null; read it as empty so
 * the problem is the field it lacks (`analysis.errorRate: required`) rather than a type.
 */
function fillEmptyMappings(block: unknown): void {
  for (let round = 0; round < 20 && !validateCanaryBlock(block); round++) {
    const nulls = (validateCanaryBlock.errors ?? []).filter(
      (e) =>
        e.keyword === 'type' &&
        e.data === null &&
        (e.params as { type: string }).type === 'object' &&
        e.instancePath !== '',
    );
    if (nulls.length === 0) return;
    for (const e of nulls) {
      const segments = e.instancePath.slice(1).split('/');
      const parent = segments
        .slice(0, -1)
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], block);
      (parent as Record<string, unknown>)[segments[segments.length - 1]] = {};
    }
  }
}

/** Schema problems first in each place, then the rules across fields; shallow before deep, then in the schema's order. */
function ordered(
  schemaProblems: ReturnType<typeof canarySchemaProblems>,
  ruleProblems: CanaryProblem[],
): CanaryProblem[] {
  const all = [
    ...schemaProblems,
    ...ruleProblems.map((p) => ({ segments: p.segments, message: p.message, orderAt: p.segments })),
  ];
  const unique = all.filter(
    (p, i) =>
      all.findIndex((q) => q.message === p.message && formatCanaryPath(q.segments) === formatCanaryPath(p.segments)) ===
      i,
  );
  return unique
    .map((p, i) => ({ p, i }))
    .sort((a, b) => compareOrder(a.p.orderAt, b.p.orderAt) || a.i - b.i)
    .map(({ p }) => ({ segments: p.segments, path: formatCanaryPath(p.segments), message: p.message }));
}

const STEP_KINDS = ['setWeight', 'pause', 'analysis'] as const;

function resolve(
  rawInput: unknown,
  ctx: { app: string; environment: string; baseDir?: string },
): { plan?: CanaryPlan; problems: CanaryProblem[] } {
  if (rawInput === undefined || rawInput === null) return { problems: [] };
  const raw = substitute(rawInput, ctx);
  fillEmptyMappings(raw);
  const schemaProblems = validateCanaryBlock(raw) ? [] : canarySchemaProblems(validateCanaryBlock.errors ?? []);
  /** The schema refused something at or under this path. */
  const refused = (at: PathSegment[]) => schemaProblems.some((p) => at.every((s, i) => p.segments[i] === s));
  if (!isObj(raw)) return { problems: ordered(schemaProblems, []) };

  const c = new CanaryReader();
  const alphaBudget = refused(['alpha']) ? undefined : ((raw.alpha as number | undefined) ?? CANARY_DEFAULTS.alpha);
  const rawSteps = Array.isArray(raw.steps) ? (raw.steps as unknown[]) : [];

  const router = isObj(raw.router) ? resolveRouter(c, raw.router, ctx.baseDir, refused) : undefined;
  if (raw.router === undefined && rawSteps.length > 0)
    c.add(['router'], 'required (the steps set traffic weights through it)');
  const metrics = isObj(raw.metrics) ? resolveMetrics(c, raw.metrics, refused) : undefined;
  const onInconclusive =
    (raw.onInconclusive as CanaryPlan['onInconclusive'] | undefined) ?? CANARY_DEFAULTS.onInconclusive;

  const share = alphaShares(c, raw, rawSteps, alphaBudget, refused);
  const steps: CanaryStep[] = [];
  // The canary's weight after the steps so far; null once a setWeight is invalid (nothing follows from it).
  let weight: number | null = 0;
  let firstAnalysis: number | undefined;
  rawSteps.forEach((rawStep, i) => {
    const at: PathSegment[] = ['steps', i];
    if (!isObj(rawStep)) return;
    const kind = c.exactlyOne(rawStep, at, STEP_KINDS);
    if (kind === 'setWeight') {
      weight = refused([...at, 'setWeight']) ? null : (rawStep.setWeight as number);
      if (weight !== null) steps.push({ kind: 'setWeight', weight });
    } else if (kind === 'pause') {
      steps.push(resolvePause(c, rawStep.pause));
    } else if (kind === 'analysis') {
      firstAnalysis ??= i;
      const analysis = isObj(rawStep.analysis)
        ? resolveAnalysis(c, rawStep.analysis, [...at, 'analysis'], i, weight, share, refused)
        : undefined;
      if (analysis) steps.push({ kind: 'analysis', analysis });
    }
  });
  // A background analysis watches from the first weight above 0 until the last step ends.
  const firstWeight = steps.find(
    (s): s is Extract<CanaryStep, { kind: 'setWeight' }> => s.kind === 'setWeight' && s.weight > 0 && s.weight < 100,
  );
  const backgroundAnalysis = isObj(raw.backgroundAnalysis)
    ? resolveAnalysis(c, raw.backgroundAnalysis, ['backgroundAnalysis'], -1, firstWeight?.weight ?? 0, share, refused)
    : undefined;
  if (raw.backgroundAnalysis !== undefined && raw.metrics === undefined)
    c.add(['metrics'], 'required (backgroundAnalysis reads metrics)');
  if (firstAnalysis !== undefined && raw.metrics === undefined)
    c.add(['metrics'], `required (step ${firstAnalysis} is an analysis)`);
  if (
    rawSteps.length > 0 &&
    weight !== null &&
    weight !== 100 &&
    c.problems.length === 0 &&
    schemaProblems.length === 0
  ) {
    c.add(
      ['steps'],
      `must end with the canary at 100% (add "- setWeight: 100" last); these steps leave it at ${weight}%`,
    );
  }
  const problems = ordered(schemaProblems, c.problems);
  if (problems.length > 0 || rawSteps.length === 0) return { problems };
  return {
    plan: {
      router: router!,
      ...(metrics ? { metrics } : {}),
      steps,
      onInconclusive,
      alpha: alphaBudget!,
      ...(backgroundAnalysis ? { backgroundAnalysis } : {}),
    },
    problems: [],
  };
}

function resolveRouter(
  c: CanaryReader,
  block: Obj,
  baseDir: string | undefined,
  refused: (at: PathSegment[]) => boolean,
): RouterSpec | undefined {
  const kind = c.exactlyOne(block, ['router'], Object.keys(trafficRouters));
  if (!kind || !isObj(block[kind])) return undefined;
  return convertChecked(['router', kind], refused, () =>
    trafficRouter(kind)!.readConfig(c, block[kind] as never, ['router', kind], baseDir),
  );
}

function resolveMetrics(
  c: CanaryReader,
  block: Obj,
  refused: (at: PathSegment[]) => boolean,
): MetricsProviderSpec | undefined {
  const kind = c.exactlyOne(block, ['metrics'], Object.keys(metricProviders));
  if (!kind || !isObj(block[kind])) return undefined;
  return convertChecked(['metrics', kind], refused, () =>
    metricProvider(kind)!.readConfig(c, block[kind] as never, ['metrics', kind]),
  );
}

/**
 * A router's or provider's conversion of its block. It also runs when the schema refused part of
 * the block, for its rules across fields; tripping over a refused value there is no new problem.
 */
function convertChecked<T>(
  at: PathSegment[],
  refused: (at: PathSegment[]) => boolean,
  convert: () => T,
): T | undefined {
  try {
    return convert();
  } catch (err) {
    if (refused(at)) return undefined;
    throw err;
  }
}

function resolvePause(c: CanaryReader, v: unknown): CanaryStep {
  const duration = typeof v === 'string' ? v : isObj(v) ? v.duration : undefined;
  return duration === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs: c.durationMs(duration, '') };
}

/**
 * The alpha of an analysis that names none: one budget (canary.alpha) for every analysis of the
 * canary, steps and background alike, so the chance that any of them fails a healthy canary is at
 * most the budget (Bonferroni: it holds however the analyses depend on each other). Analyses that
 * name their alpha take it from the budget; the others share the rest equally.
 */
function alphaShares(
  c: CanaryReader,
  raw: Obj,
  rawSteps: unknown[],
  budget: number | undefined,
  refused: (at: PathSegment[]) => boolean,
): number | undefined {
  if (budget === undefined) return undefined;
  const analyses: { at: PathSegment[]; alpha: unknown }[] = [];
  rawSteps.forEach((step, i) => {
    if (isObj(step) && isObj(step.analysis))
      analyses.push({ at: ['steps', i, 'analysis', 'alpha'], alpha: step.analysis.alpha });
  });
  if (isObj(raw.backgroundAnalysis))
    analyses.push({ at: ['backgroundAnalysis', 'alpha'], alpha: raw.backgroundAnalysis.alpha });
  // Alphas the schema refused are reported where they stand; they take nothing from the budget here.
  const named = analyses.filter((a) => a.alpha !== undefined && !refused(a.at));
  const spent = named.reduce((sum, a) => sum + (a.alpha as number), 0);
  const unnamed = analyses.length - named.length;
  if (spent > budget + 1e-12 || (unnamed > 0 && spent >= budget)) {
    c.add(
      named[named.length - 1].at,
      `the analyses' alphas add up to ${+spent.toFixed(6)}${unnamed > 0 ? ` and leave nothing for ${unnamed} more` : ''}, over the canary's alpha budget ${budget} (set canary.alpha, or lower them)`,
    );
    return undefined;
  }
  return unnamed > 0 ? (budget - spent) / unnamed : budget;
}

/** An analysis as gantry.yaml writes it (schema/canary.schema.json#/definitions/analysis). */
interface AnalysisBlock {
  name?: string;
  errorRate: CanaryAnalysisSpec['queries'];
  latency?: {
    buckets: string;
    stableBuckets?: string;
    quantile?: number;
    bound: string;
    ceiling?: string;
    minObservations?: number;
  };
  alpha?: number;
  power?: number;
  minimumDetectableEffect?: { relative?: number; absolute?: number; baselineErrorRate?: number };
  canaryTrafficShare?: number;
  boundaries?: BoundaryMethod;
  maxCanaryRequests?: number;
  interval?: string;
  maxInterval?: string;
  stableHistory?: string;
  maxDuration?: string;
  continueAsNewEvery?: number;
}

function resolveAnalysis(
  c: CanaryReader,
  block: Obj,
  at: PathSegment[],
  stepIndex: number,
  weight: number | null,
  alphaShare: number | undefined,
  refused: (at: PathSegment[]) => boolean,
): CanaryAnalysisSpec | undefined {
  const before = c.problems.length;
  const a = block as unknown as AnalysisBlock;
  const d = CANARY_DEFAULTS.analysis;
  const valid = (...keys: string[]) => keys.every((k) => !refused([...at, k]));
  if (weight !== null && (weight <= 0 || weight >= 100)) {
    c.add(
      at,
      `runs with the canary at ${weight}%: set a weight between 1 and 99 in an earlier step (an analysis compares canary and stable traffic)`,
    );
  }
  const name = a.name ?? (stepIndex < 0 ? 'background' : `analysis-${stepIndex}`);

  let latency: LatencySpec | undefined;
  if (isObj(a.latency)) {
    const l = a.latency;
    if (l.ceiling !== undefined && l.stableBuckets === undefined)
      c.add([...at, 'latency', 'ceiling'], 'only goes with stableBuckets (without them, bound itself is the guard)');
    latency = {
      query: l.buckets,
      quantile: l.quantile ?? d.latency.quantile,
      boundSeconds: c.durationMs(l.bound, '') / 1000,
      minObservations: l.minObservations ?? d.latency.minObservations,
      ...(l.stableBuckets !== undefined ? { stableQuery: l.stableBuckets } : {}),
      ...(l.ceiling !== undefined ? { ceilingSeconds: c.durationMs(l.ceiling, '') / 1000 } : {}),
    };
  }

  // Without a budget share (the budget itself is invalid) the default stands in so the rest is still checked.
  const alpha = a.alpha ?? alphaShare ?? d.alpha;
  const power = a.power ?? d.power;
  const mde = valid('minimumDetectableEffect')
    ? resolveEffect(c, a.minimumDetectableEffect, [...at, 'minimumDetectableEffect'])
    : undefined;
  // With the weight unknown (an invalid setWeight, already reported) 0.5 stands in so the rest is still checked.
  const defaultShare = weight !== null && weight > 0 && weight < 100 ? weight / 100 : weight === null ? 0.5 : undefined;
  const share = a.canaryTrafficShare ?? defaultShare;
  const boundaries = a.boundaries ?? d.boundaries;
  const intervalMs = c.durationMs(a.interval, d.interval);
  const maxDurationMs = c.durationMs(a.maxDuration, d.maxDuration);
  if (maxDurationMs < intervalMs)
    c.add([...at, 'maxDuration'], `must be at least the interval (${a.interval ?? d.interval})`);
  const maxIntervalMs = c.durationMs(a.maxInterval, d.maxInterval);
  if (maxIntervalMs < intervalMs)
    c.add([...at, 'maxInterval'], `must be at least the interval (${a.interval ?? d.interval})`);
  const stableHistoryMs = a.stableHistory === 'none' ? null : c.durationMs(a.stableHistory, d.stableHistory);
  const continueAsNewEvery = a.continueAsNewEvery ?? d.continueAsNewEvery;

  if (
    !valid('alpha', 'power', 'canaryTrafficShare', 'boundaries', 'maxCanaryRequests') ||
    mde === undefined ||
    share === undefined
  )
    return undefined;
  // With the latency comparison the analysis makes two tests: each gets half its alpha.
  const comparing = latency?.stableQuery !== undefined;
  const testAlpha = comparing ? alpha / 2 : alpha;
  const { maxCanaryRequests } = a;
  const test: SequentialTestConfig = {
    alpha: testAlpha,
    power,
    minimumDetectableEffect: mde,
    canaryTrafficShare: share,
    boundaries,
    ...(maxCanaryRequests !== undefined ? { maxCanaryRequests } : {}),
  };
  if (latency && comparing)
    latency = {
      ...latency,
      test: {
        alpha: testAlpha,
        power,
        minimumDetectableEffect: { kind: 'relative', increase: 1 },
        canaryTrafficShare: share,
        boundaries,
      },
    };
  for (const problem of validateSequentialTestConfig(test)) c.add([...at, problem.field], problem.message);
  if (c.problems.length > before || refused(at)) return undefined;
  return {
    name,
    queries: a.errorRate,
    ...(latency ? { latency } : {}),
    test,
    intervalMs,
    maxIntervalMs,
    ...(stableHistoryMs !== null ? { stableHistoryMs } : {}),
    maxDurationMs,
    continueAsNewEvery,
  };
}

function resolveEffect(
  c: CanaryReader,
  m: AnalysisBlock['minimumDetectableEffect'],
  at: PathSegment[],
): MinimumDetectableEffect | undefined {
  if (m === undefined) return CANARY_DEFAULTS.analysis.minimumDetectableEffect;
  if ((m.relative === undefined) === (m.absolute === undefined)) {
    c.add(at, 'must name exactly one of: relative, absolute');
    return undefined;
  }
  if (m.relative !== undefined) {
    if (m.baselineErrorRate === undefined) return { kind: 'relative', increase: m.relative };
    c.add([...at, 'baselineErrorRate'], 'only goes with absolute (a relative effect needs no baseline)');
    return undefined;
  }
  if (m.baselineErrorRate === undefined) {
    c.add([...at, 'baselineErrorRate'], 'required with absolute (the stable error rate the effect is added to)');
    return undefined;
  }
  return { kind: 'absolute', increase: m.absolute!, baselineErrorRate: m.baselineErrorRate };
}
