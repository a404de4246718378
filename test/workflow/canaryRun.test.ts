// runCanary on the time-skipping server, inside a small stand-in for the promotion workflow: the
// real router activity drives a real HAProxy's weights, the real metrics activities query a
// scripted Prometheus API. Pauses of minutes pass in milliseconds; `pause: {}` and an inconclusive
// analysis wait for a resume; a failed analysis, an abort policy and an operator's abort all put
// traffic back on stable.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveCanary } from '../../src/config/resolveCanary';
import type { CanaryPlan, HaproxyRouter } from '../../src/canary/types';
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { setCanaryWeight } from '../../activities/traffic';
import { canaryChildId } from '../../workflows/runCanary';
import {
  countsScript,
  QUERIES,
  startFakePrometheus,
  type FakePrometheus,
  type Script,
} from '../harness/canary/fakePrometheus';
import { startHaproxy, type Haproxy } from '../harness/canary/haproxy';
import { quietRuntime, startCanaryWorker } from '../harness/canary/worker';
import { abortSignal, canaryTestWorkflow, pauseSignal, resumeSignal, stateQuery } from '../harness/canary/workflows';
import { createTimeSkippingEnv } from '../harness/timeSkipping';
import { freePort } from '../../src/local/freePort';

const TASK_QUEUE = 'canary-run';
const DIGEST = `sha256:${'c'.repeat(64)}`;
let env: TestWorkflowEnvironment;
let worker: { stop(): Promise<void> };
let haproxy: Haproxy;
let prometheus: FakePrometheus;
let seq = 0;

beforeAll(async () => {
  quietRuntime();
  [env, haproxy] = await Promise.all([
    createTimeSkippingEnv(),
    startHaproxy({ stablePort: await freePort(), canaryPort: await freePort() }),
  ]);
  worker = await startCanaryWorker(env.nativeConnection, TASK_QUEUE);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await haproxy?.stop();
});

beforeEach(async () => {
  prometheus = await startFakePrometheus();
  await setCanaryWeight({ router: haproxy.router, weight: 0, app: 'web', environment: 'production' });
});
afterEach(async () => {
  await prometheus.stop();
});

const analysis = (over: Record<string, unknown> = {}) => ({
  analysis: { errorRate: QUERIES, interval: '30s', maxDuration: '10m', ...over },
});

/** A plan as gantry.yaml would give it (through resolveCanary), against this test's HAProxy and Prometheus. */
function plan(steps: unknown[], onInconclusive: 'abort' | 'pause' = 'pause'): CanaryPlan {
  return resolveCanary(
    {
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend, timeout: '2s' } },
      metrics: { prometheus: { url: prometheus.url, timeout: '2s' } },
      steps,
      onInconclusive,
    },
    { app: 'web', environment: 'production' },
  )!;
}

async function start(p: CanaryPlan, script: Script): Promise<WorkflowHandle<typeof canaryTestWorkflow>> {
  prometheus.script(script);
  return env.client.workflow.start(canaryTestWorkflow, {
    args: [{ plan: p, app: 'web', digest: DIGEST, environment: 'production' }],
    workflowId: `promote/web/canary-test-${process.pid}-${seq++}`,
    taskQueue: TASK_QUEUE,
  });
}

// Awaiting a result makes the time-skipping server skip every timer, and with no timer left it
// skips to the execution timeout: so a test that waits for a resume first lets time pass with
// env.sleep, looks, signals, and only then awaits the result.
/** Polls the stand-in workflow until runCanary waits for a resume (bounded). */
async function untilWaiting(handle: WorkflowHandle<typeof canaryTestWorkflow>, count = 1): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = await handle.query(stateQuery);
    if (s.waits.length >= count && s.waitingFor) return s.waitingFor;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('runCanary never waited for a resume');
}

const weight = async () => (await readHaproxyCanaryWeight(haproxy.router)).percent;
const healthy = countsScript({ canary: 0.01, stable: 0.01 });
const bad = countsScript({ canary: 0.05, stable: 0.01 });
const noTraffic: Script = (q) => (q.includes('errors') ? 10 : 1000);

test('a healthy canary walks every step to 100%: timed pause, analysis child, pause until resumed', async () => {
  const p = plan([
    { setWeight: 10 },
    { pause: '5m' },
    analysis(),
    { setWeight: 50 },
    { pause: {} },
    { setWeight: 100 },
  ]);
  const handle = await start(p, healthy);
  await env.sleep('15m');
  const waiting = await untilWaiting(handle);
  expect(waiting).toBe('canary in production paused at 50% (step 5 of 6) until resumed');
  expect(await weight()).toBe(50);
  await handle.signal(resumeSignal);
  const r = await handle.result();

  expect(r.result?.outcome).toBe('Successful');
  expect(r.result?.reason).toBeUndefined();
  expect(r.result?.evidence.weight).toBe(100);
  expect(await weight()).toBe(100);
  expect(r.stages).toEqual(Array(6).fill('canary'));
  const steps = r.result!.evidence.steps;
  expect(steps.map((s) => [s.description, s.result])).toEqual([
    ['setWeight 10', 'ok'],
    ['pause 5m', 'ok'],
    ['analysis analysis-2', 'ok'],
    ['setWeight 50', 'ok'],
    ['pause until resumed', 'resumed'],
    ['setWeight 100', 'ok'],
  ]);
  expect(Date.parse(steps[1].finishedAt!) - Date.parse(steps[1].startedAt)).toBeGreaterThanOrEqual(5 * 60_000);
  expect(steps[0].detail).toBe('app (stable 90, canary 10), was canary 0%');
  expect(r.steps).toEqual(steps);

  // The analysis ran as a child with a deterministic id, and its result is the evidence.
  expect(r.analyses).toHaveLength(1);
  expect(r.result?.evidence.analyses).toEqual(r.analyses);
  expect(r.analyses[0]).toMatchObject({ name: 'analysis-2', stepIndex: 2, decision: 'Successful' });
  const childId = canaryChildId(handle.workflowId, 'production', 2);
  expect(childId).toBe(`${handle.workflowId}/canary/production/2`);
  expect(await env.client.workflow.getHandle(childId).result()).toEqual(r.analyses[0]);
});

test('a canary at 5% errors against 1% fails its analysis: weight back to 0, later steps never run', async () => {
  const p = plan([{ setWeight: 20 }, analysis(), { setWeight: 60 }, analysis(), { setWeight: 100 }]);
  const r = await (await start(p, bad)).result();
  expect(r.result?.outcome).toBe('Failed');
  expect(r.result?.reason).toMatch(
    /^analysis analysis-1 failed in production: log-likelihood ratio [\d.]+ >= [\d.]+: canary error rate is elevated .*; traffic is back on stable \(canary weight 0\)$/,
  );
  expect(await weight()).toBe(0);
  expect(r.result?.evidence.weight).toBe(0);
  expect(r.result?.evidence.steps.map((s) => [s.description, s.result])).toEqual([
    ['setWeight 20', 'ok'],
    ['analysis analysis-1', 'failed'],
  ]);
  expect(r.analyses[0]).toMatchObject({ decision: 'Failed', decidedBy: 'error-rate' });
});

test('inconclusive with onInconclusive: pause waits for a person; resume goes on with the next step', async () => {
  const p = plan([{ setWeight: 10 }, analysis(), { setWeight: 100 }], 'pause');
  const handle = await start(p, noTraffic);
  await env.sleep('15m');
  const waiting = await untilWaiting(handle);
  expect(waiting).toMatch(
    /^canary analysis analysis-1 inconclusive in production at 10%: maxDuration 600s reached without a decision .*\. Resume to go on with the next step, or abort$/,
  );
  expect(await weight()).toBe(10);
  await handle.signal(resumeSignal);
  const r = await handle.result();
  expect(r.result?.outcome).toBe('Successful');
  expect(await weight()).toBe(100);
  expect(r.result?.evidence.steps.map((s) => s.result)).toEqual(['ok', 'resumed', 'ok']);
  // No traffic, no errors: the reads back off towards maxInterval (2m) instead of every 30s.
  expect(r.analyses[0]).toMatchObject({ decision: 'Inconclusive', decidedBy: 'max-duration', intervals: 8 });
});

test('inconclusive with onInconclusive: abort puts traffic back on stable and ends Aborted', async () => {
  const p = plan([{ setWeight: 10 }, analysis(), { setWeight: 100 }], 'abort');
  const r = await (await start(p, noTraffic)).result();
  expect(r.result?.outcome).toBe('Aborted');
  expect(r.result?.reason).toMatch(
    /^analysis analysis-1 inconclusive in production: maxDuration 600s reached .*; traffic is back on stable \(canary weight 0\)$/,
  );
  expect(await weight()).toBe(0);
  expect(r.waits).toEqual([]);
});

test('an operator abort during an analysis cancels it and puts traffic back on stable', async () => {
  const p = plan([{ setWeight: 25 }, analysis(), { setWeight: 100 }]);
  const handle = await start(p, noTraffic);
  // The analysis has read once (its baseline) and sleeps until the next interval.
  for (let i = 0; i < 200 && prometheus.calls(QUERIES.canary.total) < 1; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(await weight()).toBe(25);
  await handle.signal(abortSignal);
  const r = await handle.result();
  expect(r.aborted).toBe(true);
  expect(r.result).toBeNull();
  expect(await weight()).toBe(0);
  expect(r.steps.map((s) => [s.description, s.result])).toEqual([
    ['setWeight 25', 'ok'],
    ['analysis analysis-1', 'cancelled'],
  ]);
  const child = await env.client.workflow.getHandle(canaryChildId(handle.workflowId, 'production', 1)).describe();
  expect(child.status.name).toBe('CANCELLED');
});

test('an operator pause holds the canary before its next step until resumed', async () => {
  const p = plan([{ setWeight: 10 }, { pause: '5m' }, { setWeight: 100 }]);
  const handle = await start(p, healthy);
  await handle.signal(pauseSignal);
  const waiting = await untilWaiting(handle);
  expect(waiting).toMatch(/^paused before canary step \d of 3 \((setWeight 10|pause 5m|setWeight 100)\)$/);
  const held = await weight();
  expect(held).toBeLessThan(100);
  await handle.signal(resumeSignal);
  const r = await handle.result();
  expect(r.result?.outcome).toBe('Successful');
  expect(await weight()).toBe(100);
});

test('a router that cannot be reached ends the canary Aborted with the reason (no verdict on the canary)', async () => {
  const p = plan([{ setWeight: 10 }, { setWeight: 100 }]);
  p.router = { ...(p.router as HaproxyRouter), socket: '/tmp/gantry-no-such-haproxy.sock' };
  const r = await (await start(p, healthy)).result();
  expect(r.result?.outcome).toBe('Aborted');
  expect(r.result?.reason).toBe(
    'setWeight 10 failed in production: HAProxy runtime API at /tmp/gantry-no-such-haproxy.sock unreachable: ENOENT; setting the canary weight back to 0 FAILED: HAProxy runtime API at /tmp/gantry-no-such-haproxy.sock unreachable: ENOENT',
  );
});

test('a background analysis watches across steps: a regression during a long pause rolls back at once', async () => {
  const p = resolveCanary(
    {
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend, timeout: '2s' } },
      metrics: { prometheus: { url: prometheus.url, timeout: '2s' } },
      backgroundAnalysis: { errorRate: QUERIES, interval: '30s', maxDuration: '6h' },
      steps: [{ setWeight: 10 }, { pause: '1h' }, { setWeight: 50 }, { pause: '1h' }, { setWeight: 100 }],
    },
    { app: 'web', environment: 'production' },
  )!;
  expect(p.backgroundAnalysis).toMatchObject({ name: 'background' });
  const r = await (await start(p, countsScript({ canary: 0.05, stable: 0.01 }))).result();
  expect(r.result?.outcome).toBe('Failed');
  expect(r.result?.reason).toMatch(
    /^background analysis background failed in production: .*; traffic is back on stable \(canary weight 0\)$/,
  );
  expect(r.analyses.map((a) => [a.name, a.decision])).toEqual([['background', 'Failed']]);
  // It was caught inside the first pause: the later steps never ran.
  expect(r.steps?.map((s) => s.description)).toEqual(['setWeight 10', 'pause 1h']);
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
});

test('a background analysis that finds nothing is stopped when the steps end', async () => {
  const p = resolveCanary(
    {
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend, timeout: '2s' } },
      metrics: { prometheus: { url: prometheus.url, timeout: '2s' } },
      backgroundAnalysis: { errorRate: QUERIES, interval: '30s', maxDuration: '6h' },
      steps: [{ setWeight: 10 }, { pause: '2m' }, { setWeight: 100 }],
    },
    { app: 'web', environment: 'production' },
  )!;
  const r = await (await start(p, countsScript({ canary: 0.01, stable: 0.01 }))).result();
  expect(r.result?.outcome).toBe('Successful');
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(100);
});
