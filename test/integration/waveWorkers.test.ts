// A production of three gitops targets, each with its own worker on its own task queue (as a
// worker inside each cluster), on a real dev server and a real config repo: no target's activity
// runs on another target's worker; the worker of a wave-2 target is killed during its health check
// and its replacement finishes the target without a second deploy; a freeze of one target holds it
// until `gantry unfreeze` wakes it; the GantryWave search attribute lists the promotion by its wave.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { activityRuns } from '../harness/activityRuns';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { pipelineText, promotionInput, testDigest, writePipeline } from '../harness/pipelineFile';
import { until } from '../harness/until';
import { startWorkerProcess } from '../harness/workerProcess';

jest.setTimeout(240_000);

const IMAGE = 'registry.example.com/acme/shop';
const TARGETS = ['eu-1', 'eu-2', 'us-1'];
let stack: Stack;
let repo: string;
let service: Server;
let serviceUrl: string;
/** eu-2's /health answers 503 while this is set: its health check keeps polling. */
let holdEu2 = true;
const healthProbes = new Map<string, number>();
const workers: ChildProcess[] = [];

beforeAll(async () => {
  // Unencrypted: the test reads each activity's environment from its input in history.
  stack = await startStack({ taskQueue: 'wave-workers', codecKeys: '' });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'shop', image: IMAGE, overlayPath: (e) => `clusters/${e}` }],
    environments: TARGETS,
  });
  // The targets' service: each serves the digest its overlay names, as a synced cluster would.
  service = createServer((req, res) => {
    const [, target, path] = req.url!.split('/');
    if (!TARGETS.includes(target)) return void res.writeHead(404).end();
    if (path === 'version') {
      const digest = readKustomizeDigest(fileAt(repo, `clusters/${target}/kustomization.yaml`), IMAGE);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ digest }));
    }
    healthProbes.set(target, (healthProbes.get(target) ?? 0) + 1);
    res.writeHead(target === 'eu-2' && holdEu2 ? 503 : 200).end();
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await new Promise((r) => service?.close(r));
  await stack?.stop();
});

/** `gantry worker` polling only this target's queue, as run inside that cluster. */
async function targetWorker(target: string, identity: string): Promise<ChildProcess> {
  const child = await startWorkerProcess(stack, ['--task-queue', `wq-${target}`, '--identity', identity], {
    GANTRY_DATA_DIR: join(stack.dir, `${identity}-data`),
  });
  workers.push(child);
  return child;
}

function pipeline(): string {
  return pipelineText({
    configRepo: { url: repo },
    apps: { shop: { image: IMAGE } },
    environments: [
      {
        name: 'production',
        approval: { signatures: 'optional' },
        deploy: { gitops: { path: 'clusters/{target}' } },
        health: {
          http: {
            url: `${serviceUrl}/{target}/`,
            versionPath: 'version',
            healthPath: 'health',
            interval: '200ms',
            timeout: '3m',
          },
        },
        targets: TARGETS.map((name) => ({ name, taskQueue: `wq-${name}` })),
        waves: [['eu-1'], ['eu-2', 'us-1']],
        bakeTime: '1s',
      },
    ],
  });
}

let configFile: string;
const gantry = (...args: string[]) => runCli(['--config', configFile, ...args], cliEnv(stack));

async function listedIn(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.gantry.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

test("each target's activities run on its own worker; a worker killed mid-wave is replaced without a second deploy; a target's unfreeze wakes it", async () => {
  const worker = Object.fromEntries(
    await Promise.all(TARGETS.map(async (t) => [t, await targetWorker(t, `${t}-a`)] as const)),
  );
  configFile = join(stack.dir, 'gantry.yaml');
  writePipeline(configFile, pipeline());
  expect(
    await gantry('freeze', '--env', 'production/us-1', '--as', 'oncall', '--reason', 'us maintenance'),
  ).toMatchObject({ code: 0, stdout: 'frozen: production/us-1 (us maintenance)\n' });
  const digest = testDigest();
  const { workflowId } = await stack.gantry.start(promotionInput(pipeline(), 'shop', digest));
  await until('the approval wait', async () =>
    (await stack.gantry.status('shop', digest)).awaitingApproval ? true : undefined,
  );
  await stack.gantry.decide('approve', 'shop', digest, { environment: 'production', by: 'alice' });

  // Wave 2: eu-2 deployed and polling its health, us-1 held by its freeze.
  const rows = async () => (await stack.gantry.status('shop', digest)).environments[0].targets ?? [];
  let seen: unknown;
  await until(
    'eu-2 in its health check and us-1 frozen',
    async () => {
      const r = (seen = await rows());
      const state = (t: string) => r.find((x) => x.name === t)?.state;
      return state('eu-2') === 'deployed' && state('us-1') === 'frozen' && (healthProbes.get('eu-2') ?? 0) > 0
        ? true
        : undefined;
    },
    60_000,
    () => JSON.stringify({ seen, probes: [...healthProbes] }),
  );
  // The UI's filter by wave finds it.
  await until('GantryWave = 2 lists the promotion', async () =>
    (await listedIn(`GantryApp = 'shop' AND GantryWave = 2`)).includes(workflowId) ? true : undefined,
  );

  // eu-2's worker dies mid-check; its replacement on the same queue picks the check up.
  worker['eu-2'].kill('SIGKILL');
  await targetWorker('eu-2', 'eu-2-b');
  holdEu2 = false;

  // us-1 waits for its freeze; unfreezing it resumes the promotion at once, not at its next minute's look.
  const unfreeze = await gantry('unfreeze', '--env', 'production/us-1', '--as', 'oncall');
  expect(unfreeze).toMatchObject({ code: 0 });
  expect(unfreeze.stdout).toContain('unfrozen: production/us-1 (1 waiting promotions resumed)');
  const unfrozenAt = Date.now();
  await until('us-1 promoted', async () =>
    (await rows()).find((x) => x.name === 'us-1')?.state === 'promoted' ? true : undefined,
  );
  expect(Date.now() - unfrozenAt).toBeLessThan(30_000);

  const result = await stack.gantry.result('shop', digest);
  expect(result.outcome).toBe('promoted');
  expect(result.environments[0].targets!.map((t) => [t.name, t.wave, t.state, t.digest])).toEqual([
    ['eu-1', 1, 'promoted', digest],
    ['eu-2', 2, 'promoted', digest],
    ['us-1', 2, 'promoted', digest],
  ]);
  // One commit per target: the killed worker's target was not deployed twice.
  const deploys = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);
  expect(deploys.map((c) => c.trailers['Gantry-Environment']).sort()).toEqual(
    TARGETS.map((t) => `production/${t}`).sort(),
  );
  await until('GantryWave back to 0', async () =>
    (await listedIn(`GantryApp = 'shop' AND GantryWave = 0`)).includes(workflowId) ? true : undefined,
  );

  // From each target's own history: its activities were scheduled on its queue and ran on its workers only.
  for (const t of TARGETS) {
    const history = await stack.gantry.client.workflow.getHandle(`${workflowId}/production/${t}`).fetchHistory();
    const runs = activityRuns(history);
    expect(runs.map((r) => r.activityType).sort()).toEqual(['checkHealth', 'deploy']);
    const own = t === 'eu-2' ? ['eu-2-a', 'eu-2-b'] : [`${t}-a`];
    for (const r of runs) {
      expect(r).toMatchObject({ taskQueue: `wq-${t}`, environment: `production/${t}` });
      expect(own).toContain(r.startedBy);
      expect(own).toContain(r.completedBy);
    }
    if (t === 'eu-2') {
      expect(runs.find((r) => r.activityType === 'deploy')).toMatchObject({ completedBy: 'eu-2-a', attempt: 1 });
      expect(runs.find((r) => r.activityType === 'checkHealth')).toMatchObject({ completedBy: 'eu-2-b' });
      expect(runs.find((r) => r.activityType === 'checkHealth')!.attempt).toBeGreaterThan(1);
    }
  }
  // The promotion's own history schedules no target's activity: they all live in the children.
  const parentRuns = activityRuns(await stack.gantry.handle('shop', digest).fetchHistory());
  expect(parentRuns.filter((r) => r.environment?.startsWith('production'))).toEqual([]);
});
