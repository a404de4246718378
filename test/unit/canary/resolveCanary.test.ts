// gantry.yaml's `canary:` block: the schema accepts the documented shape, resolveCanary turns it into
// the plan a promotion runs with, and every mistake is named by its path.
import Ajv from 'ajv';
import canarySchema from '../../../schema/canary.schema.json';
import gantrySchema from '../../../schema/gantry.schema.json';
import { CanaryConfigError, canaryProblems, resolveCanary } from '../../../src/config/resolveCanary';

const ctx = { app: 'web', environment: 'production' };
const errorRate = {
  canary: {
    errors: 'sum(app_errors_total{app="{app}",track="canary",env="{environment}"})',
    total: 'sum(app_requests_total{track="canary"})',
  },
  stable: { errors: 'sum(app_errors_total{track="stable"})', total: 'sum(app_requests_total{track="stable"})' },
};
const router = { haproxy: { socket: '/run/haproxy/admin.sock', backend: 'web' } };
const metrics = { prometheus: { url: 'http://127.0.0.1:9090/' } };
const valid = () => ({
  router,
  metrics,
  steps: [
    { setWeight: 5 },
    { pause: '5m' },
    { analysis: { errorRate, latency: { buckets: 'sum by (le) (x_bucket{track="canary"})', bound: '500ms' } } },
    { setWeight: 50 },
    { pause: {} },
    {
      analysis: {
        name: 'half',
        errorRate,
        alpha: 0.01,
        power: 0.9,
        minimumDetectableEffect: { absolute: 0.01, baselineErrorRate: 0.01 },
        canaryTrafficShare: 0.4,
        boundaries: 'anytime-valid',
        maxCanaryRequests: 20000,
        interval: '10s',
        maxDuration: '1h',
        continueAsNewEvery: 50,
      },
    },
    { pause: null },
    { pause: { duration: '1m' } },
    { setWeight: 100 },
  ],
  onInconclusive: 'abort',
});

// canary.stable refers to the pipeline schema's deploy target.
const ajv = new Ajv({ allErrors: true, strict: false }).addSchema(gantrySchema);
const validateSchema = ajv.compile(canarySchema);

function problems(raw: unknown): string[] {
  return canaryProblems(raw, ctx).map((p) => `${p.path}: ${p.message}`);
}

test('the schema keeps its $id and accepts the documented shape', () => {
  expect(canarySchema.$id).toBe('https://gantry.dev/schema/canary.schema.json');
  expect(validateSchema(valid())).toBe(true);
  expect(validateSchema({})).toBe(true);
  expect(validateSchema({ steps: [{ setWeight: 5, pause: '1m' }] })).toBe(false);
  expect(validateSchema({ steps: [{ pause: '5 minutes' }] })).toBe(false);
});

test('a full canary resolves into the plan: durations in ms, defaults, {app} and {environment}', () => {
  const plan = resolveCanary(valid(), ctx)!;
  expect(plan.router).toEqual({
    kind: 'haproxy',
    socket: '/run/haproxy/admin.sock',
    backend: 'web',
    stableServer: 'stable',
    canaryServer: 'canary',
    timeoutMs: 5000,
  });
  expect(plan.metrics).toEqual({ kind: 'prometheus', url: 'http://127.0.0.1:9090', timeoutMs: 10_000 });
  expect(plan.onInconclusive).toBe('abort');
  expect(plan.alpha).toBe(0.05);
  expect(plan.steps.map((s) => s.kind)).toEqual([
    'setWeight',
    'pause',
    'analysis',
    'setWeight',
    'pause',
    'analysis',
    'pause',
    'pause',
    'setWeight',
  ]);
  expect(plan.steps[1]).toEqual({ kind: 'pause', durationMs: 300_000 });
  expect(plan.steps[4]).toEqual({ kind: 'pause' });
  expect(plan.steps[6]).toEqual({ kind: 'pause' });
  expect(plan.steps[7]).toEqual({ kind: 'pause', durationMs: 60_000 });
  expect(plan.steps[2]).toEqual({
    kind: 'analysis',
    analysis: {
      name: 'analysis-2',
      queries: {
        ...errorRate,
        canary: { ...errorRate.canary, errors: 'sum(app_errors_total{app="web",track="canary",env="production"})' },
      },
      latency: {
        query: 'sum by (le) (x_bucket{track="canary"})',
        quantile: 0.95,
        boundSeconds: 0.5,
        minObservations: 200,
      },
      // The traffic share defaults to the weight the steps before set; alpha to the canary's budget
      // (0.05) less what the other analysis names (0.01).
      test: {
        alpha: 0.04,
        power: 0.8,
        minimumDetectableEffect: { kind: 'relative', increase: 1 },
        canaryTrafficShare: 0.05,
        boundaries: 'exact',
      },
      intervalMs: 15_000,
      maxIntervalMs: 120_000,
      stableHistoryMs: 3_600_000,
      maxDurationMs: 1_800_000,
      continueAsNewEvery: 100,
    },
  });
  expect(plan.steps[5]).toMatchObject({
    analysis: {
      name: 'half',
      test: {
        alpha: 0.01,
        power: 0.9,
        minimumDetectableEffect: { kind: 'absolute', increase: 0.01, baselineErrorRate: 0.01 },
        canaryTrafficShare: 0.4,
        boundaries: 'anytime-valid',
        maxCanaryRequests: 20000,
      },
      intervalMs: 10_000,
      maxDurationMs: 3_600_000,
      continueAsNewEvery: 50,
    },
  });
  expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
});

test('one alpha budget for the whole canary: named alphas take from it, the others share the rest, background included', () => {
  const analysis = { errorRate };
  const raw = {
    router,
    metrics,
    alpha: 0.06,
    steps: [
      { setWeight: 10 },
      { analysis },
      { setWeight: 50 },
      { analysis: { ...analysis, alpha: 0.02 } },
      { setWeight: 100 },
    ],
    backgroundAnalysis: analysis,
  };
  const plan = resolveCanary(raw, ctx)!;
  const alphas = [plan.steps[1], plan.steps[3]].map((s) => (s.kind === 'analysis' ? s.analysis.test.alpha : NaN));
  expect(alphas[0]).toBeCloseTo(0.02, 12);
  expect(alphas[1]).toBe(0.02);
  expect(plan.backgroundAnalysis!.test.alpha).toBeCloseTo(0.02, 12);
  expect(plan.alpha).toBe(0.06);
  // Without canary.alpha the budget is 0.05: two analyses get 0.025 each.
  const two = resolveCanary(
    { router, metrics, steps: [{ setWeight: 10 }, { analysis }, { setWeight: 50 }, { analysis }, { setWeight: 100 }] },
    ctx,
  )!;
  expect(two.steps.flatMap((s) => (s.kind === 'analysis' ? [s.analysis.test.alpha] : []))).toEqual([0.025, 0.025]);
  // Over budget: a clear error, nothing resolved.
  const over = {
    router,
    metrics,
    steps: [
      { setWeight: 10 },
      { analysis: { ...analysis, alpha: 0.04 } },
      { setWeight: 50 },
      { analysis: { ...analysis, alpha: 0.02 } },
      { setWeight: 100 },
    ],
  };
  expect(problems(over)).toEqual([
    "steps[3].analysis.alpha: the analyses' alphas add up to 0.06, over the canary's alpha budget 0.05 (set canary.alpha, or lower them)",
  ]);
  expect(() => resolveCanary(over, ctx)).toThrow(CanaryConfigError);
  const none = {
    router,
    metrics,
    steps: [
      { setWeight: 10 },
      { analysis: { ...analysis, alpha: 0.05 } },
      { setWeight: 50 },
      { analysis },
      { setWeight: 100 },
    ],
  };
  expect(problems(none)).toEqual([
    "steps[1].analysis.alpha: the analyses' alphas add up to 0.05 and leave nothing for 1 more, over the canary's alpha budget 0.05 (set canary.alpha, or lower them)",
  ]);
  expect(problems({ ...raw, alpha: 0.7 })).toEqual(['alpha: must be a number between 0 and 0.5 (e.g. 0.05), got 0.7']);
  expect(validateSchema(raw)).toBe(true);
  expect(validateSchema({ ...raw, alpha: 0.7 })).toBe(false);
});

test('latency with stableBuckets is a comparison that takes half the alpha; ceiling is its explicit guard', () => {
  const latency = {
    buckets: 'sum by (le) (x_bucket{track="canary"})',
    stableBuckets: 'sum by (le) (x_bucket{track="stable"})',
    bound: '500ms',
    ceiling: '2s',
  };
  const raw = {
    router,
    metrics,
    steps: [
      { setWeight: 10 },
      { analysis: { errorRate, latency, stableHistory: 'none', maxInterval: '1m' } },
      { setWeight: 100 },
    ],
  };
  const step = resolveCanary(raw, ctx)!.steps[1];
  if (step.kind !== 'analysis') throw new Error('expected an analysis');
  expect(step.analysis.test.alpha).toBe(0.025);
  expect(step.analysis.latency).toEqual({
    query: latency.buckets,
    stableQuery: latency.stableBuckets,
    quantile: 0.95,
    boundSeconds: 0.5,
    ceilingSeconds: 2,
    minObservations: 200,
    test: {
      alpha: 0.025,
      power: 0.8,
      minimumDetectableEffect: { kind: 'relative', increase: 1 },
      canaryTrafficShare: 0.1,
      boundaries: 'exact',
    },
  });
  expect(step.analysis.stableHistoryMs).toBeUndefined();
  expect(step.analysis.maxIntervalMs).toBe(60_000);
  expect(validateSchema(raw)).toBe(true);
  const guardOnly = {
    ...raw,
    steps: [
      { setWeight: 10 },
      { analysis: { errorRate, latency: { buckets: latency.buckets, bound: '500ms', ceiling: '2s' } } },
      { setWeight: 100 },
    ],
  };
  expect(problems(guardOnly)).toEqual([
    'steps[1].analysis.latency.ceiling: only goes with stableBuckets (without them, bound itself is the guard)',
  ]);
  const short = {
    ...raw,
    steps: [{ setWeight: 10 }, { analysis: { errorRate, interval: '30s', maxInterval: '10s' } }, { setWeight: 100 }],
  };
  expect(problems(short)).toEqual(['steps[1].analysis.maxInterval: must be at least the interval (30s)']);
});

test('no canary block, or no steps, is no canary; onInconclusive defaults to pause; a tcp socket is fine', () => {
  expect(resolveCanary(undefined, ctx)).toBeUndefined();
  expect(resolveCanary(null, ctx)).toBeUndefined();
  expect(resolveCanary({}, ctx)).toBeUndefined();
  expect(resolveCanary({ steps: [] }, ctx)).toBeUndefined();
  const plan = resolveCanary(
    {
      router: {
        haproxy: { socket: '127.0.0.1:9999', backend: 'b', stableServer: 'v1', canaryServer: 'v2', timeout: '2s' },
      },
      steps: [{ setWeight: 10 }, { pause: '1m' }, { setWeight: 100 }],
    },
    ctx,
  )!;
  expect(plan.onInconclusive).toBe('pause');
  expect(plan.metrics).toBeUndefined();
  expect(plan.router).toEqual({
    kind: 'haproxy',
    socket: '127.0.0.1:9999',
    backend: 'b',
    stableServer: 'v1',
    canaryServer: 'v2',
    timeoutMs: 2000,
  });
});

test('resolveCanary throws one CanaryConfigError that lists every problem', () => {
  const raw = valid();
  raw.steps[0] = { setWeight: 150 };
  (raw as { onInconclusive: string }).onInconclusive = 'retry';
  let error: unknown;
  try {
    resolveCanary(raw, ctx);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(CanaryConfigError);
  const e = error as CanaryConfigError;
  expect(e.problems.map((p) => p.path)).toEqual(['onInconclusive', 'steps[0].setWeight']);
  expect(e.problems[1].segments).toEqual(['steps', 0, 'setWeight']);
  expect(e.message).toBe(
    'canary of web in production is not valid:\n' +
      '  canary.onInconclusive: must be abort or pause, got "retry"\n' +
      '  canary.steps[0].setWeight: must be an integer from 0 to 100 (percent of requests to the canary), got 150',
  );
});

const withStep = (i: number, step: unknown) => {
  const raw = valid() as { steps: unknown[] };
  raw.steps[i] = step;
  return raw;
};
const withAnalysis = (over: Record<string, unknown>) => withStep(2, { analysis: { errorRate, ...over } });
const without = (key: string) => {
  const raw = valid() as Record<string, unknown>;
  delete raw[key];
  return raw;
};

test.each<[string, unknown, string[]]>([
  ['not a mapping', 'canary', [': must be a mapping']],
  [
    'an unknown field',
    { ...valid(), weights: [] },
    [
      'weights: unknown field "weights" (expected one of: router, metrics, steps, onInconclusive, backgroundAnalysis, alpha)',
    ],
  ],
  ['steps not a list', { ...valid(), steps: { setWeight: 5 } }, ['steps: must be a list of steps']],
  ['no router', without('router'), ['router: required (the steps set traffic weights through it)']],
  ['no metrics with an analysis', without('metrics'), ['metrics: required (step 2 is an analysis)']],
  [
    'two routers',
    { ...valid(), router: { haproxy: router.haproxy, nginx: {} } },
    ['router.nginx: unknown field "nginx" (expected one of: haproxy, httpRoute, replicaRatio)'],
  ],
  [
    'an empty router',
    { ...valid(), router: {} },
    ['router: must name exactly one of: haproxy, httpRoute, replicaRatio'],
  ],
  [
    'haproxy without socket and backend',
    { ...valid(), router: { haproxy: {} } },
    ['router.haproxy.socket: required', 'router.haproxy.backend: required'],
  ],
  [
    'a relative socket path',
    { ...valid(), router: { haproxy: { socket: 'run/admin.sock', backend: 'web' } } },
    ['router.haproxy.socket: must be an absolute unix socket path or host:port, got "run/admin.sock"'],
  ],
  [
    'the same server twice',
    { ...valid(), router: { haproxy: { socket: '/s', backend: 'web', stableServer: 'a', canaryServer: 'a' } } },
    ['router.haproxy.canaryServer: must differ from stableServer ("a")'],
  ],
  [
    'a bad router timeout',
    { ...valid(), router: { haproxy: { socket: '/s', backend: 'web', timeout: 'soon' } } },
    ['router.haproxy.timeout: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)'],
  ],
  [
    'a bad Prometheus url',
    { ...valid(), metrics: { prometheus: { url: 'prometheus:9090' } } },
    ['metrics.prometheus.url: must be an http:// or https:// URL, got "prometheus:9090"'],
  ],
  ['Prometheus without url', { ...valid(), metrics: { prometheus: null } }, ['metrics.prometheus.url: required']],
  [
    'two providers',
    { ...valid(), metrics: { prometheus: metrics.prometheus, datadog: {} } },
    ['metrics.datadog: unknown field "datadog" (expected one of: prometheus)'],
  ],
  [
    'a step with two actions',
    withStep(1, { pause: '1m', setWeight: 5 }),
    ['steps[1]: must name exactly one of: setWeight, pause, analysis'],
  ],
  [
    'an unknown step',
    withStep(1, { wait: '1m' }),
    [
      'steps[1].wait: unknown field "wait" (expected one of: setWeight, pause, analysis)',
      'steps[1]: must name exactly one of: setWeight, pause, analysis',
    ],
  ],
  ['a step that is not a mapping', withStep(1, 'pause'), ['steps[1]: must be a mapping']],
  [
    'a fractional weight',
    withStep(0, { setWeight: 2.5 }),
    ['steps[0].setWeight: must be an integer from 0 to 100 (percent of requests to the canary), got 2.5'],
  ],
  [
    'a negative weight',
    withStep(0, { setWeight: -1 }),
    ['steps[0].setWeight: must be an integer from 0 to 100 (percent of requests to the canary), got -1'],
  ],
  [
    'a bad pause',
    withStep(1, { pause: '5 minutes' }),
    ['steps[1].pause: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)'],
  ],
  [
    'a zero pause',
    withStep(1, { pause: '0s' }),
    ['steps[1].pause: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)'],
  ],
  [
    'a pause with an unknown field',
    withStep(1, { pause: { until: 'resumed' } }),
    ['steps[1].pause.until: unknown field "until" (expected one of: duration)'],
  ],
  [
    'a bad pause duration',
    withStep(1, { pause: { duration: 5 } }),
    ['steps[1].pause.duration: must be a non-empty string'],
  ],
  [
    'not ending at 100%',
    { ...valid(), steps: valid().steps.slice(0, -1) },
    ['steps: must end with the canary at 100% (add "- setWeight: 100" last); these steps leave it at 50%'],
  ],
  [
    'an analysis before any weight',
    withStep(0, { pause: '1m' }),
    [
      'steps[2].analysis: runs with the canary at 0%: set a weight between 1 and 99 in an earlier step (an analysis compares canary and stable traffic)',
    ],
  ],
  [
    'an analysis at 100%',
    withStep(0, { setWeight: 100 }),
    [
      'steps[2].analysis: runs with the canary at 100%: set a weight between 1 and 99 in an earlier step (an analysis compares canary and stable traffic)',
    ],
  ],
  ['an empty analysis', withStep(2, { analysis: null }), ['steps[2].analysis.errorRate: required']],
  [
    'an unknown analysis field',
    withAnalysis({ threshold: 2 }),
    [
      'steps[2].analysis.threshold: unknown field "threshold" (expected one of: name, errorRate, latency, alpha, power, minimumDetectableEffect, canaryTrafficShare, boundaries, maxCanaryRequests, interval, maxInterval, stableHistory, maxDuration, continueAsNewEvery)',
    ],
  ],
  [
    'errorRate without stable',
    withStep(2, { analysis: { errorRate: { canary: errorRate.canary } } }),
    ['steps[2].analysis.errorRate.stable: required'],
  ],
  [
    'a side without total',
    withStep(2, { analysis: { errorRate: { ...errorRate, stable: { errors: 'x' } } } }),
    ['steps[2].analysis.errorRate.stable.total: required'],
  ],
  [
    'an empty query',
    withStep(2, { analysis: { errorRate: { ...errorRate, canary: { errors: ' ', total: 'y' } } } }),
    ['steps[2].analysis.errorRate.canary.errors: must be a non-empty string'],
  ],
  ['latency without bound', withAnalysis({ latency: { buckets: 'x' } }), ['steps[2].analysis.latency.bound: required']],
  [
    'latency without buckets',
    withAnalysis({ latency: { bound: '500ms' } }),
    ['steps[2].analysis.latency.buckets: required'],
  ],
  [
    'a bad quantile',
    withAnalysis({ latency: { buckets: 'x', bound: '1s', quantile: 95 } }),
    ['steps[2].analysis.latency.quantile: must be a number between 0 and 1 (0.95 for p95), got 95'],
  ],
  [
    'a bound that is not a duration',
    withAnalysis({ latency: { buckets: 'x', bound: 0.5 } }),
    ['steps[2].analysis.latency.bound: must be a non-empty string'],
  ],
  [
    'minObservations 0',
    withAnalysis({ latency: { buckets: 'x', bound: '1s', minObservations: 0 } }),
    ['steps[2].analysis.latency.minObservations: must be an integer >= 1, got 0'],
  ],
  [
    'alpha too large',
    withAnalysis({ alpha: 0.5 }),
    ['steps[2].analysis.alpha: must be a number between 0 and 0.5 (e.g. 0.05), got 0.5'],
  ],
  [
    'power too small',
    withAnalysis({ power: 0.5 }),
    ['steps[2].analysis.power: must be a number between 0.5 and 1 (e.g. 0.8), got 0.5'],
  ],
  [
    'power as a percent',
    withAnalysis({ power: '80%' }),
    ['steps[2].analysis.power: must be a number between 0.5 and 1 (e.g. 0.8), got "80%"'],
  ],
  [
    'an empty effect',
    withAnalysis({ minimumDetectableEffect: {} }),
    ['steps[2].analysis.minimumDetectableEffect: must name exactly one of: relative, absolute'],
  ],
  [
    'both effects',
    withAnalysis({ minimumDetectableEffect: { relative: 1, absolute: 0.01 } }),
    ['steps[2].analysis.minimumDetectableEffect: must name exactly one of: relative, absolute'],
  ],
  [
    'a negative relative effect',
    withAnalysis({ minimumDetectableEffect: { relative: -1 } }),
    ['steps[2].analysis.minimumDetectableEffect.relative: must be a number > 0, got -1'],
  ],
  [
    'a baseline with a relative effect',
    withAnalysis({ minimumDetectableEffect: { relative: 1, baselineErrorRate: 0.01 } }),
    [
      'steps[2].analysis.minimumDetectableEffect.baselineErrorRate: only goes with absolute (a relative effect needs no baseline)',
    ],
  ],
  [
    'an absolute effect without baseline',
    withAnalysis({ minimumDetectableEffect: { absolute: 0.01 } }),
    [
      'steps[2].analysis.minimumDetectableEffect.baselineErrorRate: required with absolute (the stable error rate the effect is added to)',
    ],
  ],
  [
    'a baseline of 1',
    withAnalysis({ minimumDetectableEffect: { absolute: 0.01, baselineErrorRate: 1 } }),
    [
      'steps[2].analysis.minimumDetectableEffect.baselineErrorRate: must be a number between 0 and 1 (exclusive), got 1',
    ],
  ],
  [
    'baseline + effect >= 1',
    withAnalysis({ minimumDetectableEffect: { absolute: 0.6, baselineErrorRate: 0.5 } }),
    ['steps[2].analysis.minimumDetectableEffect: baselineErrorRate + increase must be < 1, got 1.1'],
  ],
  [
    'a share of 10 (a percent)',
    withAnalysis({ canaryTrafficShare: 10 }),
    ['steps[2].analysis.canaryTrafficShare: must be a number between 0 and 1 (exclusive), got 10'],
  ],
  [
    'unknown boundaries',
    withAnalysis({ boundaries: 'tight' }),
    ['steps[2].analysis.boundaries: must be exact, wald or anytime-valid, got "tight"'],
  ],
  [
    'an exact design too expensive for workflow code',
    withAnalysis({ minimumDetectableEffect: { relative: 0.01 }, canaryTrafficShare: 0.01 }),
    [
      expect.stringMatching(
        /^steps\[2\]\.analysis\.boundaries: exact boundaries for this design \(effect 0\.01, canary share 0\.01\) cost ~\d+x the budget for workflow code; compute them once with exactThresholds/,
      ) as unknown as string,
    ],
  ],
  [
    'maxCanaryRequests 0',
    withAnalysis({ maxCanaryRequests: 0 }),
    ['steps[2].analysis.maxCanaryRequests: must be an integer >= 1, got 0'],
  ],
  [
    'a bad interval',
    withAnalysis({ interval: '30' }),
    ['steps[2].analysis.interval: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)'],
  ],
  [
    'a bad maxDuration',
    withAnalysis({ maxDuration: 'forever' }),
    ['steps[2].analysis.maxDuration: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)'],
  ],
  [
    'maxDuration shorter than the interval',
    withAnalysis({ interval: '1m', maxDuration: '30s' }),
    ['steps[2].analysis.maxDuration: must be at least the interval (1m)'],
  ],
  [
    'continueAsNewEvery 0',
    withAnalysis({ continueAsNewEvery: 0 }),
    ['steps[2].analysis.continueAsNewEvery: must be an integer >= 1, got 0'],
  ],
  ['an empty name', withAnalysis({ name: '' }), ['steps[2].analysis.name: must be a non-empty string']],
])('%s', (_name, raw, expected) => {
  expect(problems(raw)).toEqual(expected);
  expect(() => resolveCanary(raw, ctx)).toThrow(CanaryConfigError);
});

test('the default traffic share follows the latest weight, and an explicit one wins', () => {
  const plan = resolveCanary(
    {
      router,
      metrics,
      steps: [
        { setWeight: 20 },
        { analysis: { errorRate } },
        { setWeight: 60 },
        { analysis: { errorRate } },
        { analysis: { errorRate, canaryTrafficShare: 0.5 } },
        { setWeight: 100 },
      ],
    },
    ctx,
  )!;
  const shares = plan.steps.flatMap((s) => (s.kind === 'analysis' ? [s.analysis.test.canaryTrafficShare] : []));
  expect(shares).toEqual([0.2, 0.6, 0.5]);
});
