// Records the reference scenarios' workflow histories into test/histories/*.json. Run it (npm run
// record-histories) when a workflow change is released on purpose; the suite replays these files
// so that any change that would break running promotions fails before it ships. It records only
// the scenarios that have no file yet, or those named (`npm run record-histories -- superseded`):
// the histories of earlier releases stay as they were recorded, to guard patched() paths.
import { NativeConnection } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CanaryCountsReading,
  ReadCanaryCountsRequest,
  SetCanaryWeightRequest,
  SetCanaryWeightResult,
  StableHistoryReading,
} from '../../src/canary/types';
import { gantryDataConverter } from '../../src/codec/dataConverter';
import { createConfigRepo } from '../../src/local/configRepo';
import { PROJECT_ROOT, toolPath } from '../../src/local/tools';
import { createWorker } from '../../src/worker/createWorker';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { canaryChildId } from '../../workflows/runCanary';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest, testPolicy } from '../harness/pipelineFile';

const OUT = join(PROJECT_ROOT, 'test', 'histories');

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600 && !(await probe().catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
}

const named = process.argv.slice(2);

async function record(
  stack: Stack,
  name: string,
  run: (app: string) => Promise<string>,
  workflowId?: (app: string, digest: string) => string,
  /** Child workflows recorded too, as `<name>.<suffix>.json`: suffix -> workflow id from the promotion's id. */
  children: Record<string, (promotionId: string) => string> = {},
) {
  const wanted = named.length > 0 ? named.includes(name) : !existsSync(join(OUT, `${name}.json`));
  if (!wanted) return;
  console.log(`recording ${name} ...`);
  const app = name;
  const digest = await run(app);
  await stack.gantry.result(app, digest).catch(() => undefined);
  // The Temporal CLI writes histories in the JSON form that historyFromJSON and the UI read.
  const id = workflowId?.(app, digest) ?? `promote/${app}/${digest}`;
  const files: [string, string][] = [
    [`${name}.json`, id],
    ...Object.entries(children).map(([suffix, child]): [string, string] => [`${name}.${suffix}.json`, child(id)]),
  ];
  for (const [file, wid] of files) {
    const json = execFileSync(
      toolPath('temporal'),
      ['workflow', 'show', '--workflow-id', wid, '--address', stack.server.address, '--output', 'json'],
      { encoding: 'utf8' },
    );
    writeFileSync(join(OUT, file), json);
    console.log(`recorded ${file}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
  }
}

/**
 * Router and metrics for the canary recordings: the router remembers weights, each read adds 1,000
 * requests per version (canary errors at `world.canaryErrorRate`, stable at 1%), and the stable
 * history is an hour of steady 1%. Deterministic, so a re-recording takes the same decisions.
 */
function canaryFakes(world: { canaryErrorRate: number }) {
  const weights = new Map<string, number>();
  let reads = 0;
  return {
    setCanaryWeight: async (r: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> => {
      const key = `${r.app}/${r.environment}`;
      const previous = weights.get(key) ?? 0;
      weights.set(key, r.weight);
      return { weight: r.weight, previous, changed: previous !== r.weight, detail: `recorded router at ${r.weight}%` };
    },
    readCanaryCounts: async (_r: ReadCanaryCountsRequest): Promise<CanaryCountsReading> => {
      const n = ++reads;
      return {
        canaryErrors: Math.round(n * 1000 * world.canaryErrorRate),
        canaryTotal: n * 1000,
        stableErrors: n * 10,
        stableTotal: n * 1000,
        at: new Date().toISOString(),
      };
    },
    readStableHistory: async (): Promise<StableHistoryReading> => ({
      increments: Array.from({ length: 240 }, () => ({ errors: 10, total: 1000 })),
      at: new Date().toISOString(),
    }),
  };
}

/** One app whose production environment runs a canary: 50%, one analysis, then 100%. */
function canaryPipeline(repo: string): string {
  const side = (track: string) => ({
    errors: `sum(app_errors_total{track="${track}"})`,
    total: `sum(app_requests_total{track="${track}"})`,
  });
  const canary = {
    router: { haproxy: { socket: '/tmp/gantry-recorded-haproxy.sock', backend: 'app' } },
    metrics: { prometheus: { url: 'http://127.0.0.1:9', timeout: '5s' } },
    steps: [
      { setWeight: 50 },
      {
        analysis: { errorRate: { canary: side('canary'), stable: side('stable') }, interval: '1s', maxDuration: '2m' },
      },
      { setWeight: 100 },
    ],
  };
  return pipelineYaml(repo, ['web'], [{ name: 'production', settings: { canary } }]);
}

/**
 * The canary scenarios, on their own dev server: a worker whose router and metrics activities are
 * the fakes above (deploys, audit and the workflows are the real ones), so the histories hold a
 * real canary run, its analysis child included.
 */
async function recordCanaries() {
  const wanted = ['canary-promoted', 'canary-rolled-back'].filter((n) =>
    named.length > 0 ? named.includes(n) : !existsSync(join(OUT, `${n}.json`)),
  );
  if (wanted.length === 0) return;
  const stack = await startStack({ taskQueue: 'record-canary', codecKeys: '', worker: false });
  const world = { canaryErrorRate: 0.01 };
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: stack.taskQueue,
    workflowBundle: await bundleGantryWorkflows(),
    dataDir: stack.dir,
    dataConverter: gantryDataConverter(undefined),
    policy: testPolicy,
    activityOverrides: canaryFakes(world) as unknown as Record<string, (...args: never[]) => Promise<unknown>>,
  });
  const running = worker.run();
  try {
    const image = 'registry.example.com/acme/web';
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: [{ name: 'web', image, overlayPath: (env) => `environments/${env}` }],
      environments: ['production'],
    });
    const yaml = canaryPipeline(repo);
    const promote = async (seed: string, canaryErrorRate: number) => {
      world.canaryErrorRate = canaryErrorRate;
      const digest = testDigest(seed);
      await stack.gantry.start(promotionInput(yaml, 'web', digest));
      await stack.gantry.result('web', digest).catch(() => undefined);
      return digest;
    };
    const analysisChild = (promotionId: string) => canaryChildId(promotionId, 'production', 1);
    // A healthy canary (1% errors like stable) passes its analysis and goes to 100%.
    await record(stack, 'canary-promoted', () => promote('canary-promoted', 0.01), promotionOf, {
      analysis: analysisChild,
    });
    // After a healthy one, a canary at 5% errors fails its analysis: traffic back on stable, the
    // config repo back on the digest before (a canary failure rolls back without onFailure).
    await record(
      stack,
      'canary-rolled-back',
      async () => {
        await promote('canary-rolled-back-good', 0.01);
        return promote('canary-rolled-back-bad', 0.05);
      },
      promotionOf,
      { analysis: analysisChild },
    );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await stack.stop();
  }
}

const promotionOf = (_name: string, digest: string) => `promote/web/${digest}`;

async function main() {
  mkdirSync(OUT, { recursive: true });
  // Plain payloads: the reference histories stay readable JSON, and the replay test needs no key.
  const stack = await startStack({ taskQueue: 'record', codecKeys: '' });
  try {
    const apps = [
      'promoted-with-approval',
      'rejected',
      'failed-gate',
      'paused-and-aborted',
      'superseded',
      'rolled-back-on-failure',
      'lane',
      'waves-rolled-back',
      'lane-answers-by-update',
    ];
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: apps.map((name) => ({
        name,
        image: `registry.example.com/acme/${name}`,
        overlayPath: (env: string) => `apps/${name}/environments/${env}`,
      })),
      environments: ['dev', 'staging', 'production', 'w-1', 'w-2', 'w-3'],
    });
    const yaml = pipelineYaml(repo, apps, [
      { name: 'dev' },
      { name: 'staging', soak: '1s', gates: ['command: { name: smoke, run: "test -n \\"$GANTRY_DIGEST\\"" }'] },
      { name: 'production', approval: { expiresIn: '72h' } },
    ]);
    // A digest per app and seed: the same seed records the same digest every time.
    const start = async (app: string, seed = app) => {
      const digest = testDigest(seed);
      await stack.gantry.start(promotionInput(yaml, app, digest));
      return digest;
    };
    const awaiting = (app: string, digest: string) =>
      until(async () => (await stack.gantry.status(app, digest)).awaitingApproval !== undefined);

    await record(stack, 'promoted-with-approval', async (app) => {
      const digest = await start(app);
      await awaiting(app, digest);
      await stack.gantry.decide('approve', app, digest, { environment: 'staging', by: 'mallory' }); // refused
      await stack.gantry.decide('approve', app, digest, { environment: 'production', by: 'alice', comment: 'ship it' });
      return digest;
    });
    await record(stack, 'rejected', async (app) => {
      const digest = await start(app);
      await awaiting(app, digest);
      await stack.gantry.handle(app, digest).signal('approve', { environment: 'dev', by: 'ui-user' }); // refused signal
      await stack.gantry
        .handle(app, digest)
        .signal('reject', { environment: 'production', by: 'bob', comment: 'not today' });
      return digest;
    });
    await record(stack, 'failed-gate', async (app) => {
      const broken = yaml.replace('test -n \\"$GANTRY_DIGEST\\"', 'echo broken; exit 3');
      const digest = testDigest(app);
      await stack.gantry.start(promotionInput(broken, app, digest));
      return digest;
    });
    await record(stack, 'paused-and-aborted', async (app) => {
      const digest = await start(app);
      await stack.gantry.operate('pause', app, digest, { by: 'ops' });
      await new Promise((r) => setTimeout(r, 1500));
      await stack.gantry.operate('resume', app, digest, { by: 'ops' });
      await awaiting(app, digest);
      await stack.gantry.operate('abort', app, digest, { by: 'ops', reason: 'superseded' });
      return digest;
    });
    // An older digest waiting for approval ends superseded once a newer one is verified.
    const older = { digest: '' };
    await record(stack, 'superseded', async (app) => {
      older.digest = await start(app);
      await awaiting(app, older.digest);
      const newer = await start(app, `${app}-newer`);
      await stack.gantry.result(app, older.digest).catch(() => undefined);
      await awaiting(app, newer);
      await stack.gantry.operate('abort', app, newer, { by: 'ops', reason: 'recorded' });
      return older.digest;
    });
    // A gate fails after the deploy and onFailure: rollback puts staging back on the digest before.
    await record(stack, 'rolled-back-on-failure', async (app) => {
      // The first digest passes staging and waits for production; the broken one supersedes it.
      const first = await start(app);
      await awaiting(app, first);
      const broken = yaml
        .replace('test -n \\"$GANTRY_DIGEST\\"', 'echo broken; exit 3')
        .replace('    soak: 1s', '    soak: 1s\n    onFailure: rollback');
      const digest = testDigest(`${app}-broken`);
      await stack.gantry.start(promotionInput(broken, app, digest));
      return digest;
    });
    // The lane of an app after two promotions, one superseding the other (the lane never closes).
    await record(
      stack,
      'lane',
      async (app) => {
        const first = await start(app);
        await awaiting(app, first);
        const second = await start(app, `${app}-second`);
        await awaiting(app, second);
        await stack.gantry.decide('approve', app, second, { environment: 'production', by: 'alice' });
        await stack.gantry.result(app, second);
        return second;
      },
      (app) => `gantry/lane/${app}`,
    );
    // Production made of three targets in two waves; w-3's gate fails in wave 2, so w-1 and w-2 go back.
    await record(
      stack,
      'waves-rolled-back',
      async (app) => {
        const first = testDigest(app);
        const waves = (targets: unknown[]) =>
          pipelineYaml(
            repo,
            [app],
            [
              {
                name: 'production',
                settings: {
                  deploy: { gitops: { path: `apps/${app}/environments/{target}` } },
                  targets,
                  waves: [['w-1'], ['w-2', 'w-3']],
                  bakeTime: '1s',
                },
              },
            ],
          );
        // A digest that lands everywhere first, so the rollback has one to return to.
        await stack.gantry.start(promotionInput(waves(['w-1', 'w-2', 'w-3']), app, first));
        await stack.gantry.result(app, first);
        const digest = testDigest(`${app}-bad`);
        const failing = { name: 'w-3', gates: [{ command: { name: 'smoke', run: 'echo broken; exit 3' } }] };
        await stack.gantry.start(promotionInput(waves(['w-1', 'w-2', failing]), app, digest));
        return digest;
      },
      undefined,
      { 'w-1': (id) => `${id}/production/w-1`, 'w-3': (id) => `${id}/production/w-3` },
    );
    // Since lane-grant-by-update: the lane answers a request for a free environment in the request
    // itself, and a request for a held one later by signal (a second digest queued behind the first).
    const queued = { digest: '' };
    await record(
      stack,
      'lane-answers-by-update',
      async (app) => {
        const queue = `${yaml}ordering: queue\n`;
        const first = testDigest(app);
        await stack.gantry.start(promotionInput(queue, app, first));
        await awaiting(app, first);
        queued.digest = testDigest(`${app}-second`);
        await stack.gantry.start(promotionInput(queue, app, queued.digest));
        await until(async () => (await stack.gantry.status(app, queued.digest)).stage === 'queued');
        await stack.gantry.decide('approve', app, first, { environment: 'production', by: 'alice' });
        await awaiting(app, queued.digest);
        await stack.gantry.decide('approve', app, queued.digest, { environment: 'production', by: 'alice' });
        await stack.gantry.result(app, queued.digest);
        return first;
      },
      (app) => `gantry/lane/${app}`,
      { queued: () => `promote/lane-answers-by-update/${queued.digest}` },
    );
  } finally {
    await stack.stop();
  }
  await recordCanaries();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
