// The incident switch and the audit trail on a real dev server, through the CLI: a manual freeze
// holds promotions (visible in the queue), a signed override lets one through, unfreeze wakes the
// rest at once; `gantry audit verify` and `export` answer who approved what; a dead webhook never
// holds a promotion.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { commitsIn } from '../harness/gitInspect';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, testDigest, writePipeline } from '../harness/pipelineFile';
import { until } from '../harness/until';

const keys = makeApproverKeys(['alice', 'bob']);
let stack: Stack;
let repo: string;
let configFile: string;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'freeze' });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['staging', 'production'],
  });
  configFile = join(stack.dir, 'gantry.yaml');
  // The webhook points at a closed port: notifications fail, promotions must not care.
  writePipeline(
    configFile,
    pipelineYaml(
      repo,
      ['web'],
      [{ name: 'staging' }, { name: 'production', approval: { from: ['alice', 'bob'], signatures: 'required' } }],
      {
        ...approversSettings(keys),
        notifications: { webhook: { url: 'http://127.0.0.1:9/dead' } },
        ordering: 'queue',
      },
    ),
  );
});
afterAll(async () => {
  await stack?.stop();
});

const gantry = (...args: string[]) =>
  runCli(['--config', configFile, ...args], { ...cliEnv(stack), GANTRY_DATA_DIR: stack.dir });

const frozenAt = (digest: string) =>
  until(`${digest} to wait on the freeze`, async () =>
    (await stack.gantry.status('web', digest)).frozen ? true : undefined,
  );
const approveAs = (digest: string, who: 'alice' | 'bob') =>
  gantry(
    'approve',
    'web',
    digest,
    '--env',
    'production',
    '--as',
    who,
    '--key',
    keys[who].privateKey,
    '--comment',
    `ok from ${who}`,
  );

test('freeze holds promotions before production; a signed override lets one through; unfreeze releases the rest', async () => {
  expect(await gantry('freeze', '--env', 'production', '--as', 'oncall', '--reason', 'incident 4711')).toMatchObject({
    code: 0,
    stdout: 'frozen: production (incident 4711)\n',
  });
  expect(JSON.parse((await gantry('freezes', '--json')).stdout)).toEqual([
    {
      environment: 'production',
      by: 'oncall',
      reason: 'incident 4711',
      at: expect.any(String),
      proof: { proof: 'claim' },
    },
  ]);

  const [hotfix, regular] = [testDigest(), testDigest()];
  for (const d of [hotfix, regular]) expect((await gantry('start', '--app', 'web', '--digest', d)).code).toBe(0);
  for (const d of [hotfix, regular]) {
    await until('production approval', async () =>
      (await stack.gantry.status('web', d)).awaitingApproval ? true : undefined,
    );
    expect((await approveAs(d, 'alice')).code).toBe(0);
  }
  await frozenAt(hotfix);
  await frozenAt(regular);
  const status = JSON.parse((await gantry('status', 'web', hotfix, '--json')).stdout);
  expect(status).toMatchObject({
    stage: 'freeze',
    environment: 'production',
    frozen: { window: 'manual', reason: 'frozen by oncall: incident 4711' },
    waitingFor: 'production is frozen (manual: frozen by oncall: incident 4711)',
  });
  const queue = JSON.parse((await gantry('list', '--running', '--json')).stdout) as Array<{
    digest: string;
    stage: string;
  }>;
  expect(queue.filter((p) => [hotfix, regular].includes(p.digest)).map((p) => p.stage)).toEqual(['freeze', 'freeze']);

  const unsigned = await gantry(
    'override-freeze',
    'web',
    hotfix,
    '--env',
    'production',
    '--as',
    'alice',
    '--reason',
    'fixes the incident',
    '--key',
    keys.bob.privateKey,
  );
  expect(unsigned.code).toBe(1);
  expect(unsigned.stderr).toMatch(/^refused: signed by a key not allowed for this approver/);
  const override = await gantry(
    'override-freeze',
    'web',
    hotfix,
    '--env',
    'production',
    '--as',
    'alice',
    '--reason',
    'fixes the incident',
    '--key',
    keys.alice.privateKey,
  );
  expect(override).toMatchObject({ code: 0 });
  expect((await stack.gantry.result('web', hotfix)).outcome).toBe('promoted');
  expect((await stack.gantry.status('web', regular)).frozen).toBeDefined();

  const unfrozen = await gantry('unfreeze', '--env', 'production', '--as', 'oncall');
  expect(unfrozen).toMatchObject({ code: 0, stdout: 'unfrozen: production (1 waiting promotions resumed)\n' });
  const started = Date.now();
  expect((await stack.gantry.result('web', regular)).outcome).toBe('promoted');
  expect(Date.now() - started).toBeLessThan(30_000); // woken at once, not at the next minute's check
  expect(await gantry('unfreeze', '--env', 'production', '--as', 'oncall')).toMatchObject({
    code: 1,
    stderr: 'refused: production is not frozen\n',
  });
  expect(
    commitsIn(repo)
      .filter((c) => c.trailers['Gantry-Environment'] === 'production')
      .map((c) => c.trailers['Gantry-Digest']),
  ).toEqual([regular, hotfix]);
});

test('the audit log answers who approved what, and `audit verify` names a tampered record', async () => {
  const digest = testDigest();
  await gantry('start', '--app', 'web', '--digest', digest, '--requested-by', 'ci-bot');
  await until('production approval', async () =>
    (await stack.gantry.status('web', digest)).awaitingApproval ? true : undefined,
  );
  expect((await approveAs(digest, 'bob')).code).toBe(0);
  expect((await stack.gantry.result('web', digest)).outcome).toBe('promoted');

  expect(await gantry('audit', 'verify', '--data-dir', stack.dir)).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/^audit log ok: \d+ records, chain and signatures verified/),
  });
  const exported = JSON.parse(
    (await gantry('audit', 'export', '--data-dir', stack.dir, '--env', 'production', '--since', '2026-01-01', '--json'))
      .stdout,
  ) as Array<Record<string, unknown>>;
  expect(exported.filter((r) => r.digest === digest)).toEqual([
    expect.objectContaining({
      environment: 'production',
      app: 'web',
      approver: 'bob',
      decision: 'approve',
      outcome: 'accepted',
      signerFingerprint: expect.stringMatching(/^SHA256:/),
      comment: 'ok from bob',
    }),
  ]);
  const table = await gantry('audit', 'export', '--data-dir', stack.dir, '--env', 'production');
  expect(table.stdout).toContain('bob');

  const file = join(stack.dir, 'audit', 'audit.jsonl');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const edited = lines.map((l, i) => (i === 3 ? l.replace(/"event":"(\w+)"/, '"event":"$1-edited"') : l));
  writeFileSync(file, `${edited.join('\n')}\n`);
  const verify = await gantry('audit', 'verify', '--data-dir', stack.dir);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toMatch(/^line 4 \(seq 4\): edited: /m);
  writeFileSync(file, `${lines.join('\n')}\n`);
  appendFileSync(file, '');
  expect((await gantry('audit', 'verify', '--data-dir', stack.dir)).code).toBe(0);
});
