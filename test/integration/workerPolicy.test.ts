// The worker's policy decides who approves, with which keys, and which commands gates run: a
// starter (through the CLI or a raw Temporal client) cannot rewrite it. Real dev server, real git
// config repo, real ssh-keygen keys; the worker reads its policy from a file, as `gantry worker
// --policy` does.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditFile, type ApprovalRow } from '../../src/audit';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { createConfigRepo } from '../../src/local/configRepo';
import { promotionWorkflowId } from '../../src/pipeline/digest';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { filePolicySource, policyDigest } from '../../src/policy/policySource';
import { approversSettings, makeApproverKeys, type ApproverKey } from '../harness/approverKeys';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, testDigest, type TestEnvironment } from '../harness/pipelineFile';
import { until } from '../harness/until';

const IMAGE = 'registry.example.com/acme/web';
const keys = makeApproverKeys(['alice', 'bob', 'ci', 'mallory', 'carol']);
const policyDir = mkdtempSync(join(tmpdir(), 'gantry-policy-it-'));
const policyFile = join(policyDir, 'gantry.yaml');
let stack: Stack;
let repo: string;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'worker-policy', policy: filePolicySource(policyFile) });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'production'],
  });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(policyDir, { recursive: true, force: true });
});

/** A pipeline for web: dev, then production behind `approval`; extra settings at the top level. */
function pipeline(
  production: TestEnvironment,
  extra: Record<string, unknown>,
  people: Record<string, ApproverKey> = { alice: keys.alice, bob: keys.bob },
): string {
  return pipelineYaml(
    repo,
    ['web'],
    [{ name: 'dev', gates: [`command: { name: smoke, run: 'echo smoke ok for $GANTRY_DIGEST' }`] }, production],
    { ...approversSettings(people), ...extra },
  );
}
const TWO_OF_ALICE_AND_BOB: TestEnvironment = {
  name: 'production',
  approval: { required: 2, from: ['alice', 'bob'], signatures: 'required' },
};
const starters = (...names: Array<keyof typeof keys>) => ({
  starters: Object.fromEntries(names.map((n) => [n, { keys: [keys[n].publicKey] }])),
});

/** Writes the worker's policy file; returns its version (what status and audit name). */
function writePolicy(yaml: string): string {
  writeFileSync(policyFile, yaml);
  return policyDigest(yaml);
}
/** A starter's own copy of the pipeline, beside the policy (same folder, so only real differences count). */
function starterFile(name: string, yaml: string): string {
  const file = join(policyDir, name);
  writeFileSync(file, yaml);
  return file;
}
const gantry = (...args: string[]) => runCli(args, { ...cliEnv(stack), GANTRY_DATA_DIR: stack.dir });
const commitsFor = (digest: string) => commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);

const awaitingProduction = (digest: string) =>
  until(`${digest} to wait for production`, async () => {
    const s = await stack.gantry.status('web', digest);
    return s.awaitingApproval?.environment === 'production' ? s : undefined;
  });
const approve = (digest: string, who: keyof typeof keys, as: string = who) =>
  gantry('approve', 'web', digest, '--env', 'production', '--as', as, '--key', keys[who].privateKey);

/** Mallory's copy: her key added, production needs one approval, hers. */
const malloryYaml = () =>
  pipeline(
    { name: 'production', approval: { required: 1, from: ['mallory'], signatures: 'required' } },
    { signedStarts: 'optional' },
    { alice: keys.alice, bob: keys.bob, mallory: keys.mallory },
  );

test('a pipeline with an extra approver and a relaxed rule is refused at start (exit 2); nothing is deployed', async () => {
  const version = writePolicy(pipeline(TWO_OF_ALICE_AND_BOB, { signedStarts: 'optional' }));
  const digest = testDigest();
  const run = await gantry(
    '-c',
    starterFile('mallory.yaml', malloryYaml()),
    'start',
    '--app',
    'web',
    '--digest',
    digest,
    '--requested-by',
    'ci',
  );
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(
    `gantry: refused by the worker's policy (${version}): the pipeline sent differs from the worker's policy: `,
  );
  expect(run.stderr).toContain('production.approval.required: sent 1, the policy says 2');
  expect(run.stderr).toContain('production.approval.eligible: sent ["mallory"], the policy says ["alice","bob"]');
  expect(commitsFor(digest)).toEqual([]);
  const status = JSON.parse((await gantry('status', 'web', digest, '--json')).stdout) as PromotionStatus;
  expect(status).toMatchObject({
    outcome: 'refused',
    policy: { digest: version, source: policyFile },
    timings: [],
    decisions: [],
  });
  const audit = await verifyAuditFile(join(stack.dir, 'audit', 'audit.jsonl'), {
    publicKeys: [readFileSync(join(stack.dir, 'keys', 'audit-ed25519.pub.pem'))],
  });
  expect(
    audit.records.filter((r) => r.digest === digest).map((r) => [r.event, (r.details as { policy?: string }).policy]),
  ).toEqual([['refused', version]]);
});

test('through the raw Temporal client: the relaxed pipeline is refused; the policy pipeline waits for alice and bob, and mallory cannot approve', async () => {
  writePolicy(pipeline(TWO_OF_ALICE_AND_BOB, { signedStarts: 'optional' }));
  const sent = (yaml: string, digest: string) =>
    resolvePromotion(parseConfig(yaml, join(policyDir, 'sent.yaml'), policyDir), {
      app: 'web',
      digest,
      requestedBy: 'ci',
    });
  const raw = (input: ReturnType<typeof sent>) =>
    stack.gantry.client.workflow.start('promoteArtifact', {
      workflowId: promotionWorkflowId(input.app, input.digest),
      taskQueue: stack.taskQueue,
      args: [input],
    });

  const relaxed = testDigest();
  const refused = await (await raw(sent(malloryYaml(), relaxed))).result().catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(WorkflowFailedError);
  expect(((refused as WorkflowFailedError).cause as ApplicationFailure).type).toBe('PromotionRefused');
  expect(commitsFor(relaxed)).toEqual([]);

  // Sent exactly as the policy says: it runs, and production waits for the policy's two approvers.
  const digest = testDigest();
  await raw(sent(readFileSync(policyFile, 'utf8'), digest));
  await awaitingProduction(digest);
  expect(await approve(digest, 'mallory')).toMatchObject({
    code: 1,
    stderr: 'refused: mallory is not an approver for production (eligible: alice, bob)\n',
  });
  expect((await approve(digest, 'mallory', 'alice')).stderr).toMatch(
    /^refused: signed by a key not allowed for this approver/,
  );
  expect((await approve(digest, 'alice')).code).toBe(0);
  const waiting = await stack.gantry.status('web', digest);
  expect(waiting).toMatchObject({ outcome: 'running', awaitingApproval: { environment: 'production' } });
  expect(commitsFor(digest).map((c) => c.trailers['Gantry-Environment'])).toEqual(['dev']);
  expect((await gantry('abort', 'web', digest, '--as', 'test')).code).toBe(0);
});

test('a starter racing CI to start the same digest with a relaxed pipeline gains nothing: a refused run is followed by an admitted one', async () => {
  const version = writePolicy(pipeline(TWO_OF_ALICE_AND_BOB, { signedStarts: 'optional' }));
  const mallory = starterFile('mallory-race.yaml', malloryYaml());
  const digest = testDigest();
  const startAs = (file: string) => gantry('-c', file, 'start', '--app', 'web', '--digest', digest, '--json');
  const [ci, bad] = await Promise.all([startAs(policyFile), startAs(mallory)]);
  // Whichever start reached the server first decides whether that run was admitted or refused;
  // a start that attaches to a refused run is told so (exit 2), and CI's retry gets a new run.
  expect([0, 2]).toContain(ci.code);
  expect([0, 2]).toContain(bad.code);
  if (ci.code === 2) expect((await startAs(policyFile)).code).toBe(0);
  const waiting = await awaitingProduction(digest);
  expect(waiting.policy?.digest).toBe(version);
  expect(await approve(digest, 'mallory')).toMatchObject({
    code: 1,
    stderr: 'refused: mallory is not an approver for production (eligible: alice, bob)\n',
  });
  expect(commitsFor(digest).map((c) => c.trailers['Gantry-Environment'])).toEqual(['dev']);
  expect((await gantry('abort', 'web', digest, '--as', 'test')).code).toBe(0);
});

test('a command gate in the policy runs; one sent by the starter is refused at start; one removed from the policy is refused before it runs', async () => {
  const marker = join(policyDir, 'pwned');
  const gated = (run: string) =>
    pipeline(
      {
        name: 'production',
        approval: { required: 1, from: ['alice'], signatures: 'required' },
        gates: [`command: { name: prod-smoke, run: '${run}' }`],
      },
      { signedStarts: 'optional' },
    );
  writePolicy(gated(`touch ${marker}.prod; echo prod smoke`));

  const own = testDigest();
  const run = await gantry(
    '-c',
    starterFile('own-command.yaml', gated(`touch ${marker}`)),
    'start',
    '--app',
    'web',
    '--digest',
    own,
  );
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(
    `production.gates.0.run: sent "touch ${marker}", the policy says "touch ${marker}.prod; echo prod smoke"`,
  );
  expect(existsSync(marker)).toBe(false);

  const digest = testDigest();
  expect((await gantry('-c', policyFile, 'start', '--app', 'web', '--digest', digest)).code).toBe(0);
  const waiting = await awaitingProduction(digest);
  expect(waiting.environments[0].gates).toEqual([{ name: 'smoke', passed: true, detail: `smoke ok for ${digest}` }]);
  // The platform team takes the command out of the policy while the promotion waits: it never runs.
  writePolicy(gated('echo a different smoke'));
  expect((await approve(digest, 'alice')).code).toBe(0);
  const final = await stack.gantry.result('web', digest);
  expect(final.outcome).toBe('failed');
  expect(final.environments[1].gates[0]).toMatchObject({
    name: 'prod-smoke',
    passed: false,
    detail: expect.stringMatching(
      /^refused before it ran: command "touch .*" is not one the worker's policy allows in production for web \(allowed: prod-smoke: echo a different smoke\)$/,
    ),
  });
  expect(existsSync(`${marker}.prod`)).toBe(false);
});

test('a promotion started before a policy change finishes under the policy it started with; the audit export names both versions', async () => {
  // queue: the two digests wait for production side by side (supersede would end the first).
  const v1 = writePolicy(
    pipeline(
      { name: 'production', approval: { required: 1, from: ['alice'], signatures: 'required' } },
      { signedStarts: 'optional', ordering: 'queue' },
    ),
  );
  const before = testDigest();
  expect((await gantry('-c', policyFile, 'start', '--app', 'web', '--digest', before)).code).toBe(0);
  await awaitingProduction(before);
  const v2 = writePolicy(
    pipeline(
      { name: 'production', approval: { required: 1, from: ['bob'], signatures: 'required' } },
      { signedStarts: 'optional', ordering: 'queue' },
    ),
  );
  const after = testDigest();
  // The starter's old copy is now refused; the current one is admitted.
  const stale = await gantry(
    '-c',
    starterFile(
      'v1-copy.yaml',
      pipeline(
        { name: 'production', approval: { required: 1, from: ['alice'], signatures: 'required' } },
        { signedStarts: 'optional', ordering: 'queue' },
      ),
    ),
    'start',
    '--app',
    'web',
    '--digest',
    testDigest(),
  );
  expect(stale.code).toBe(2);
  expect((await gantry('-c', policyFile, 'start', '--app', 'web', '--digest', after)).code).toBe(0);
  await awaitingProduction(after);

  expect((await approve(before, 'alice')).code).toBe(0);
  expect(await approve(after, 'alice')).toMatchObject({
    code: 1,
    stderr: 'refused: alice is not an approver for production (eligible: bob)\n',
  });
  expect((await approve(after, 'bob')).code).toBe(0);
  expect(await stack.gantry.result('web', before)).toMatchObject({ outcome: 'promoted', policy: { digest: v1 } });
  expect(await stack.gantry.result('web', after)).toMatchObject({ outcome: 'promoted', policy: { digest: v2 } });

  const rows = JSON.parse((await gantry('audit', 'export', '--json')).stdout) as ApprovalRow[];
  const mine = rows
    .filter((r) => r.digest === before || r.digest === after)
    .map((r) => [r.digest, r.approver, r.outcome, r.policy]);
  expect(mine).toEqual([
    [before, 'alice', 'accepted', v1],
    [after, 'alice', 'refused', v2],
    [after, 'bob', 'accepted', v2],
  ]);
  const table = (await gantry('audit', 'export')).stdout;
  expect(table.split('\n')[0]).toMatch(/SIGNER\s+POLICY\s+REASON$/);
  expect(table).toContain(v1.slice(0, 19));
  expect(table).toContain(v2.slice(0, 19));
});

test('who started it is proven by a signed start; self-approval is refused for the proven starter whatever --requested-by says', async () => {
  const version = writePolicy(
    pipeline(
      { name: 'production', approval: { required: 1, from: ['alice', 'bob'], signatures: 'required' } },
      starters('alice', 'ci'),
    ),
  );
  const start = (digest: string, ...args: string[]) =>
    gantry('-c', policyFile, 'start', '--app', 'web', '--digest', digest, ...args);

  const unsigned = testDigest();
  const plain = await start(unsigned, '--requested-by', 'ci');
  expect(plain).toMatchObject({
    code: 2,
    stderr: expect.stringContaining(
      "the worker's policy requires a signed start: run gantry start --as <starter> --key <its ssh key> (starters: alice, ci)",
    ),
  });
  const forged = testDigest();
  const wrongKey = await start(forged, '--as', 'ci', '--key', keys.mallory.privateKey);
  expect(wrongKey.code).toBe(2);
  expect(wrongKey.stderr).toMatch(/start signature: signed by a key not allowed for this approver \(SHA256:/);
  expect(commitsFor(unsigned)).toEqual([]);
  expect(commitsFor(forged)).toEqual([]);
  expect(await start(testDigest(), '--as', 'ci', '--key', join(policyDir, 'no-such-key'))).toMatchObject({
    code: 2,
    stderr: `gantry: cannot read the key given with --key: ${join(policyDir, 'no-such-key')}: ENOENT\n`,
  });

  const digest = testDigest();
  expect((await start(digest, '--as', 'alice', '--key', keys.alice.privateKey, '--requested-by', 'ci')).code).toBe(0);
  await awaitingProduction(digest);
  const status = await stack.gantry.status('web', digest);
  expect(status.startedBy).toEqual({
    name: 'alice',
    proof: 'signature',
    fingerprint: expect.stringMatching(/^SHA256:/),
    claimed: 'ci',
  });
  expect(status.policy).toEqual({ digest: version, source: policyFile });
  const text = (await gantry('status', 'web', digest)).stdout;
  expect(text).toContain(
    `  started:   by alice (signed start, key ${status.startedBy!.fingerprint}); --requested-by said ci`,
  );
  expect(text).toContain(`  policy:    ${version} (${policyFile})`);
  expect(await approve(digest, 'alice')).toMatchObject({
    code: 1,
    stderr: 'refused: alice started this promotion and cannot decide on it\n',
  });
  expect((await approve(digest, 'bob')).code).toBe(0);
  expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted', requestedBy: 'alice' });
});

test('abort, pause, resume and rollback are authorised by the policy: signed by an operator, unsigned only where it allows; the audit names who was proven', async () => {
  writePolicy(
    pipeline(
      { name: 'production', approval: { required: 1, from: ['alice'], signatures: 'required' } },
      {
        signedStarts: 'optional',
        operators: { carol: { keys: [keys.carol.publicKey] } },
        unsignedOperations: { pause: ['*'], resume: ['*'] },
      },
    ),
  );
  const run = (...args: string[]) => gantry('-c', policyFile, ...args);
  const digest = testDigest();
  expect((await run('start', '--app', 'web', '--digest', digest)).code).toBe(0);
  await awaitingProduction(digest);

  expect((await run('pause', 'web', digest, '--as', 'mallory')).code).toBe(0);
  expect((await run('resume', 'web', digest, '--as', 'mallory')).code).toBe(0);
  expect(await run('abort', 'web', digest, '--as', 'mallory')).toMatchObject({
    code: 1,
    stderr:
      "refused: the worker's policy requires abort in production to be signed by an operator: run gantry with --as <operator> --key <your ssh key>\n",
  });
  expect(await run('abort', 'web', digest, '--as', 'mallory', '--key', keys.mallory.privateKey)).toMatchObject({
    code: 1,
    stderr: "refused: mallory is not an operator in the worker's policy (operators: carol)\n",
  });
  expect((await run('abort', 'web', digest, '--as', 'carol', '--key', keys.mallory.privateKey)).stderr).toMatch(
    /^refused: signed by a key not allowed for this approver/,
  );
  expect(await run('rollback', 'web', '--env', 'dev', '--as', 'mallory')).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('requires rollback in dev to be signed by an operator'),
  });
  expect(
    await run('rollback', 'web', '--env', 'dev', '--as', 'carol', '--key', join(policyDir, 'no-such-key')),
  ).toMatchObject({ code: 2 });
  expect((await stack.gantry.status('web', digest)).outcome).toBe('running');

  const rolled = await run(
    'rollback',
    'web',
    '--env',
    'dev',
    '--as',
    'carol',
    '--key',
    keys.carol.privateKey,
    '--reason',
    'errors in dev',
  );
  expect(rolled.stdout).toContain(
    `accepted: rolling back dev inside the running promotion ${promotionWorkflowId('web', digest)}`,
  );
  expect((await stack.gantry.result('web', digest)).outcome).toBe('rolled-back');
  const audit = await verifyAuditFile(join(stack.dir, 'audit', 'audit.jsonl'), {
    publicKeys: [readFileSync(join(stack.dir, 'keys', 'audit-ed25519.pub.pem'))],
  });
  const operations = audit.records
    .filter((r) => r.digest === digest && r.event === 'operation')
    .map((r) => r.details as Record<string, string>);
  expect(operations.map((o) => [o.action, o.by, o.proof, o.signerFingerprint ?? ''])).toEqual([
    ['pause', 'mallory', 'claim', ''],
    ['resume', 'mallory', 'claim', ''],
    ['rollback', 'carol', 'signature', expect.stringMatching(/^SHA256:/)],
  ]);

  // A finished promotion is rolled back by a new run, admitted by the same rule.
  const promoted = testDigest();
  expect((await run('start', '--app', 'web', '--digest', promoted)).code).toBe(0);
  await awaitingProduction(promoted);
  expect((await approve(promoted, 'alice')).code).toBe(0);
  expect((await stack.gantry.result('web', promoted)).outcome).toBe('promoted');
  const unsigned = await run('rollback', 'web', '--env', 'production', '--as', 'mallory');
  expect(unsigned).toMatchObject({
    code: 1,
    stderr: expect.stringContaining(
      "refused: refused by the worker's policy: the worker's policy requires rollback in production to be signed by an operator",
    ),
  });
  expect(commitsIn(repo)[0].trailers['Gantry-Digest']).toBe(promoted);
  const signed = await run(
    'rollback',
    'web',
    '--env',
    'production',
    '--as',
    'carol',
    '--key',
    keys.carol.privateKey,
    '--wait',
  );
  expect(signed.code).toBe(0);
  expect(commitsIn(repo)[0].trailers['Gantry-Rollback-Of']).toBe(promoted);

  // The incident switch too: an unsigned freeze is refused here; carol's signed one holds, and she lifts it.
  expect(await run('freeze', '--env', 'production', '--as', 'mallory', '--reason', 'because')).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('requires freeze in production to be signed by an operator'),
  });
  expect(
    (
      await run(
        'freeze',
        '--env',
        'production',
        '--as',
        'carol',
        '--key',
        keys.carol.privateKey,
        '--reason',
        'incident 7',
      )
    ).code,
  ).toBe(0);
  const [freeze] = JSON.parse((await run('freezes', '--json')).stdout) as Array<{
    by: string;
    proof: { proof: string };
  }>;
  expect(freeze).toMatchObject({
    environment: 'production',
    by: 'carol',
    proof: { proof: 'signature', fingerprint: expect.stringMatching(/^SHA256:/) },
  });
  expect(await run('unfreeze', '--env', 'production', '--as', 'mallory')).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('requires unfreeze in production to be signed by an operator'),
  });
  expect((await run('unfreeze', '--env', 'production', '--as', 'carol', '--key', keys.carol.privateKey)).code).toBe(0);
  const records = (
    await verifyAuditFile(join(stack.dir, 'audit', 'audit.jsonl'), {
      publicKeys: [readFileSync(join(stack.dir, 'keys', 'audit-ed25519.pub.pem'))],
    })
  ).records;
  expect(
    records
      .filter((r) => r.event === 'freeze' || r.event === 'unfreeze')
      .map((r) => [
        r.event,
        r.environment,
        (r.details as Record<string, string>).by,
        (r.details as Record<string, string>).proof,
      ]),
  ).toEqual([
    ['freeze', 'production', 'carol', 'signature'],
    ['unfreeze', 'production', 'carol', 'signature'],
  ]);
});

test('a worker without a usable policy does not start', async () => {
  const missing = join(policyDir, 'nowhere', 'policy.yaml');
  const run = await gantry('worker', '--no-register-search-attributes', '--policy', missing);
  expect(run).toMatchObject({
    code: 2,
    stderr: `gantry: no usable policy (--policy, or the pipeline file -c): cannot read ${missing}: ENOENT\n`,
  });
  const broken = starterFile('broken.yaml', 'version: 1\napps: {}\n');
  expect((await gantry('worker', '--no-register-search-attributes', '--policy', broken)).code).toBe(2);
});
