// An environment made of targets, rolled out in waves, on the time-skipping server with fake
// activities (fakeActivityStack.ts): waves in order with their bake time and one approval, a
// target on its own task queue, and a canary failing in wave 2 that spends the failure budget:
// every changed target back on its own previous digest, the later wave never touched.
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import type { DeployRequest } from '../../activities/types';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { pipelineYaml, promotionInput, testDigest, type TestEnvironment } from '../harness/pipelineFile';
import { formatStatus } from '../../src/cli/formatStatus';
import { freezeEnvironment } from '../../src/client/manualFreezes';
import { promotionWorkflowId, shortDigest } from '../../src/pipeline/digest';
import { workflowsPath } from '../../src/worker/createWorker';
import { FREEZE_REGISTRY_ID, unfreezeUpdate } from '../../workflows/freezeRegistry';
import { freezeLiftedSignal, rollbackUpdate } from '../../workflows/messages';
import {
  APPROVERS,
  FAILING_GATE_PREFIX,
  fakeActivities,
  startFakeActivityStack,
  type FakeActivityStack,
} from './fakeActivityStack';

jest.setTimeout(90_000);

const US_QUEUE = 'waves-prod-us-1';
let stack: FakeActivityStack;
let usWorker: Worker;
let usWorkerRun: Promise<void>;
/** Deploys the target queue's worker ran, with the queue it polled. */
const usQueueDeploys: Array<{ queue: string; request: DeployRequest }> = [];

beforeAll(async () => {
  stack = await startFakeActivityStack('waves');
  // A worker inside prod-us-1: activities only, sharing the fakes' world.
  const fakes = fakeActivities(stack.world);
  usWorker = await Worker.create({
    connection: stack.env.nativeConnection,
    taskQueue: US_QUEUE,
    activities: {
      ...fakes,
      deploy: (r: DeployRequest) => {
        usQueueDeploys.push({ queue: Context.current().info.taskQueue, request: r });
        return fakes.deploy(r);
      },
    },
  });
  usWorkerRun = usWorker.run();
});

afterAll(async () => {
  usWorker?.shutdown();
  await usWorkerRun;
  await stack?.stop();
});

let app = 'web';
let apps = 0;
beforeEach(() => {
  app = `waves${++apps}`;
});

const production = (settings: Record<string, unknown>, extra: Partial<TestEnvironment> = {}): TestEnvironment => ({
  name: 'production',
  ...extra,
  settings: { deploy: { gitops: { path: 'environments/{target}' } }, ...settings },
});

async function start(environments: TestEnvironment[], digest = testDigest()): Promise<string> {
  await stack.gantry.start(
    promotionInput(pipelineYaml('/nonexistent/config-repo', [app], environments, APPROVERS), app, digest),
  );
  return digest;
}

async function statusWhen(digest: string, what: string, probe: (s: PromotionStatus) => boolean) {
  for (let i = 0; i < 300; i++) {
    const s = await stack.gantry.status(app, digest);
    if (probe(s)) return s;
    if (s.outcome !== 'running') throw new Error(`promotion ended ${s.outcome} before ${what}: ${s.reason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never saw ${what}`);
}

/** The error and request counts of one side of a target's canary (the fakes answer per app-target). */
const countsQuery = (track: string) => ({
  errors: `sum(errors{app="${app}-{target}",track="${track}"})`,
  total: `sum(requests{app="${app}-{target}",track="${track}"})`,
});

/** The digests deployed to one target, in order. */
const deployedTo = (target: string) =>
  stack.world.deploys.filter((d) => d.app === app && d.environment === `production/${target}`).map((d) => d.digest);

test('three targets in two waves: one approval, wave 1 then the bake time then wave 2 in parallel, the US target on its own queue', async () => {
  const digest = await start([
    { name: 'staging' },
    production(
      {
        targets: ['prod-eu-1', 'prod-eu-2', { name: 'prod-us-1', taskQueue: US_QUEUE }],
        waves: [['prod-eu-1'], ['prod-eu-2', 'prod-us-1']],
        bakeTime: '2h',
      },
      { approval: { from: ['alice'] } },
    ),
  ]);
  const waiting = await statusWhen(digest, 'the approval', (s) => s.awaitingApproval !== undefined);
  expect(waiting.awaitingApproval?.environment).toBe('production');
  expect(deployedTo('prod-eu-1')).toEqual([]);
  await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'alice' });

  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(result.decisions).toHaveLength(1);
  const prod = result.environments[1];
  expect(prod.state).toBe('promoted');
  expect(prod.targets).toEqual([
    expect.objectContaining({ name: 'prod-eu-1', wave: 1, state: 'promoted', digest, changed: true }),
    expect.objectContaining({ name: 'prod-eu-2', wave: 2, state: 'promoted', digest }),
    expect.objectContaining({ name: 'prod-us-1', wave: 2, state: 'promoted', digest }),
  ]);
  // Wave order: prod-eu-1 deployed before either target of wave 2.
  const order = stack.world.deploys.filter((d) => d.app === app).map((d) => d.environment);
  expect(order[0]).toBe('staging');
  expect(order[1]).toBe('production/prod-eu-1');
  expect(order.slice(2).sort()).toEqual(['production/prod-eu-2', 'production/prod-us-1']);
  // The bake ran between the waves, for its full time.
  const stages = result.timings.filter((t) => t.environment === 'production').map((t) => t.stage);
  expect(stages).toEqual(['approval', 'queued', 'deploy', 'bake', 'deploy']);
  const bake = result.timings.find((t) => t.stage === 'bake')!;
  expect(Date.parse(bake.finishedAt!) - Date.parse(bake.startedAt)).toBeGreaterThanOrEqual(2 * 3600_000);
  // The US target's deploy ran on the worker inside it; the EU targets' on the main queue.
  expect(usQueueDeploys.filter((d) => d.request.app === app).map((d) => [d.queue, d.request.environment])).toEqual([
    [US_QUEUE, 'production/prod-us-1'],
  ]);
});

test('a canary failing in wave 2 spends the budget: every changed target goes back to its own previous digest, wave 3 is never touched', async () => {
  const targets = ['eu-1', 'eu-2', 'us-1', 'ap-1'];
  const rollout = { targets, waves: [['eu-1'], ['eu-2', 'us-1'], ['ap-1']], maxFailures: 0 };
  const good = await start([production(rollout)]);
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');
  // eu-2 was put on another digest since (a hotfix): its rollback must go there, not to `good`.
  const hotfix = testDigest();
  stack.world.running.set(`${app}/production/eu-2`, hotfix);

  stack.world.canaryErrorRate.set(`${app}-us-1`, 0.3);
  const canary = {
    router: { haproxy: { socket: '/nonexistent/haproxy.sock', backend: '{target}' } },
    metrics: { prometheus: { url: 'http://127.0.0.1:9', timeout: '5s' } },
    onInconclusive: 'abort',
    steps: [
      { setWeight: 25 },
      {
        analysis: {
          errorRate: { canary: countsQuery('canary'), stable: countsQuery('stable') },
          interval: '30s',
          maxDuration: '30m',
        },
      },
      { setWeight: 100 },
    ],
  };
  const bad = await start([production({ ...rollout, canary })]);
  const result = await stack.gantry.result(app, bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(/^us-1 in production failed \(canary failed: analysis .*\); 1 failed of 4, budget 0/);
  expect(result.environments[0].state).toBe('rolled-back');
  expect(result.environments[0].targets).toEqual([
    expect.objectContaining({ name: 'eu-1', wave: 1, state: 'rolled-back', digest: good, previousDigest: good }),
    expect.objectContaining({ name: 'eu-2', wave: 2, state: 'rolled-back', digest: hotfix, previousDigest: hotfix }),
    expect.objectContaining({ name: 'us-1', wave: 2, state: 'rolled-back', digest: good, canaryWeight: 0 }),
    { name: 'ap-1', wave: 3, state: 'pending' },
  ]);
  expect(deployedTo('eu-1')).toEqual([good, bad, good]);
  expect(deployedTo('eu-2')).toEqual([good, bad, hotfix]);
  expect(deployedTo('us-1')).toEqual([good, bad, good]);
  expect(deployedTo('ap-1')).toEqual([good]);
  expect(stack.world.running.get(`${app}/production/ap-1`)).toBe(good);
  const rollbacks = stack.world.deploys.filter((d) => d.app === app && d.rollback);
  expect(rollbacks.every((d) => d.rollback!.from === bad)).toBe(true);
});

test('a pause holds the next wave after the bake; gantry rollback then puts every changed target back', async () => {
  const rollout = { targets: ['a', 'b', 'c'], waves: [['a', 'b'], ['c']], bakeTime: '1h' };
  const good = await start([production(rollout)]);
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');

  const bad = await start([production(rollout)]);
  await statusWhen(bad, 'the bake', (s) => s.stage === 'bake');
  expect(await stack.gantry.operate('pause', app, bad, { by: 'bob' })).toMatchObject({ accepted: true });
  await stack.env.sleep('2h');
  const paused = await stack.gantry.status(app, bad);
  expect(paused.paused).toBe(true);
  expect(paused.environments[0]).toMatchObject({ wave: 2 });
  expect(paused.environments[0].targets!.map((t) => [t.name, t.state])).toEqual([
    ['a', 'promoted'],
    ['b', 'promoted'],
    ['c', 'pending'],
  ]);
  expect(deployedTo('c')).toEqual([good]);

  await stack.gantry
    .handle(app, bad)
    .executeUpdate(rollbackUpdate, { args: [{ environment: 'production', by: 'carol', reason: 'errors in a' }] });
  const result = await stack.gantry.result(app, bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toBe('production rolled back (a, b): by carol: errors in a');
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.digest])).toEqual([
    ['a', 'rolled-back', good],
    ['b', 'rolled-back', good],
    ['c', 'pending', undefined],
  ]);
  expect(deployedTo('a')).toEqual([good, bad, good]);
  expect(deployedTo('c')).toEqual([good]);
});

test('a failure within the budget does not stop the rollout; the failed target goes back at the end', async () => {
  const rollout = {
    targets: ['a', { name: 'b', gates: [{ command: { name: `${FAILING_GATE_PREFIX}smoke`, run: 'exit 1' } }] }, 'c'],
    waves: [['a', 'b'], ['c']],
    maxFailures: 1,
  };
  const good = await start([production({ ...rollout, targets: ['a', 'b', 'c'] })]);
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');
  const next = await start([production(rollout)]);
  const result = await stack.gantry.result(app, next);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.digest, t.reason])).toEqual([
    ['a', 'promoted', next, undefined],
    ['b', 'rolled-back', good, `gate ${FAILING_GATE_PREFIX}smoke failed: smoke says no`],
    ['c', 'promoted', next, undefined],
  ]);
  expect(deployedTo('b')).toEqual([good, next, good]);
});

test('the histories of a waves promotion and of its target children replay', async () => {
  const digest = await start([production({ targets: ['a', 'b', 'c'], waves: { size: 2 }, bakeTime: '10m' })]);
  expect((await stack.gantry.result(app, digest)).outcome).toBe('promoted');
  const id = promotionWorkflowId(app, digest);
  const histories = await Promise.all(
    [id, `${id}/production/a`, `${id}/production/c`].map(async (workflowId) => ({
      workflowId,
      history: await stack.env.client.workflow.getHandle(workflowId).fetchHistory(),
    })),
  );
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowsPath: workflowsPath(), replayName: 'waves-replay' },
    histories,
  ))
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  expect(failures).toEqual([]);
});

test('between waves: a paused rollout resumes into the next wave; an abort during the bake leaves the next wave untouched', async () => {
  const rollout = { targets: ['a', 'b'], waves: [['a'], ['b']], bakeTime: '1h' };
  const resumed = await start([production(rollout)]);
  await statusWhen(resumed, 'the bake', (s) => s.stage === 'bake');
  await stack.gantry.operate('pause', app, resumed, { by: 'bob' });
  await stack.env.sleep('2h');
  expect(deployedTo('b')).toEqual([]);
  expect(await stack.gantry.operate('resume', app, resumed, { by: 'bob' })).toMatchObject({ accepted: true });
  expect((await stack.gantry.result(app, resumed)).outcome).toBe('promoted');
  expect(deployedTo('b')).toEqual([resumed]);

  const aborted = await start([production(rollout)]);
  await statusWhen(aborted, 'the bake', (s) => s.stage === 'bake');
  await stack.gantry.operate('abort', app, aborted, { by: 'bob', reason: 'wrong build' });
  const result = await stack.gantry.result(app, aborted);
  expect(result).toMatchObject({ outcome: 'aborted', reason: 'aborted by bob: wrong build' });
  expect(result.environments[0].targets!.map((t) => [t.name, t.state])).toEqual([
    ['a', 'promoted'],
    ['b', 'pending'],
  ]);
  expect(deployedTo('b')).toEqual([resumed]);
});

test('gantry freeze of one target holds it while the rest of its wave goes on; unfreeze lets it through', async () => {
  // Target names of their own: the freeze registry is shared by every test on the server.
  const environments = [production({ targets: ['iso-1', 'iso-2'], waves: [['iso-1', 'iso-2']] })];
  // The workers' policy (the pipeline) decides who may freeze: adopt it first.
  promotionInput(pipelineYaml('/nonexistent/config-repo', [app], environments, APPROVERS), app, testDigest());
  const frozen = await freezeEnvironment(stack.gantry, {
    environment: 'production/iso-2',
    by: 'oncall',
    reason: 'disk',
  });
  expect(frozen).toMatchObject({ accepted: true });
  const digest = await start(environments);
  const held = await statusWhen(digest, 'iso-2 frozen', (s) =>
    (s.environments[0].targets ?? []).some((t) => t.name === 'iso-1' && t.state === 'promoted'),
  );
  expect(held.environments[0].targets!.find((t) => t.name === 'iso-2')).toMatchObject({
    state: 'frozen',
    reason: 'frozen by oncall: disk',
  });
  expect(deployedTo('iso-2')).toEqual([]);
  // Straight to the registry: the test server cannot list the promotions `gantry unfreeze` would wake,
  // so the target sees the lift at its next look (a minute, skipped here).
  await stack.gantry.client.workflow
    .getHandle(FREEZE_REGISTRY_ID)
    .executeUpdate(unfreezeUpdate, { args: [{ environment: 'production/iso-2', by: 'oncall' }] });
  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.reason])).toEqual([
    ['iso-1', 'promoted', undefined],
    ['iso-2', 'promoted', undefined],
  ]);
  expect(deployedTo('iso-2')).toEqual([digest]);
});

test("a target's own deny window holds that target until it closes while the rest of its wave goes on", async () => {
  // A window from the server's now (time-skipping: its clock, not the wall's) for three hours.
  const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const now = await stack.env.currentTimeMs();
  const environments = [
    production({
      targets: [
        'fz-1',
        {
          name: 'fz-2',
          freeze: [{ name: 'maintenance', from: stamp(now - 60_000), to: stamp(now + 3 * 3600_000), timeZone: 'UTC' }],
        },
      ],
      waves: [['fz-1', 'fz-2']],
    }),
  ];
  const digest = await start(environments);
  const held = await statusWhen(digest, 'fz-1 promoted', (s) =>
    (s.environments[0].targets ?? []).some((t) => t.name === 'fz-1' && t.state === 'promoted'),
  );
  const row = held.environments[0].targets!.find((t) => t.name === 'fz-2');
  expect(row).toMatchObject({
    state: 'frozen',
    reason: expect.stringMatching(/^freeze window maintenance until \d{4}-/),
  });
  expect(deployedTo('fz-2')).toEqual([]);

  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].targets!.map((t) => [t.name, t.state])).toEqual([
    ['fz-1', 'promoted'],
    ['fz-2', 'promoted'],
  ]);
  expect(deployedTo('fz-2')).toEqual([digest]);
  // It went on only once the window had closed (the server's clock skipped the wait).
  expect(await stack.env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(`${stamp(now + 3 * 3600_000)}:00Z`));
});

/** The canary weights set on one target, in order. */
const weightsOf = (target: string) =>
  stack.world.weights.filter((w) => w.app === app && w.environment === `production/${target}`).map((w) => w.weight);

/** A canary that waits for a person at 25%. */
const waitingCanary = {
  router: { haproxy: { socket: '/nonexistent/haproxy.sock', backend: '{target}' } },
  steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 100 }],
};

test('a target canary waiting for a person in wave 2: status shows it paused, the rest of its wave goes on, resume lets it finish', async () => {
  const rollout = {
    targets: ['w-1', { name: 'w-2', canary: waitingCanary }, 'w-3', { name: 'w-4', canary: waitingCanary }],
    waves: [['w-1'], ['w-2', 'w-3', 'w-4']],
  };
  const digest = await start([production(rollout)]);
  const waiting = await statusWhen(digest, 'w-2 and w-4 paused with w-3 promoted', (s) =>
    ['w-2:paused', 'w-3:promoted', 'w-4:paused'].every((want) =>
      (s.environments[0].targets ?? []).some((t) => `${t.name}:${t.state}` === want),
    ),
  );
  const reason = (t: string) => `canary in production/${t} paused at 25% (step 2 of 3) until resumed`;
  expect(waiting).toMatchObject({ paused: true, stage: 'deploy', environment: 'production' });
  expect(waiting.waitingFor).toBe(`${reason('w-2')}; ${reason('w-4')}`);
  expect(waiting.environments[0].targets!.map((t) => [t.name, t.state, t.canaryWeight, t.reason])).toEqual([
    ['w-1', 'promoted', undefined, undefined],
    ['w-2', 'paused', 25, reason('w-2')],
    ['w-3', 'promoted', undefined, undefined],
    ['w-4', 'paused', 25, reason('w-4')],
  ]);
  // gantry status: the reason under the paused row.
  const table = formatStatus(waiting).split('\n');
  expect(table).toContain(`        w-2     2*    paused    ${shortDigest(digest)}  25%`);
  expect(table).toContain(`          └ ${reason('w-2')}`);
  // Time passes; nothing goes on without a person.
  await stack.env.sleep('3h');
  expect(weightsOf('w-2')).toEqual([25]);
  expect((await stack.gantry.status(app, digest)).outcome).toBe('running');

  expect(await stack.gantry.operate('resume', app, digest, { by: 'bob' })).toMatchObject({ accepted: true });
  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(result.paused).toBe(false);
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.canaryWeight, t.reason])).toEqual([
    ['w-1', 'promoted', undefined, undefined],
    ['w-2', 'promoted', 100, undefined],
    ['w-3', 'promoted', undefined, undefined],
    ['w-4', 'promoted', 100, undefined],
  ]);
  expect(weightsOf('w-2')).toEqual([25, 100]);
  expect(weightsOf('w-4')).toEqual([25, 100]);
  // The paused child's history holds the pause, the resume and the rest of its canary.
  const child = await stack.env.client.workflow
    .getHandle(`${promotionWorkflowId(app, digest)}/production/w-2`)
    .fetchHistory();
  const signals = (child.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['targetResume']);
  // Both histories replay: the pause, the signals both ways and the patch marker are deterministic.
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowsPath: workflowsPath(), replayName: 'target-pause-replay' },
    [
      { workflowId: promotionWorkflowId(app, digest), history: await stack.gantry.handle(app, digest).fetchHistory() },
      { workflowId: `${promotionWorkflowId(app, digest)}/production/w-2`, history: child },
    ],
  ))
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  expect(failures).toEqual([]);
});

test('an inconclusive analysis with onInconclusive: pause holds its target the same way; resume goes on with the next step', async () => {
  // A little worse than stable, for one minute: too few requests for either decision.
  stack.world.canaryErrorRate.set(`${app}-i-2`, 0.008);
  const canary = {
    router: { haproxy: { socket: '/nonexistent/haproxy.sock', backend: '{target}' } },
    metrics: { prometheus: { url: 'http://127.0.0.1:9', timeout: '5s' } },
    onInconclusive: 'pause',
    steps: [
      { setWeight: 25 },
      {
        analysis: {
          errorRate: { canary: countsQuery('canary'), stable: countsQuery('stable') },
          interval: '30s',
          maxDuration: '1m',
        },
      },
      { setWeight: 100 },
    ],
  };
  const digest = await start([production({ targets: ['i-1', { name: 'i-2', canary }], waves: [['i-1', 'i-2']] })]);
  // The analysis' reads are timers: let the time-skipping server pass its minute.
  await stack.env.sleep('10m');
  const waiting = await statusWhen(digest, 'i-2 paused', (s) =>
    (s.environments[0].targets ?? []).some((t) => t.state === 'paused'),
  );
  const row = waiting.environments[0].targets!.find((t) => t.name === 'i-2')!;
  expect(row.reason).toMatch(
    /^canary analysis \S+ inconclusive in production\/i-2 at 25%: .*\. Resume to go on with the next step, or abort$/,
  );
  expect(waiting.waitingFor).toBe(row.reason);
  await stack.gantry.operate('resume', app, digest, { by: 'bob' });
  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(weightsOf('i-2')).toEqual([25, 100]);
});

test('gantry abort while a target canary waits ends the promotion: the child is cancelled, its traffic back on stable', async () => {
  const rollout = { targets: ['x-1', { name: 'x-2', canary: waitingCanary }], waves: [['x-1', 'x-2']] };
  const digest = await start([production(rollout)]);
  await statusWhen(digest, 'x-2 paused', (s) => (s.environments[0].targets ?? []).some((t) => t.state === 'paused'));
  expect(await stack.gantry.operate('abort', app, digest, { by: 'bob', reason: 'not today' })).toMatchObject({
    accepted: true,
  });
  const result = await stack.gantry.result(app, digest);
  expect(result).toMatchObject({ outcome: 'aborted', reason: 'aborted by bob: not today', paused: false });
  expect(result.waitingFor).toBeUndefined();
  expect(weightsOf('x-2')).toEqual([25, 0]);
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.reason])).toEqual([
    ['x-1', 'promoted', undefined],
    ['x-2', 'deployed', 'aborted while waiting: canary in production/x-2 paused at 25% (step 2 of 3) until resumed'],
  ]);
  const child = await stack.env.client.workflow
    .getHandle(`${promotionWorkflowId(app, digest)}/production/x-2`)
    .describe();
  expect(child.status.name).toBe('CANCELLED');
});

test('gantry rollback while a target canary waits puts every changed target back, the waiting one too', async () => {
  const targets = ['r-1', 'r-2'];
  const good = await start([production({ targets, waves: [['r-1', 'r-2']] })]);
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');
  const bad = await start([production({ targets: ['r-1', { name: 'r-2', canary: waitingCanary }], waves: [targets] })]);
  await statusWhen(bad, 'r-2 paused', (s) => (s.environments[0].targets ?? []).some((t) => t.state === 'paused'));
  await stack.gantry
    .handle(app, bad)
    .executeUpdate(rollbackUpdate, { args: [{ environment: 'production', by: 'carol', reason: 'latency' }] });
  const result = await stack.gantry.result(app, bad);
  expect(result).toMatchObject({
    outcome: 'rolled-back',
    reason: 'production rolled back (r-1, r-2): by carol: latency',
  });
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.digest, t.reason])).toEqual([
    ['r-1', 'rolled-back', good, undefined],
    [
      'r-2',
      'rolled-back',
      good,
      'rolled back while waiting: canary in production/r-2 paused at 25% (step 2 of 3) until resumed',
    ],
  ]);
  expect(deployedTo('r-2')).toEqual([good, bad, good]);
  expect(weightsOf('r-2')).toEqual([25, 0]);
});

test('canary.stable on targets: each target stable side gets the digest once its canary passed, and goes back with the target on rollback', async () => {
  // The environment's canary, stable side and all, is every target's default ({target} filled in).
  const canary = {
    stable: { gitops: { path: 'environments/{target}-stable' } },
    router: { haproxy: { socket: '/nonexistent/haproxy.sock', backend: '{target}' } },
    steps: [{ setWeight: 50 }, { setWeight: 100 }],
  };
  const targets = ['s-1', 's-2', 's-3'];
  const waves = [['s-1'], ['s-2', 's-3']];
  const stableDeploys = (t: string) =>
    stack.world.deploys
      .filter((d) => d.app === app && d.target.kind === 'gitops' && d.target.path === `environments/${t}-stable`)
      .map((d) => [d.environment, d.digest]);
  const good = await start([production({ targets, waves, canary })]);
  const promoted = await stack.gantry.result(app, good);
  expect(promoted.outcome).toBe('promoted');
  for (const t of promoted.environments[0].targets!)
    expect(t).toMatchObject({
      state: 'promoted',
      canaryWeight: 0,
      stableSide: { commit: expect.stringMatching(/^fake-/) },
    });
  expect(stableDeploys('s-1')).toEqual([['production/s-1', good]]);
  expect(weightsOf('s-2')).toEqual([50, 100, 0]);

  // s-3's gate fails after its canary completed: over the budget, every target goes back on both sides.
  const failing = { name: 's-3', gates: [{ command: { name: `${FAILING_GATE_PREFIX}smoke`, run: 'exit 1' } }] };
  const bad = await start([production({ targets: ['s-1', 's-2', failing], waves, canary })]);
  const result = await stack.gantry.result(app, bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(/^s-3 in production failed \(gate failing-smoke failed: smoke says no\)/);
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.digest, !!t.stableSide])).toEqual([
    ['s-1', 'rolled-back', good, true],
    ['s-2', 'rolled-back', good, true],
    ['s-3', 'rolled-back', good, true],
  ]);
  for (const t of targets) {
    expect(stableDeploys(t)).toEqual([
      [`production/${t}`, good],
      [`production/${t}`, bad],
      [`production/${t}`, good],
    ]);
    expect(deployedTo(t)).toEqual([good, good, bad, bad, good, good]);
  }
  const stableRollback = stack.world.deploys.find(
    (d) => d.app === app && d.rollback && d.target.kind === 'gitops' && d.target.path === 'environments/s-1-stable',
  );
  expect(stableRollback?.rollback).toMatchObject({ from: bad });
});

test("a freeze of one target holds its canary's next weight change until it is lifted", async () => {
  const digest = await start([production({ targets: [{ name: 'fc-1', canary: waitingCanary }] })]);
  await statusWhen(digest, 'fc-1 paused at 25%', (s) => s.environments[0].targets?.[0].state === 'paused');
  // Frozen while its canary waits at 25%, then resumed: the step to 100% waits for the freeze.
  expect(
    await freezeEnvironment(stack.gantry, { environment: 'production/fc-1', by: 'oncall', reason: 'incident' }),
  ).toMatchObject({ accepted: true });
  expect(await stack.gantry.operate('resume', app, digest, { by: 'bob' })).toMatchObject({ accepted: true });
  await stack.env.sleep('3h');
  expect(weightsOf('fc-1')).toEqual([25]);
  const held = await stack.gantry.status(app, digest);
  expect(held.outcome).toBe('running');
  expect(held.environments[0].targets![0]).toMatchObject({ state: 'frozen', reason: 'frozen by oncall: incident' });

  // gantry unfreeze: the registry, then the signal it sends to the promotion, which passes it on to the target.
  await stack.gantry.client.workflow
    .getHandle(FREEZE_REGISTRY_ID)
    .executeUpdate(unfreezeUpdate, { args: [{ environment: 'production/fc-1', by: 'oncall' }] });
  await stack.gantry.handle(app, digest).signal(freezeLiftedSignal);
  const result = await stack.gantry.result(app, digest);
  expect(result).toMatchObject({ outcome: 'promoted' });
  expect(result.environments[0].targets![0]).toMatchObject({ state: 'promoted', canaryWeight: 100 });
  expect(weightsOf('fc-1')).toEqual([25, 100]);
  const child = await stack.env.client.workflow
    .getHandle(`${promotionWorkflowId(app, digest)}/production/fc-1`)
    .fetchHistory();
  const signals = (child.events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
  expect(signals).toEqual(['targetResume', 'targetFreezeLifted']);
});

test('once the budget is spent, a target of the wave waiting for a person is stopped and rolled back with the rest', async () => {
  const good = await start([production({ targets: ['sp-a', 'sp-b'], waves: [['sp-a', 'sp-b']] })]);
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');
  const failing = { name: 'sp-b', gates: [{ command: { name: `${FAILING_GATE_PREFIX}smoke`, run: 'exit 1' } }] };
  const next = await start([
    production({ targets: [{ name: 'sp-a', canary: waitingCanary }, failing], waves: [['sp-a', 'sp-b']] }),
  ]);
  // Nobody resumes sp-a: the failed sp-b spends the budget (0), and the rollout does not wait for a person.
  const result = await stack.gantry.result(app, next);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(
    /^sp-b in production failed \(gate failing-smoke failed: smoke says no\); 1 failed of 2/,
  );
  expect(result.environments[0].targets!.map((t) => [t.name, t.state, t.digest, t.reason])).toEqual([
    ['sp-a', 'rolled-back', good, 'stopped while its canary waited for a person: the failure budget is spent'],
    ['sp-b', 'rolled-back', good, `gate ${FAILING_GATE_PREFIX}smoke failed: smoke says no`],
  ]);
  expect(weightsOf('sp-a')).toEqual([25, 0]);
  expect(deployedTo('sp-a')).toEqual([good, next, good]);
});

test("a freeze override granted while a target's canary is held by a freeze lets that target go on", async () => {
  const keys = makeApproverKeys(['carol']);
  // Overrides are judged against the environment's approvers and their keys.
  const environments = [
    production(
      { targets: [{ name: 'ov-1', canary: waitingCanary }] },
      { approval: { from: ['carol'], signatures: 'optional' } },
    ),
  ];
  const digest = testDigest();
  await stack.gantry.start(
    promotionInput(pipelineYaml('/nonexistent/config-repo', [app], environments, approversSettings(keys)), app, digest),
  );
  await statusWhen(digest, 'the approval', (s) => s.awaitingApproval !== undefined);
  await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'carol' });
  await statusWhen(digest, 'ov-1 paused at 25%', (s) => s.environments[0].targets?.[0].state === 'paused');
  expect(
    await freezeEnvironment(stack.gantry, { environment: 'production/ov-1', by: 'oncall', reason: 'incident' }),
  ).toMatchObject({ accepted: true });
  expect(await stack.gantry.operate('resume', app, digest, { by: 'bob' })).toMatchObject({ accepted: true });
  await statusWhen(digest, 'ov-1 frozen', (s) => s.environments[0].targets?.[0].state === 'frozen');
  // The freeze stays; carol's signed override for production reaches the target's running child.
  const answer = await stack.gantry.overrideFreeze(
    app,
    digest,
    { environment: 'production', by: 'carol', reason: 'hotfix' },
    keys.carol.privateKey,
  );
  expect(answer).toMatchObject({ accepted: true });
  expect(await stack.gantry.result(app, digest)).toMatchObject({ outcome: 'promoted' });
  expect(weightsOf('ov-1')).toEqual([25, 100]);
  await stack.gantry.client.workflow
    .getHandle(FREEZE_REGISTRY_ID)
    .executeUpdate(unfreezeUpdate, { args: [{ environment: 'production/ov-1', by: 'oncall' }] });
});

test('two digests of one app rolled out at once (ordering: queue): one rollout at a time, the later one last on every target', async () => {
  const environments = [
    production({ targets: ['q-1', 'q-2', 'q-3'], waves: [['q-1'], ['q-2', 'q-3']], bakeTime: '1h' }),
  ];
  const yaml = `${pipelineYaml('/nonexistent/config-repo', [app], environments, APPROVERS)}\nordering: queue\n`;
  const [first, second] = [testDigest(), testDigest()];
  await Promise.all([first, second].map((d) => stack.gantry.start(promotionInput(yaml, app, d))));
  // One result at a time: the time-skipping server does not skip time while two result calls wait at once.
  const results = [];
  for (const d of [first, second]) results.push(await stack.gantry.result(app, d));
  expect(results.map((r) => r.outcome)).toEqual(['promoted', 'promoted']);
  // The environment is held for a whole rollout: every deploy of one digest comes before the other's first.
  const order = stack.world.deploys.filter((d) => d.app === app).map((d) => d.digest);
  const firstIn = order[0];
  const lastOfFirst = order.lastIndexOf(firstIn);
  expect(order.slice(0, lastOfFirst + 1).every((d) => d === firstIn)).toBe(true);
  expect(order).toHaveLength(6);
  // Start order is the order of digests: the one started last is what every target runs.
  const started = await Promise.all(
    [first, second].map(async (d) => ({ d, at: (await stack.gantry.handle(app, d).describe()).startTime.getTime() })),
  );
  const newest = started.sort((a, b) => a.at - b.at)[1].d;
  for (const t of ['q-1', 'q-2', 'q-3']) expect(deployedTo(t).at(-1)).toBe(newest);
});
