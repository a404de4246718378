// Approvals that can be trusted, on the time-skipping server with real SSH keys: N-of-M with
// groups, every refusal path (each recorded, the promotion still waiting), reminders and expiry,
// and a freeze window reached mid-promotion.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditFile } from '../../src/audit';
import type { GantryClient } from '../../src/client/gantryClient';
import { signDecision } from '../../src/client/signDecision';
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { approversYaml, makeApproverKeys, type ApproverKey } from '../harness/approverKeys';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest, type TestEnvironment } from '../harness/pipelineFile';
import { startTimeSkippingStack, type TimeSkippingStack } from '../harness/timeSkipping';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhookReceiver';

const keys = makeApproverKeys(['alice', 'bob', 'carol', 'mallory']);
const { alice, bob, carol } = keys;
let stack: TimeSkippingStack;
let env: TestWorkflowEnvironment;
let gantry: GantryClient;
let webhook: WebhookReceiver;
let dataDir: string;

beforeAll(async () => {
  [stack, webhook] = await Promise.all([startTimeSkippingStack('signed-approvals'), startWebhookReceiver()]);
  ({ env, gantry, dataDir } = stack);
});
afterAll(async () => {
  await stack?.stop();
  await webhook?.stop();
});

async function newPromotion(production: Partial<TestEnvironment> = {}, requestedBy = 'carol') {
  const repo = await createConfigRepo({
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['staging', 'production'],
  });
  const approval = {
    required: 2,
    from: ['group:sre', 'carol'],
    signatures: 'required' as const,
    expiresIn: '72h',
    remindBefore: ['24h'],
  };
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [{ name: 'staging' }, { name: 'production', approval, ...production }],
    `${approversYaml({ alice, bob, carol, mallory: keys.mallory }, { sre: ['alice', 'bob'] })}\nnotifications: { webhook: { url: "${webhook.url}" } }`,
  );
  const digest = testDigest();
  const input = promotionInput(yaml, 'web', digest, requestedBy);
  await gantry.start(input);
  return { repo, digest, workflowId: `promote/web/${digest}` };
}

async function until(digest: string, what: string, probe: (s: PromotionStatus) => boolean): Promise<PromotionStatus> {
  for (let i = 0; i < 300; i++) {
    const s = await gantry.status('web', digest);
    if (probe(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const awaiting = (digest: string) =>
  until(digest, 'production approval', (s) => s.awaitingApproval?.environment === 'production');

const approve = (digest: string, who: ApproverKey, key = who.privateKey) =>
  gantry.decide('approve', 'web', digest, { environment: 'production', by: who.name }, key);

test('two signed approvals from the eligible group promote; votes carry the signers', async () => {
  const { repo, digest } = await newPromotion();
  await awaiting(digest);
  expect(await approve(digest, alice)).toMatchObject({ accepted: true });
  const half = await gantry.status('web', digest);
  expect(half.awaitingApproval?.environment).toBe('production');
  expect(half.waitingFor).toMatch(/^approval for production \(1 of 2; expires /);
  expect(await approve(digest, bob)).toMatchObject({ accepted: true });
  const done = await gantry.result('web', digest);
  expect(done.outcome).toBe('promoted');
  const prod = done.environments.find((e) => e.name === 'production')!;
  expect(prod.votes.map((v) => [v.by, v.kind, v.signer])).toEqual([
    ['alice', 'approve', expect.stringMatching(/^SHA256:/)],
    ['bob', 'approve', expect.stringMatching(/^SHA256:/)],
  ]);
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Environment'] === 'production')).toHaveLength(1);
  expect(
    webhook.received
      .filter((n) => n.gantry.app === 'web' && n.text.includes(digest.slice(0, 19)))
      .map((n) => n.gantry.event),
  ).toEqual(expect.arrayContaining(['awaiting-approval', 'approved', 'promoted']));
});

test('every untrusted decision is refused with its reason, recorded, and the promotion keeps waiting', async () => {
  const { digest, workflowId } = await newPromotion();
  await awaiting(digest);
  const runId = (await gantry.handle('web', digest).describe()).runId;
  const sign = (over: Partial<Parameters<typeof signDecision>[0]>, key: string) =>
    signDecision(
      { kind: 'approve', workflowId, runId, app: 'web', digest, environment: 'production', approver: 'alice', ...over },
      key,
    );
  const send = (by: string, signed?: ReturnType<typeof signDecision>) =>
    gantry.decide('approve', 'web', digest, { environment: 'production', by, signed });

  const valid = sign({}, alice.privateKey);
  const tampered = {
    payload: valid.payload.replace('"decision":"approve"', '"decision":"approve","comment":"x"'),
    signature: valid.signature,
  };
  const expectRefused = async (name: string, answer: Promise<unknown>, reason: string | RegExp) => {
    const got = (await answer) as { accepted: boolean; reason?: string };
    expect({ name, accepted: got.accepted }).toEqual({ name, accepted: false });
    if (typeof reason === 'string') expect(got.reason).toBe(reason);
    else expect(got.reason).toMatch(reason);
  };

  await expectRefused(
    'unknown approver',
    gantry.decide('approve', 'web', digest, { environment: 'production', by: 'mallory' }, keys.mallory.privateKey),
    'mallory is not an approver for production (eligible: alice, bob, carol)',
  );
  await expectRefused('self-approval', approve(digest, carol), 'carol started this promotion and cannot decide on it');
  await expectRefused(
    'unsigned where required',
    send('alice'),
    'production requires a signed decision: run gantry with --key <your ssh ed25519 key>',
  );
  await expectRefused(
    "another approver's key",
    send('alice', sign({}, bob.privateKey)),
    /^signed by a key not allowed for this approver \(SHA256:/,
  );
  await expectRefused(
    'another digest',
    send('alice', sign({ digest: testDigest() }, alice.privateKey)),
    /^signed for another digest \(sha256:/,
  );
  await expectRefused(
    'another environment',
    send('alice', sign({ environment: 'staging' }, alice.privateKey)),
    'signed for environment "staging", not "production"',
  );
  await expectRefused(
    'another run',
    send('alice', sign({ runId: 'an-earlier-run' }, alice.privateKey)),
    'signed for another run of this promotion (replayed decision)',
  );
  await expectRefused('bad signature', send('alice', tampered), /signature does not verify/);
  await expectRefused('replayed nonce', send('alice', valid), 'nonce already used (replayed decision)');
  // A decision for an environment that is not waiting, sent as a signal from the UI, is recorded too.
  await gantry.handle('web', digest).signal('approve', { environment: 'staging', by: 'alice' });
  const fresh = sign({}, alice.privateKey);
  expect(await send('alice', fresh)).toMatchObject({ accepted: true });
  await expectRefused('second vote by the same person', approve(digest, alice), 'alice already approved production');

  const status = await until(digest, 'the signal to be recorded', (s) => s.refused.some((r) => r.via === 'signal'));
  expect(status.awaitingApproval?.environment).toBe('production');
  expect(status.refused.map((r) => r.reason)).toEqual([
    'mallory is not an approver for production (eligible: alice, bob, carol)',
    'carol started this promotion and cannot decide on it',
    'production requires a signed decision: run gantry with --key <your ssh ed25519 key>',
    expect.stringMatching(/^signed by a key not allowed for this approver/),
    expect.stringMatching(/^signed for another digest/),
    'signed for environment "staging", not "production"',
    'signed for another run of this promotion (replayed decision)',
    expect.stringMatching(/signature does not verify/),
    'nonce already used (replayed decision)',
    expect.stringMatching(/^not awaiting approval for staging/),
    'alice already approved production',
  ]);
  expect(status.environments[1].votes.map((v) => v.by)).toEqual(['alice']);

  // The audit log holds every refusal with its reason, and it verifies.
  const verified = await verifyAuditFile(join(dataDir, 'audit', 'audit.jsonl'), {
    publicKeys: [readFileSync(join(dataDir, 'keys', 'audit-ed25519.pub.pem'))],
  });
  expect(verified.ok).toBe(true);
  const refusals = verified.records.filter((r) => r.workflowId === workflowId && r.event === 'approval-refused');
  expect(refusals).toHaveLength(11);
  expect(
    verified.records
      .filter((r) => r.workflowId === workflowId && r.event === 'approval-accepted')
      .map((r) => (r.details as { signerFingerprint?: string }).signerFingerprint),
  ).toEqual([expect.stringMatching(/^SHA256:/)]);
  await gantry.decide(
    'reject',
    'web',
    digest,
    { environment: 'production', by: 'bob', comment: 'enough' },
    bob.privateKey,
  );
  expect((await gantry.result('web', digest)).outcome).toBe('rejected');
});

test('a reminder goes out before the approval expires, then the promotion ends as expired', async () => {
  const { digest } = await newPromotion();
  await awaiting(digest);
  const result = await gantry.result('web', digest);
  expect(result).toMatchObject({ outcome: 'expired', reason: 'no decision for production within 3d' });
  const mine = webhook.received
    .filter((n) => n.text.includes(digest.slice(0, 19)) || n.text.includes(digest))
    .map((n) => n.gantry.event);
  expect(mine).toEqual(expect.arrayContaining(['awaiting-approval', 'approval-reminder', 'expired']));
  expect(mine.indexOf('approval-reminder')).toBeLessThan(mine.indexOf('expired'));
});

test('a freeze window reached mid-promotion holds production until it closes, then the promotion goes on', async () => {
  // The server's clock, which earlier tests have moved days ahead of the wall clock.
  const now = new Date((await env.currentTimeMs()) - 60_000);
  const stamp = (d: Date) => d.toISOString().slice(0, 16);
  const freeze = `{ name: change-freeze, from: "${stamp(now)}", to: "${stamp(new Date(now.getTime() + 6 * 3600_000))}", timeZone: UTC }`;
  const { digest } = await newPromotion({ approval: false, freeze: [freeze] });
  const held = await until(digest, 'the freeze', (s) => s.frozen !== undefined);
  expect(held).toMatchObject({
    stage: 'freeze',
    environment: 'production',
    frozen: { environment: 'production', window: 'change-freeze' },
  });
  expect(held.waitingFor).toMatch(/^production is frozen \(change-freeze until /);
  const result = await gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  const wait = result.timings.find((t) => t.stage === 'freeze')!;
  expect(Date.parse(wait.finishedAt!) - Date.parse(wait.startedAt)).toBeGreaterThan(5 * 3600_000);
});
