// Promotions on a real Temporal dev server, driven through the gantry CLI, into a real git
// config repo, with a small app per environment that serves whatever digest its overlay names.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoApp, type DemoApp } from '../../src/demo/demoApp';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { freePort } from '../../src/local/freePort';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, testDigest, writePipeline } from '../harness/pipelineFile';
import { until } from '../harness/until';

let stack: Stack;
let repo: string;
let apps: DemoApp[];
let configFile: string;
const ENVS = ['dev', 'staging', 'production'];

beforeAll(async () => {
  stack = await startStack();
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ENVS,
  });
  apps = await Promise.all(
    ENVS.map(async (env) =>
      startDemoApp({
        bareRepo: repo,
        overlayPath: `environments/${env}`,
        imageName: 'registry.example.com/acme/web',
        port: await freePort(),
      }),
    ),
  );
  configFile = join(stack.dir, 'gantry.yaml');
  writePipeline(
    configFile,
    pipelineYaml(
      repo,
      ['web'],
      [
        { name: 'dev', healthUrl: apps[0].url },
        {
          name: 'staging',
          healthUrl: apps[1].url,
          soak: '1s',
          gates: [
            `command: { name: smoke, run: 'test "$GANTRY_ENV_URL" = "${apps[1].url}" && echo smoke ok for $GANTRY_DIGEST' }`,
          ],
        },
        { name: 'production', healthUrl: apps[2].url, approval: true },
      ],
    ),
  );
});

afterAll(async () => {
  await Promise.all((apps ?? []).map((a) => a.stop()));
  await stack?.stop();
});

const gantry = (...args: string[]) => runCli(['--config', configFile, ...args], cliEnv(stack));

const awaitingProduction = (digest: string) =>
  until('production approval', async () => {
    // The CLI may not have started it yet: an unknown promotion is not an answer yet.
    const s = await stack.gantry.status('web', digest).catch(() => undefined);
    return s?.awaitingApproval?.environment === 'production' ? s : undefined;
  });

test('a full promotion commits exactly once per environment and a second start returns the same workflow', async () => {
  const digest = testDigest();
  const first = await gantry('start', '--app', 'web', '--digest', digest, '--commit', 'abc1234', '--json');
  expect(first.code).toBe(0);
  const started = JSON.parse(first.stdout);
  expect(started).toMatchObject({
    workflowId: `promote/web/${digest}`,
    state: 'new',
    admission: { accepted: true, policy: { source: configFile } },
  });

  const again = await gantry('start', '--app', 'web', '--digest', digest, '--json');
  expect(JSON.parse(again.stdout)).toEqual({ workflowId: started.workflowId, runId: started.runId, state: 'running' });

  await awaitingProduction(digest);
  const listed = await gantry('list', '--awaiting-approval', '--app', 'web', '--json');
  expect(JSON.parse(listed.stdout)).toEqual([
    expect.objectContaining({
      workflowId: `promote/web/${digest}`,
      app: 'web',
      digest,
      stage: 'approval',
      environment: 'production',
      awaitingApproval: true,
    }),
  ]);

  const approved = await gantry(
    'approve',
    'web',
    digest,
    '--env',
    'production',
    '--as',
    'alice',
    '--comment',
    'ship it',
  );
  expect(approved).toMatchObject({ code: 0, stdout: `accepted: approved web ${digest} for production\n` });
  const watched = await gantry('watch', 'web', digest);
  expect(watched.code).toBe(0);
  expect(watched.stdout).toContain(`web ${digest.slice(0, 19)} promoted`);

  const mine = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);
  expect(mine.map((c) => c.trailers['Gantry-Environment'])).toEqual(['production', 'staging', 'dev']);
  expect(mine.every((c) => c.trailers['Gantry-Workflow'] === `promote/web/${digest}`)).toBe(true);
  for (const env of ENVS) expect(fileAt(repo, `environments/${env}/kustomization.yaml`)).toContain(`digest: ${digest}`);
  expect(fileAt(repo, 'environments/production/kustomization.yaml')).toContain(
    '# web in production: Gantry pins the image digest below.',
  );

  const status = JSON.parse((await gantry('status', 'web', digest, '--json')).stdout);
  expect(status).toMatchObject({ outcome: 'promoted', stage: 'done' });
  expect(status.environments[1].gates).toEqual([{ name: 'smoke', passed: true, detail: `smoke ok for ${digest}` }]);

  const third = await gantry('start', '--app', 'web', '--digest', digest, '--json');
  expect(JSON.parse(third.stdout)).toMatchObject({ workflowId: started.workflowId, state: 'promoted' });
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest)).toHaveLength(3);
});

test('refused decisions leave the history exactly as it was', async () => {
  const digest = testDigest();
  await gantry('start', '--app', 'web', '--digest', digest);
  await awaitingProduction(digest);
  const handle = stack.gantry.handle('web', digest);
  const before = (await handle.fetchHistory()).events?.length;

  const wrongEnv = await gantry('approve', 'web', digest, '--env', 'staging', '--as', 'alice');
  expect(wrongEnv).toMatchObject({
    code: 1,
    stderr: 'refused: not awaiting approval for staging: it is awaiting approval for production\n',
  });
  const unknown = await gantry('approve', 'web', testDigest(), '--env', 'production', '--as', 'alice');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/^refused: unknown promotion: no workflow promote\/web\/sha256:/);
  expect((await handle.fetchHistory()).events?.length).toBe(before);

  const rejected = await gantry(
    'reject',
    'web',
    digest,
    '--env',
    'production',
    '--as',
    'bob',
    '--comment',
    'not today',
  );
  expect(rejected.code).toBe(0);
  const decided = await gantry('approve', 'web', digest, '--env', 'production', '--as', 'alice');
  expect(decided.code).toBe(1);
  expect(decided.stderr).toMatch(
    /^refused: (promotion is no longer running \(failed\)|production was already decided: rejected by bob)/,
  );
  const watched = await gantry('watch', 'web', digest);
  expect(watched.code).toBe(1);
  expect(watched.stdout).toContain('rejected: production rejected by bob: not today');
});

test('a rejected digest may be promoted again, finding dev and staging already at the digest', async () => {
  const digest = testDigest();
  await gantry('start', '--app', 'web', '--digest', digest);
  await awaitingProduction(digest);
  await gantry('reject', 'web', digest, '--env', 'production', '--as', 'bob');
  expect((await stack.gantry.result('web', digest)).outcome).toBe('rejected');

  const again = await gantry('start', '--app', 'web', '--digest', digest, '--json');
  expect(JSON.parse(again.stdout).state).toBe('new');
  await awaitingProduction(digest);
  // Dev and staging already named the digest: the second run finds them there and commits nothing new.
  const commits = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);
  expect(commits.map((c) => c.trailers['Gantry-Environment'])).toEqual(['staging', 'dev']);
  const status = await stack.gantry.status('web', digest);
  expect(status.environments.slice(0, 2).map((e) => e.changed)).toEqual([false, false]);
  await gantry('abort', 'web', digest, '--as', 'carol', '--reason', 'superseded');
  expect(await stack.gantry.result('web', digest)).toMatchObject({
    outcome: 'aborted',
    reason: 'aborted by carol: superseded',
  });
});

test('pause holds the promotion before its next stage until resumed; abort ends it', async () => {
  const digest = testDigest();
  await gantry('start', '--app', 'web', '--digest', digest);
  expect((await gantry('pause', 'web', digest, '--as', 'ops')).code).toBe(0);
  expect((await gantry('pause', 'web', digest, '--as', 'ops')).stderr).toBe('refused: promotion is already paused\n');
  const held = await until('pause to hold', async () => {
    const s = await stack.gantry.status('web', digest);
    return s.paused && s.waitingFor?.startsWith('paused') ? s : undefined;
  });
  await new Promise((r) => setTimeout(r, 1500));
  const still = await stack.gantry.status('web', digest);
  expect(still.timings.length).toBe(held.timings.length);
  expect((await gantry('resume', 'web', digest, '--as', 'ops')).code).toBe(0);
  await awaitingProduction(digest);
  const aborted = await gantry('abort', 'web', digest, '--as', 'ops');
  expect(aborted.code).toBe(0);
  const final = await stack.gantry.result('web', digest);
  expect(final).toMatchObject({ outcome: 'aborted', reason: 'aborted by ops' });
});

test('bad input is refused with exit 2 and starts nothing', async () => {
  const badDigest = await gantry('start', '--app', 'web', '--digest', 'sha256:1234');
  expect(badDigest).toMatchObject({ code: 2, stderr: 'gantry: digest must be sha256:<64 lowercase hex characters>\n' });
  const unknownApp = await gantry('start', '--app', 'nope', '--digest', testDigest());
  expect(unknownApp).toMatchObject({ code: 2, stderr: 'gantry: unknown app "nope" (gantry.yaml defines: web)\n' });
  const broken = join(stack.dir, 'broken.yaml');
  writeFileSync(
    broken,
    'version: 1\napps:\n  web:\n    image: x/web\nenvironments:\n  - name: dev\n    deploy:\n      gitops: {}\n',
  );
  const invalid = await runCli(['--config', broken, 'start', '--app', 'web', '--digest', testDigest()], cliEnv(stack));
  expect(invalid.code).toBe(2);
  expect(invalid.stderr).toContain(`${broken}:8: environments[0].deploy.gitops.path: required`);
  expect((await stack.gantry.list({ app: 'nope' })).length).toBe(0);
  const missingFlag = await gantry('approve', 'web', testDigest(), '--as', 'x');
  expect(missingFlag.code).toBe(2);
  expect(missingFlag.stderr).toContain("required option '--env <environment>' not specified");
});

test('start --wait prints each stage, the approve command, and exits 0 once promoted; activities are labelled for the UI', async () => {
  const digest = testDigest();
  const waiting = gantry('start', '--app', 'web', '--digest', digest, '--wait');
  await awaitingProduction(digest);
  await gantry('approve', 'web', digest, '--env', 'production', '--as', 'alice');
  const done = await waiting;
  expect(done.code).toBe(0);
  const lines = done.stdout.split('\n');
  expect(lines[0]).toBe(`started promotion promote/web/${digest}`);
  for (const stage of [
    'verify',
    'deploy dev',
    'health dev',
    'deploy staging',
    'health staging',
    'gates staging',
    'soak staging',
    'approval production',
    'deploy production',
    'health production',
  ]) {
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✓ ${stage} \\(\\d+(ms|s)\\)$`)));
  }
  expect(done.stdout).toContain(
    `  gantry approve web ${digest} --env production --as <your-name> --key <your ssh key>`,
  );
  expect(lines).toContain(`web ${digest.slice(0, 19)} promoted`);

  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const summaries = await Promise.all(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => stack.decode(e.userMetadata!.summary!)),
  );
  const short = digest.slice(0, 19);
  expect(summaries).toEqual([
    `verify ${short}`,
    `deploy dev ${short}`,
    `health dev ${short}`,
    `deploy staging ${short}`,
    `health staging ${short}`,
    `gate smoke staging ${short}`,
    `deploy production ${short}`,
    `health production ${short}`,
  ]);
});

test('gantry rollback of a running promotion reverts the environment in place and ends it rolled back', async () => {
  const before = testDigest();
  await gantry('start', '--app', 'web', '--digest', before);
  await awaitingProduction(before);
  await gantry('approve', 'web', before, '--env', 'production', '--as', 'alice');
  expect((await stack.gantry.result('web', before)).outcome).toBe('promoted');
  const digest = testDigest();
  await gantry('start', '--app', 'web', '--digest', digest);
  await awaitingProduction(digest);
  expect(
    readKustomizeDigest(fileAt(repo, 'environments/staging/kustomization.yaml'), 'registry.example.com/acme/web'),
  ).toBe(digest);

  const rolled = await gantry(
    'rollback',
    'web',
    '--env',
    'staging',
    '--as',
    'ops',
    '--reason',
    'error budget',
    '--wait',
  );
  expect(rolled.stdout).toContain(`accepted: rolling back staging inside the running promotion promote/web/${digest}`);
  expect(rolled.code).toBe(0);
  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({
    outcome: 'rolled-back',
    reason: `staging rolled back to ${before.slice(0, 19)}: by ops: error budget`,
  });
  expect(result.environments.map((e) => e.state)).toEqual(['promoted', 'rolled-back', 'awaiting-approval']);
  expect(
    readKustomizeDigest(fileAt(repo, 'environments/staging/kustomization.yaml'), 'registry.example.com/acme/web'),
  ).toBe(before);
  expect(commitsIn(repo)[0]).toMatchObject({
    subject: `roll back web in staging to ${before.slice(0, 19)}`,
    trailers: expect.objectContaining({ 'Gantry-Rollback-Of': digest }),
  });
});
