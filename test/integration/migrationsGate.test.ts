// The migrations gate on real parts: the app's migrations come from its git repository at the
// promotion's source commit, PostgreSQL says which are applied, and a migration command applies
// the rest. Safe migrations go through at once; destructive ones wait for a person, with the
// statements in status, webhook and audit, and nothing is migrated or deployed before.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { commitsIn } from '../harness/gitInspect';
import { MIGRATE_SCRIPT, startPostgres, type Postgres } from '../harness/migrationsPostgres';
import { pipelineYaml, testDigest, writePipeline } from '../harness/pipelineFile';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhookReceiver';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { until } from '../harness/until';
import { activityRuns } from '../harness/activityRuns';
import { startWorkerProcess } from '../harness/workerProcess';

let stack: Stack;
let pg: Postgres;
let webhook: WebhookReceiver;
let configRepo: string;
let appRepo: string;
let work: string;
const savedUrl = process.env.DEV_DATABASE_URL;
const keys = makeApproverKeys(['alice', 'bob']);

beforeAll(async () => {
  [stack, pg, webhook] = await Promise.all([
    startStack({ taskQueue: 'migrations' }),
    startPostgres(),
    startWebhookReceiver(),
  ]);
  // The worker's own setting: the database URL never travels in the workflow input.
  process.env.DEV_DATABASE_URL = pg.url;
  configRepo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev'],
  });
  appRepo = join(stack.dir, 'web-app.git');
  work = join(stack.dir, 'web-app');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', appRepo]);
  execFileSync('git', ['clone', '--quiet', appRepo, work]);
  mkdirSync(join(work, 'db', 'migrations'), { recursive: true });
  writeFileSync(join(stack.dir, 'migrate.sh'), MIGRATE_SCRIPT);
});
afterAll(async () => {
  process.env.DEV_DATABASE_URL = savedUrl;
  await Promise.all([stack?.stop(), pg?.stop(), webhook?.stop()]);
});

/** Commits migration files to the app repo, as a developer would; returns the commit (what CI passes as --commit). */
function commitMigrations(files: Record<string, string>): string {
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(work, 'db', 'migrations', name), sql);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', work, '-c', 'user.name=dev', '-c', 'user.email=dev@example.com', ...args])
      .toString()
      .trim();
  git('add', '.');
  git('commit', '--quiet', '-m', `migrations ${Object.keys(files).join(', ')}`);
  git('push', '--quiet', 'origin', 'HEAD:main');
  return git('rev-parse', 'HEAD');
}

function yaml(run = `bash ${join(stack.dir, 'migrate.sh')}`, timeout = '1m', required = 1, taskQueue?: string): string {
  const settings = {
    migrations: {
      source: { repo: appRepo, path: 'db/migrations' },
      database: { urlFrom: 'DEV_DATABASE_URL' },
      run: { command: run, timeout },
    },
    destructiveMigrations: { approval: { from: ['alice', 'bob'], required, expiresIn: '1h' } },
  };
  return pipelineYaml(configRepo, ['web'], [{ name: 'dev', settings, ...(taskQueue ? { taskQueue } : {}) }], {
    ...approversSettings(keys),
    notifications: { webhook: { url: webhook.url } },
  });
}

async function start(commit: string, pipeline = yaml()): Promise<string> {
  const digest = testDigest();
  // The pipeline is the in-process worker's policy too, as `gantry worker -c` takes it.
  writePipeline(join(stack.dir, 'gantry.yaml'), pipeline);
  await stack.gantry.start(
    resolvePromotion(parseConfig(pipeline, 'gantry.yaml', stack.dir), {
      app: 'web',
      digest,
      commit,
      requestedBy: 'ci',
    }),
  );
  return digest;
}

const columns = () =>
  pg.psql(
    "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'",
  );
const deployed = (digest: string) => commitsIn(configRepo).filter((c) => c.trailers['Gantry-Digest'] === digest);
const auditOf = (digest: string) =>
  readFileSync(join(stack.dir, 'audit', 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { digest: string; event: string; details: Record<string, unknown> })
    .filter((r) => r.digest === digest);

test('safe migrations are applied before the deploy without waiting for anyone', async () => {
  const commit = commitMigrations({
    'V1__create_users.sql': 'CREATE TABLE users (id bigserial PRIMARY KEY, name text, nickname text);',
    'V2__add_email.sql': 'ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);',
  });
  const digest = await start(commit);
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].migrations).toEqual({
    applied: 0,
    pending: ['db/migrations/V1__create_users.sql', 'db/migrations/V2__add_email.sql'],
    destructive: [],
    state: 'applied',
  });
  expect(result.decisions).toEqual([]);
  expect(await columns()).toBe('email,id,name,nickname');
  expect(await pg.psql('SELECT max(version) FROM schema_migrations')).toBe('2');
  expect(deployed(digest)).toHaveLength(1);
  expect(auditOf(digest).find((r) => r.event === 'migrations-applied')?.details).toMatchObject({
    ran: true,
    from: 0,
    to: 2,
  });
});

test('a destructive migration waits for approval, showing its statements; nothing is migrated or deployed until then', async () => {
  const commit = commitMigrations({
    'V3__drop_nickname.sql':
      '-- nobody reads it any more\nALTER TABLE users DROP COLUMN nickname;\nCREATE TABLE orders (id bigserial PRIMARY KEY);',
  });
  const digest = await start(commit);
  const destructive = [
    {
      file: 'db/migrations/V3__drop_nickname.sql',
      sql: '-- nobody reads it any more\nALTER TABLE users DROP COLUMN nickname',
      reason: 'drops column users.nickname',
    },
  ];
  const waiting = await until('the migrations approval', async () => {
    const s = await stack.gantry.status('web', digest);
    return s.environments[0].migrations?.state === 'awaiting-approval' ? s : undefined;
  });
  expect(waiting).toMatchObject({
    stage: 'migrations',
    environment: 'dev',
    waitingFor: expect.stringMatching(/^approval of destructive migrations for dev \(1 needed; expires /),
  });
  expect(waiting.environments[0].migrations).toEqual({
    applied: 2,
    pending: ['db/migrations/V3__drop_nickname.sql'],
    destructive,
    state: 'awaiting-approval',
  });
  const hook = await until('the webhook', async () =>
    webhook.received.find(
      (m) => m.gantry.event === 'awaiting-migrations-approval' && m.text.includes(digest.slice(7, 19)),
    ),
  );
  expect(hook.text).toContain(
    '• db/migrations/V3__drop_nickname.sql: -- nobody reads it any more\nALTER TABLE users DROP COLUMN nickname (drops column users.nickname)',
  );
  expect(auditOf(digest).find((r) => r.event === 'migrations-planned')?.details).toEqual({
    commit,
    applied: 2,
    pending: ['db/migrations/V3__drop_nickname.sql'],
    destructive,
  });
  const shown = await runCli(['status', 'web', digest], cliEnv(stack));
  expect(shown.stdout).toContain(
    'migrations awaiting-approval (1 pending, 1 destructive)\n        db/migrations/V3__drop_nickname.sql: -- nobody reads it any more ALTER TABLE users DROP COLUMN nickname  [drops column users.nickname]\n',
  );
  // Listed as awaiting a decision, as an environment approval is (the GantryAwaitingApproval search attribute).
  await until('listed as awaiting approval', async () =>
    (await stack.gantry.list({ awaitingApproval: true })).find((r) => r.digest === digest),
  );
  // Held: the column is still there and dev still runs the previous digest.
  expect(await columns()).toBe('email,id,name,nickname');
  expect(deployed(digest)).toHaveLength(0);

  const handle = stack.gantry.handle('web', digest);
  // The promotion's starter may not approve; someone not eligible may not either.
  await expect(
    handle.executeUpdate('approveMigrations', { args: [{ environment: 'dev', by: 'ci' }] }),
  ).resolves.toMatchObject({
    accepted: false,
    reason: 'ci is not an approver for dev:migrations (eligible: alice, bob)',
  });
  await expect(
    handle.executeUpdate('approveMigrations', { args: [{ environment: 'staging', by: 'alice' }] }),
  ).rejects.toMatchObject({
    cause: { message: 'not awaiting approval of migrations for staging: it is awaiting dev' },
  });
  // Signatures are required (the default): an unsigned decision is refused and recorded.
  await expect(
    handle.executeUpdate('approveMigrations', { args: [{ environment: 'dev', by: 'alice' }] }),
  ).resolves.toMatchObject({
    accepted: false,
    reason: 'dev:migrations requires a signed decision: run gantry with --key <your ssh ed25519 key>',
  });
  // An environment approval signed by alice is no migrations approval.
  expect(
    await runCli(
      ['approve', 'web', digest, '--env', 'dev', '--as', 'alice', '--key', keys.alice.privateKey],
      cliEnv(stack),
    ),
  ).toMatchObject({ code: 1, stderr: expect.stringContaining('refused: not awaiting approval for dev') });
  expect(
    await runCli(
      [
        'approve-migrations',
        'web',
        digest,
        '--env',
        'dev',
        '--as',
        'alice',
        '--key',
        keys.alice.privateKey,
        '--comment',
        'column unused since 2.3',
      ],
      cliEnv(stack),
    ),
  ).toEqual({
    code: 0,
    stdout: `accepted: approved the destructive migrations of web ${digest} for dev\n`,
    stderr: '',
  });

  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].migrations).toMatchObject({ state: 'applied', approvedBy: ['alice'] });
  expect(await columns()).toBe('email,id,name');
  expect(deployed(digest)).toHaveLength(1);
  await until('no longer listed as awaiting approval', async () =>
    (await stack.gantry.list({ app: 'web' })).find((r) => r.digest === digest && !r.awaitingApproval),
  );
  expect(
    auditOf(digest)
      .filter((r) => r.event === 'approval-accepted')
      .map((r) => r.details),
  ).toEqual([
    {
      approver: 'alice',
      decision: 'approve-migrations',
      via: 'update',
      statements: destructive,
      signerFingerprint: expect.stringMatching(/^SHA256:/),
      comment: 'column unused since 2.3',
    },
  ]);
});

test('a rejected destructive migration ends the promotion: nothing migrated, nothing deployed', async () => {
  const commit = commitMigrations({ 'V4__truncate_orders.sql': 'TRUNCATE orders;' });
  const digest = await start(commit);
  await until('the migrations approval', async () =>
    (await stack.gantry.status('web', digest)).environments[0].migrations?.state === 'awaiting-approval'
      ? true
      : undefined,
  );
  const rejected = await runCli(
    [
      'reject-migrations',
      'web',
      digest,
      '--env',
      'dev',
      '--as',
      'bob',
      '--key',
      keys.bob.privateKey,
      '--comment',
      'orders are billed from it',
    ],
    cliEnv(stack),
  );
  expect(rejected).toMatchObject({ code: 0 });
  const result: PromotionStatus = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({
    outcome: 'rejected',
    reason: 'destructive migrations for dev rejected by bob: orders are billed from it',
  });
  expect(result.environments[0].migrations?.state).toBe('rejected');
  expect(await pg.psql('SELECT max(version) FROM schema_migrations')).toBe('3');
  expect(deployed(digest)).toHaveLength(0);
});

test('a migration command that outlives its timeout is killed and fails the promotion before the deploy', async () => {
  // The rejected V4 was dealt with by hand; V5 is the only one pending.
  await pg.psql('INSERT INTO schema_migrations (version) VALUES (4)');
  const commit = commitMigrations({ 'V5__add_orders_note.sql': 'ALTER TABLE orders ADD COLUMN note text;' });
  const started = Date.now();
  const digest = await start(commit, yaml('sleep 60', '2s'));
  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'migrations',
    reason: 'migrations dev failed: migration command timed out after 2s (database at version 4): ',
  });
  expect(result.environments[0].migrations).toMatchObject({
    pending: ['db/migrations/V5__add_orders_note.sql'],
    destructive: [],
    state: 'safe',
  });
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(deployed(digest)).toHaveLength(0);
});

test('two approvers deciding at once both count; the same person twice counts once', async () => {
  const commit = commitMigrations({ 'V6__drop_email_index.sql': 'DROP INDEX users_email;' });
  const digest = await start(commit, yaml(undefined, undefined, 2));
  await until('the migrations approval', async () =>
    (await stack.gantry.status('web', digest)).environments[0].migrations?.state === 'awaiting-approval'
      ? true
      : undefined,
  );
  const approve = (who: 'alice' | 'bob') =>
    runCli(
      ['approve-migrations', 'web', digest, '--env', 'dev', '--as', who, '--key', keys[who].privateKey],
      cliEnv(stack),
    );
  const answers = await Promise.all([approve('alice'), approve('alice'), approve('bob')]);
  // One of alice's two is refused (which one, and whether before or after bob settled it, depends on arrival); bob's counts.
  expect(answers.map((a) => a.code).sort()).toEqual([0, 0, 1]);
  expect(answers.find((a) => a.code === 1)?.stderr).toMatch(
    /^refused: (alice already approved dev:migrations|migrations for dev were already decided)\n$/,
  );
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  expect([...(result.environments[0].migrations?.approvedBy ?? [])].sort()).toEqual(['alice', 'bob']);
  expect(await pg.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email'")).toBe('0');
  expect(deployed(digest)).toHaveLength(1);
});

test("on an environment with its own task queue, migrations are planned and applied by that queue's worker", async () => {
  const commit = commitMigrations({ 'V7__create_invoices.sql': 'CREATE TABLE invoices (id bigserial PRIMARY KEY);' });
  // The worker inside dev, holding the database URL (DEV_DATABASE_URL, inherited from this process).
  const child = await startWorkerProcess(stack, ['--task-queue', 'migrations-dev', '--identity', 'dev-worker'], {
    GANTRY_DATA_DIR: join(stack.dir, 'dev-worker-data'),
  });
  try {
    const digest = await start(commit, yaml(undefined, undefined, 1, 'migrations-dev'));
    expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });
    expect(await pg.psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'invoices'")).toBe('1');
    const runs = activityRuns(await stack.gantry.handle('web', digest).fetchHistory());
    const migrations = runs.filter((r) => r.activityType === 'planMigrations' || r.activityType === 'applyMigrations');
    expect(migrations.map((r) => r.activityType)).toEqual(['planMigrations', 'applyMigrations']);
    for (const r of migrations)
      expect(r).toMatchObject({ taskQueue: 'migrations-dev', startedBy: 'dev-worker', completedBy: 'dev-worker' });
  } finally {
    child.kill('SIGTERM');
  }
});

test('a promotion through a migrations gate must name its source commit', () => {
  expect(() =>
    resolvePromotion(parseConfig(yaml(), 'gantry.yaml', stack.dir), {
      app: 'web',
      digest: testDigest(),
      requestedBy: 'ci',
    }),
  ).toThrow(
    'dev has a migrations gate: start with --commit <the source commit the image was built from>, where its migrations are read',
  );
});
