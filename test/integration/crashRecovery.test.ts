// Crashes of real processes: a worker SIGKILLed in the middle of a deploy, and the Temporal dev
// server killed while a promotion waits for approval. Neither loses the promotion or deploys twice.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { commitsIn } from '../harness/gitInspect';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { untilTrue } from '../harness/until';
import { startWorkerProcess } from '../harness/workerProcess';

const IMAGE = 'registry.example.com/acme/web';

describe('a worker SIGKILLed during a deploy', () => {
  let stack: Stack;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    stack = await startStack({ taskQueue: 'crash-worker', worker: false });
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await stack?.stop();
  });

  test('the promotion completes on a new worker with exactly one commit per environment; a rollback then returns to the true previous digest', async () => {
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
      environments: ['dev', 'staging'],
    });
    const yaml = pipelineYaml(repo, ['web'], [{ name: 'dev' }, { name: 'staging' }]);
    workers.push(await startWorkerProcess(stack));
    // What dev and staging ran before: the digest a rollback must return to.
    const older = testDigest();
    await stack.gantry.start(promotionInput(yaml, 'web', older));
    expect((await stack.gantry.result('web', older)).outcome).toBe('promoted');

    // The next push to reach the repo stalls for a few seconds: the worker is killed while it waits.
    const marker = join(stack.dir, 'push-started');
    const hook = join(repo, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -e '${marker}' ]; then touch '${marker}'; sleep 4; fi\nexit 0\n`);
    chmodSync(hook, 0o755);
    const digest = testDigest();
    await stack.gantry.start(promotionInput(yaml, 'web', digest));
    await untilTrue('the deploy to reach git push', () => existsSync(marker));
    workers[0].kill('SIGKILL');

    workers.push(await startWorkerProcess(stack));
    const result = await stack.gantry.result('web', digest);
    expect(result.outcome).toBe('promoted');
    const mine = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);
    expect(mine.map((c) => c.trailers['Gantry-Environment'])).toEqual(['staging', 'dev']);
    // The retried deploy found the digest already pushed by the killed attempt and wrote nothing;
    // what dev ran before still comes from the record of promotions, not from what the retry saw.
    expect(result.environments[0]).toMatchObject({
      name: 'dev',
      changed: false,
      commit: mine[1].sha,
      previousDigest: older,
    });

    const configFile = join(stack.dir, 'gantry.yaml');
    writeFileSync(configFile, yaml);
    const rolledBack = await runCli(
      ['--config', configFile, 'rollback', 'web', '--env', 'dev', '--as', 'oncall', '--reason', 'bad build', '--wait'],
      cliEnv(stack),
    );
    expect(rolledBack.stdout).toContain(`puts dev back on ${older}`);
    expect(rolledBack.code).toBe(0);
    const revert = commitsIn(repo)[0];
    expect(revert.trailers).toMatchObject({
      'Gantry-Environment': 'dev',
      'Gantry-Digest': older,
      'Gantry-Rollback-Of': digest,
    });

    const history = await stack.gantry.handle('web', digest).fetchHistory();
    const deployAttempts = history.events?.filter(
      (e) => e.activityTaskStartedEventAttributes?.attempt && e.activityTaskStartedEventAttributes.attempt > 1,
    );
    expect(deployAttempts?.length).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe('the Temporal dev server killed while a promotion waits for approval', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ taskQueue: 'crash-server' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('comes back from its SQLite file; the approval is accepted and the promotion completes', async () => {
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
      environments: ['dev', 'production'],
    });
    const digest = testDigest();
    await stack.gantry.start(
      promotionInput(
        pipelineYaml(repo, ['web'], [{ name: 'dev' }, { name: 'production', approval: true }]),
        'web',
        digest,
      ),
    );
    await untilTrue(
      'the production approval',
      async () => (await stack.gantry.status('web', digest)).awaitingApproval !== undefined,
    );

    await stack.restartServer(true);

    // While the server restarts the status query fails: that is not an answer yet.
    await untilTrue(
      'the promotion to answer again',
      async () => (await stack.gantry.status('web', digest)).awaitingApproval?.environment === 'production',
    );
    const answer = await stack.gantry.decide('approve', 'web', digest, { environment: 'production', by: 'alice' });
    expect(answer.accepted).toBe(true);
    const result = await stack.gantry.result('web', digest);
    expect(result.outcome).toBe('promoted');
    expect(
      commitsIn(repo)
        .filter((c) => c.trailers['Gantry-Digest'] === digest)
        .map((c) => c.trailers['Gantry-Environment']),
    ).toEqual(['production', 'dev']);
  }, 120_000);
});
