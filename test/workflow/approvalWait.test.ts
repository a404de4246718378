// Durable approval waits on the time-skipping server: days pass in seconds of wall time.
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { GantryClient } from '../../src/client/gantryClient';
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/timeSkipping';

let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let gantry: GantryClient;

beforeAll(async () => {
  stack = await startTimeSkippingStack('approval-wait');
  ({ env, gantry } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function newPromotion(expiresIn = '7d') {
  const repo = await createConfigRepo({
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'staging', 'production'],
  });
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [{ name: 'dev' }, { name: 'staging' }, { name: 'production', approval: { expiresIn } }],
  );
  const digest = testDigest();
  const input = promotionInput(yaml, 'web', digest);
  await gantry.start(input);
  return { repo, digest };
}

async function untilAwaiting(digest: string, environment: string): Promise<PromotionStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await gantry.status('web', digest);
    if (s.awaitingApproval?.environment === environment) return s;
    if (s.outcome !== 'running') throw new Error(`promotion ended ${s.outcome}: ${s.reason}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never awaited approval for ${environment}`);
}

/** Events that record a message or a change. Workflow-task bookkeeping is left out: the
 * time-skipping server, unlike a real one, writes it for rejected updates too (the dev-server
 * tests compare whole histories). */
async function recordedEvents(digest: string): Promise<string[]> {
  const events = (await gantry.handle('web', digest).fetchHistory()).events ?? [];
  return events
    .map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0])
    .filter((name) => !name.startsWith('EVENT_TYPE_WORKFLOW_TASK_'));
}

test('a 3-day approval wait passes in seconds and the promotion completes', async () => {
  const started = Date.now();
  const { repo, digest } = await newPromotion('7d');
  const waiting = await untilAwaiting(digest, 'production');
  expect(waiting.environments.map((e) => e.state)).toEqual(['promoted', 'promoted', 'awaiting-approval']);

  await env.sleep('3d');
  const answer = await gantry.decide('approve', 'web', digest, {
    environment: 'production',
    by: 'alice',
    comment: 'LGTM',
  });
  expect(answer.accepted).toBe(true);

  const result = await gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments.find((e) => e.name === 'production')?.approval).toMatchObject({
    kind: 'approve',
    by: 'alice',
    comment: 'LGTM',
  });
  expect(Date.parse(result.finishedAt!) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(3 * 24 * 3600 * 1000);
  expect(Date.now() - started).toBeLessThan(60_000);
  const commits = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);
  expect(commits.map((c) => c.trailers['Gantry-Environment'])).toEqual(['production', 'staging', 'dev']);
});

test('no decision before the expiry ends the promotion as expired', async () => {
  const { repo, digest } = await newPromotion('72h');
  await untilAwaiting(digest, 'production');
  const failure = await gantry
    .handle('web', digest)
    .result()
    .catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const status = await gantry.result('web', digest);
  expect(status.outcome).toBe('expired');
  expect(status.reason).toBe('no decision for production within 3d');
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Environment'] === 'production')).toHaveLength(0);
});

test('a rejection ends the promotion as rejected and production is never deployed', async () => {
  const { repo, digest } = await newPromotion();
  await untilAwaiting(digest, 'production');
  const answer = await gantry.decide('reject', 'web', digest, {
    environment: 'production',
    by: 'bob',
    comment: 'error budget exhausted',
  });
  expect(answer.accepted).toBe(true);
  const status = await gantry.result('web', digest);
  expect(status.outcome).toBe('rejected');
  expect(status.reason).toBe('production rejected by bob: error budget exhausted');
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Environment'] === 'production')).toHaveLength(0);
});

test('decisions for the wrong environment, twice, or malformed are refused and leave history unchanged', async () => {
  const { digest } = await newPromotion();
  await untilAwaiting(digest, 'production');
  const before = await recordedEvents(digest);

  expect(await gantry.decide('approve', 'web', digest, { environment: 'staging', by: 'alice' })).toEqual({
    accepted: false,
    reason: 'not awaiting approval for staging: it is awaiting approval for production',
  });
  expect(await gantry.decide('approve', 'web', digest, { environment: 'qa', by: 'alice' })).toEqual({
    accepted: false,
    reason: 'unknown environment "qa" (this promotion has dev, staging, production)',
  });
  expect(await gantry.decide('approve', 'web', digest, { environment: 'production', by: ' ' })).toEqual({
    accepted: false,
    reason: 'decision needs "by" (who decides)',
  });
  expect(await recordedEvents(digest)).toEqual(before);

  expect((await gantry.decide('approve', 'web', digest, { environment: 'production', by: 'alice' })).accepted).toBe(
    true,
  );
  const second = await gantry.decide('reject', 'web', digest, { environment: 'production', by: 'bob' });
  expect(second.accepted).toBe(false);
  expect((await gantry.result('web', digest)).outcome).toBe('promoted');
});

test('approving a promotion that does not exist says so', async () => {
  expect(await gantry.decide('approve', 'web', testDigest(), { environment: 'production', by: 'alice' })).toMatchObject(
    {
      accepted: false,
      reason: expect.stringMatching(/^unknown promotion: no workflow promote\/web\/sha256:/),
    },
  );
});
