// The promotion workflow's own decisions, on the time-skipping server with fake activities
// (fakeActivityStack.ts): approvals, a freeze, an operator's pause and abort, a rollback after a
// failed gate, and a canary that fails its analysis. Each asserts what a person sees: the status
// query while it runs and the result when it ends. Hours of waiting pass in milliseconds.
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { pipelineYaml, promotionInput, testDigest, type TestEnvironment } from '../harness/pipelineFile';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { APPROVERS, FAILING_GATE_PREFIX, startFakeActivityStack, type FakeActivityStack } from './fakeActivityStack';

jest.setTimeout(60_000);

let stack: FakeActivityStack;

beforeAll(async () => {
  stack = await startFakeActivityStack('promotion-scenarios');
});

afterAll(async () => {
  await stack?.stop();
});

// Each test promotes its own app: an app's lane remembers what was promoted where.
let app = 'web';
let apps = 0;
beforeEach(() => {
  app = `web${++apps}`;
});

/** A pipeline for this test's app; `tail` goes under the last environment (a canary block). */
const yamlFor = (environments: TestEnvironment[], tail = '') =>
  `${pipelineYaml('/nonexistent/config-repo', [app], environments, APPROVERS)}\n${tail}`;

async function start(yaml: string, digest = testDigest()): Promise<string> {
  await stack.gantry.start(promotionInput(yaml, app, digest));
  return digest;
}

/** Polls the status query until it shows what the test waits for. */
async function statusWhen(
  digest: string,
  what: string,
  probe: (s: PromotionStatus) => boolean,
): Promise<PromotionStatus> {
  for (let i = 0; i < 300; i++) {
    const s = await stack.gantry.status(app, digest);
    if (probe(s)) return s;
    if (s.outcome !== 'running') throw new Error(`promotion ended ${s.outcome} before ${what}: ${s.reason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never saw ${what}`);
}

const deployedDigests = (environment: string) =>
  stack.world.deploys.filter((d) => d.app === app && d.environment === environment).map((d) => d.digest);
const auditEvents = (digest: string) => stack.world.audit.filter((e) => e.digest === digest).map((e) => e.event);

describe('approvals', () => {
  const environments = (expiresIn = '2h'): TestEnvironment[] => [
    { name: 'staging' },
    { name: 'production', approval: { expiresIn, required: 2, from: ['alice', 'bob'] } },
  ];

  test('two distinct approvers let it through; the same person twice counts once', async () => {
    const digest = await start(yamlFor(environments()));
    const waiting = await statusWhen(digest, 'the approval wait', (s) => s.awaitingApproval !== undefined);
    expect(waiting.environments.map((e) => e.state)).toEqual(['promoted', 'awaiting-approval']);
    expect(waiting.waitingFor).toMatch(/^approval for production \(0 of 2; expires /);

    expect(await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'alice' })).toMatchObject(
      { accepted: true },
    );
    const twice = await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'alice' });
    expect(twice).toMatchObject({ accepted: false, reason: expect.stringContaining('alice') });
    const half = await stack.gantry.status(app, digest);
    expect(half.waitingFor).toMatch(/^approval for production \(1 of 2; /);
    expect(half.refused).toEqual([
      expect.objectContaining({ kind: 'approve', by: 'alice', environment: 'production' }),
    ]);

    expect(
      await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'bob', comment: 'LGTM' }),
    ).toMatchObject({ accepted: true });
    const result = await stack.gantry.result(app, digest);
    expect(result.outcome).toBe('promoted');
    expect(result.environments[1].votes.map((v) => v.by)).toEqual(['alice', 'bob']);
    expect(result.environments[1].approval).toMatchObject({ kind: 'approve', by: 'bob', comment: 'LGTM' });
    expect(deployedDigests('production')).toEqual([digest]);
    expect(auditEvents(digest)).toEqual(
      expect.arrayContaining(['approval-accepted', 'approval-refused', 'deployed', 'finished']),
    );
  });

  test('no decision before the expiry ends it as expired, and production is never touched', async () => {
    const digest = await start(yamlFor(environments('3h')));
    await statusWhen(digest, 'the approval wait', (s) => s.awaitingApproval !== undefined);
    const result = await stack.gantry.result(app, digest);
    expect(result.outcome).toBe('expired');
    expect(result.reason).toBe('no decision for production within 3h');
    expect(result.awaitingApproval).toBeUndefined();
    expect(deployedDigests('production')).toEqual([]);
    expect(Date.parse(result.finishedAt!) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(3 * 3600_000);
  });
});

test('a freeze window holds the environment until it closes, then the promotion goes on', async () => {
  const now = new Date((await stack.env.currentTimeMs()) - 60_000);
  const stamp = (d: Date) => d.toISOString().slice(0, 16);
  const freeze = `{ name: change-freeze, from: "${stamp(now)}", to: "${stamp(new Date(now.getTime() + 6 * 3600_000))}", timeZone: UTC }`;
  const digest = await start(yamlFor([{ name: 'staging' }, { name: 'production', freeze: [freeze] }]));
  const held = await statusWhen(digest, 'the freeze', (s) => s.frozen !== undefined);
  expect(held).toMatchObject({
    stage: 'freeze',
    environment: 'production',
    frozen: { environment: 'production', window: 'change-freeze' },
  });
  expect(held.waitingFor).toMatch(/^production is frozen \(change-freeze until /);
  expect(deployedDigests('production')).toEqual([]);

  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  expect(result.frozen).toBeUndefined();
  const wait = result.timings.find((t) => t.stage === 'freeze')!;
  expect(Date.parse(wait.finishedAt!) - Date.parse(wait.startedAt)).toBeGreaterThan(5 * 3600_000);
  expect(auditEvents(digest)).toContain('freeze-wait');
});

test('a freeze override lets a promotion through manual freezes only: a deny window still holds it until it closes', async () => {
  const keys = makeApproverKeys(['carol']);
  const now = new Date((await stack.env.currentTimeMs()) - 60_000);
  const stamp = (d: Date) => d.toISOString().slice(0, 16);
  const freeze = `{ name: change-freeze, from: "${stamp(now)}", to: "${stamp(new Date(now.getTime() + 6 * 3600_000))}", timeZone: UTC }`;
  const production: TestEnvironment = {
    name: 'production',
    freeze: [freeze],
    approval: { from: ['carol'], signatures: 'optional' },
  };
  const digest = await start(pipelineYaml('/nonexistent/config-repo', [app], [production], approversSettings(keys)));
  await statusWhen(digest, 'the approval', (s) => s.awaitingApproval !== undefined);
  await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'carol' });
  await statusWhen(digest, 'the freeze window', (s) => s.frozen !== undefined);
  const override = await stack.gantry.overrideFreeze(
    app,
    digest,
    { environment: 'production', by: 'carol', reason: 'hotfix' },
    keys.carol.privateKey,
  );
  expect(override).toMatchObject({ accepted: true });
  // The window still holds it (it used to spin on the override instead of waiting).
  await stack.env.sleep('1h');
  expect(await stack.gantry.status(app, digest)).toMatchObject({
    outcome: 'running',
    frozen: { environment: 'production', window: 'change-freeze' },
  });
  expect(deployedDigests('production')).toEqual([]);
  const result = await stack.gantry.result(app, digest);
  expect(result.outcome).toBe('promoted');
  const wait = result.timings.find((t) => t.stage === 'freeze')!;
  expect(Date.parse(wait.finishedAt!) - Date.parse(wait.startedAt)).toBeGreaterThan(5 * 3600_000);
});

test('a paused promotion stops before its next stage; an abort ends it there', async () => {
  const digest = await start(yamlFor([{ name: 'staging', soak: '1h' }, { name: 'production' }]));
  await statusWhen(digest, 'the soak', (s) => s.stage === 'soak');
  expect(await stack.gantry.operate('pause', app, digest, { by: 'bob' })).toMatchObject({ accepted: true });
  expect(await stack.gantry.operate('pause', app, digest, { by: 'bob' })).toMatchObject({
    accepted: false,
    reason: 'promotion is already paused',
  });
  // The soak ends while paused; the promotion does not go on to production.
  await stack.env.sleep('2h');
  const paused = await stack.gantry.status(app, digest);
  expect(paused).toMatchObject({ paused: true, waitingFor: 'paused before the next stage (soak staging)' });
  expect(paused.timings.find((t) => t.stage === 'soak')).toMatchObject({ result: 'ok' });
  expect(deployedDigests('production')).toEqual([]);

  expect(await stack.gantry.operate('abort', app, digest, { by: 'bob', reason: 'wrong build' })).toMatchObject({
    accepted: true,
  });
  const result = await stack.gantry.result(app, digest);
  expect(result).toMatchObject({ outcome: 'aborted', reason: 'aborted by bob: wrong build' });
  expect(result.environments.map((e) => e.state)).toEqual(['promoted', 'pending']);
  expect(deployedDigests('production')).toEqual([]);
});

test('onFailure: rollback puts the environment back on the digest before when a gate fails', async () => {
  const good = await start(yamlFor([{ name: 'staging' }]));
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');

  const failing = yamlFor([
    { name: 'staging', gates: [`command: { name: ${FAILING_GATE_PREFIX}smoke, run: 'exit 1' }`] },
  ]).replace('    gates:', '    onFailure: rollback\n    gates:');
  const bad = await start(failing);
  const result = await stack.gantry.result(app, bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toBe(
    `staging rolled back to ${good.slice(0, 19)}: gate ${FAILING_GATE_PREFIX}smoke failed in staging: smoke says no`,
  );
  expect(result.environments[0]).toMatchObject({ state: 'rolled-back', rolledBackTo: good, previousDigest: good });
  expect(deployedDigests('staging')).toEqual([good, bad, good]);
  expect(stack.world.deploys.at(-1)?.rollback?.from).toBe(bad);
  expect(auditEvents(bad)).toEqual(expect.arrayContaining(['gate', 'rollback', 'finished']));
});

test('a canary whose analysis fails sends traffic back to stable and rolls the environment back, with the evidence in the status', async () => {
  const good = await start(yamlFor([{ name: 'production' }]));
  expect((await stack.gantry.result(app, good)).outcome).toBe('promoted');

  stack.world.canaryErrorRate.set(app, 0.3);
  const canary = [
    '    canary:',
    '      router: { haproxy: { socket: "/nonexistent/haproxy.sock", backend: web } }',
    '      metrics: { prometheus: { url: "http://127.0.0.1:9", timeout: 5s } }',
    '      onInconclusive: abort',
    '      steps:',
    '        - setWeight: 25',
    '        - analysis:',
    '            errorRate:',
    `              canary: { errors: 'sum(errors{app="${app}",track="canary"})', total: 'sum(requests{app="${app}",track="canary"})' }`,
    `              stable: { errors: 'sum(errors{app="${app}",track="stable"})', total: 'sum(requests{app="${app}",track="stable"})' }`,
    '            interval: 30s',
    '            maxDuration: 30m',
    '        - setWeight: 100',
  ].join('\n');
  const bad = await start(yamlFor([{ name: 'production' }], canary));
  const result = await stack.gantry.result(app, bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(
    new RegExp(`^production rolled back to ${good.slice(0, 19)}: canary failed: analysis `),
  );
  const evidence = result.environments[0].canary!;
  expect(evidence.analyses).toEqual([expect.objectContaining({ decision: 'Failed', decidedBy: 'error-rate' })]);
  expect(evidence.steps.map((s) => [s.description, s.result])).toEqual([
    ['setWeight 25', 'ok'],
    [expect.stringMatching(/^analysis /), 'failed'],
  ]);
  expect(evidence.weight).toBe(0);
  expect(stack.world.weights.filter((w) => w.app === app).map((w) => w.weight)).toEqual([25, 0]);
  expect(deployedDigests('production')).toEqual([good, bad, good]);
  expect(auditEvents(bad)).toEqual(expect.arrayContaining(['canary-decision', 'rollback']));
});
