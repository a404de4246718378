// environments[].taskQueue: the workflow stays on the main queue, every activity touching
// production runs on a worker polling production's queue (proved from history: the worker
// identity of each activity), `gantry status` names a queue nobody polls, `gantry validate` checks it.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { activityRuns } from '../harness/activityRuns';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { startWorkerProcess } from '../harness/workerProcess';

let stack: Stack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // Unencrypted: the test reads each activity's environment from its input in history.
  stack = await startStack({ taskQueue: 'tq-main', codecKeys: '' });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stack?.stop();
});

async function startProductionWorker(): Promise<ChildProcess> {
  const child = await startWorkerProcess(stack, ['--task-queue', 'tq-production', '--identity', 'production-worker'], {
    GANTRY_DATA_DIR: join(stack.dir, 'production-data'),
  });
  children.push(child);
  return child;
}

test("production's activities wait for a worker on its queue, `gantry status` says so, and run only there", async () => {
  const repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'production'],
  });
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [
      { name: 'dev', gates: ["command: { name: smoke, run: 'true' }"] },
      { name: 'production', taskQueue: 'tq-production', gates: ["command: { name: smoke, run: 'true' }"] },
    ],
  );
  const digest = testDigest();
  await stack.gantry.start(promotionInput(yaml, 'web', digest));

  // Dev is done by the main worker; production's deploy waits on tq-production, which nobody polls.
  const deadline = Date.now() + 60_000;
  let status = await runCli(['status', 'web', digest], cliEnv(stack));
  while (!status.stdout.includes('no worker polls task queue tq-production') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    status = await runCli(['status', 'web', digest], cliEnv(stack));
  }
  expect(status).toMatchObject({ code: 0 });
  expect(status.stdout).toContain(
    "no worker polls task queue tq-production: production's activities wait for one (start it inside production: gantry worker --task-queue tq-production)",
  );
  const json = JSON.parse((await runCli(['status', 'web', digest, '--json'], cliEnv(stack))).stdout) as {
    unpolledTaskQueues: unknown[];
  };
  expect(json.unpolledTaskQueues).toEqual([{ environment: 'production', taskQueue: 'tq-production' }]);
  expect(commitsIn(repo).map((c) => c.trailers['Gantry-Environment'])).toEqual(['dev']);

  await startProductionWorker();
  expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });
  expect(commitsIn(repo).map((c) => c.trailers['Gantry-Environment'])).toEqual(['production', 'dev']);
  expect((await runCli(['status', 'web', digest], cliEnv(stack))).stdout).not.toContain('no worker polls');

  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const started = history.events?.find(
    (e) => e.workflowExecutionStartedEventAttributes,
  )?.workflowExecutionStartedEventAttributes;
  expect(started?.taskQueue?.name).toBe('tq-main');
  const runs = activityRuns(history);
  const production = runs.filter((r) => r.environment === 'production');
  expect(production.map((r) => r.activityType).sort()).toEqual(['deploy', 'runGate']);
  for (const r of production)
    expect(r).toMatchObject({
      taskQueue: 'tq-production',
      startedBy: 'production-worker',
      completedBy: 'production-worker',
    });
  const elsewhere = runs.filter((r) => r.environment !== 'production');
  expect(elsewhere.map((r) => r.activityType)).toEqual(expect.arrayContaining(['verifyArtifact', 'deploy', 'runGate']));
  for (const r of elsewhere) expect(r.taskQueue).toBe('tq-main');
  for (const r of elsewhere) expect(r.startedBy).not.toBe('production-worker');
}, 180_000);

test("gantry validate shows each environment's queue and rejects a malformed one, naming the field and line", async () => {
  const repo = 'file:///nowhere.git';
  const good = join(stack.dir, 'good.yaml');
  writeFileSync(
    good,
    pipelineYaml(repo, ['web'], [{ name: 'dev' }, { name: 'production', taskQueue: 'gantry-production' }]),
  );
  expect(await runCli(['--config', good, 'validate'])).toMatchObject({
    code: 0,
    stdout: `${good} is valid: web (dev → production [task queue gantry-production])\n`,
  });
  const bad = join(stack.dir, 'bad.yaml');
  const text = pipelineYaml(repo, ['web'], [{ name: 'dev' }, { name: 'production', taskQueue: '"gantry production"' }]);
  writeFileSync(bad, text);
  const line = text.split('\n').findIndex((l) => l.includes('taskQueue:')) + 1;
  const result = await runCli(['--config', bad, 'validate']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`${bad}:${line}: environments[1].taskQueue: "gantry production" does not match`);
});
