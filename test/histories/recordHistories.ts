// Records the reference scenarios' workflow histories into test/histories/*.json. Run it (npm run
// record-histories) when a workflow change is released on purpose; the suite replays these files
// so that any change that would break running promotions fails before it ships. It records only
// the scenarios that have no file yet, or those named (`npm run record-histories -- superseded`):
// the histories of earlier releases stay as they were recorded, to guard patched() paths.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { PROJECT_ROOT, toolPath } from '../../src/local/tools';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';

const OUT = join(PROJECT_ROOT, 'test', 'histories');

async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600 && !(await probe().catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
}

const named = process.argv.slice(2);

async function record(
  stack: Stack,
  name: string,
  run: (app: string) => Promise<string>,
  workflowId?: (app: string) => string,
) {
  const wanted = named.length > 0 ? named.includes(name) : !existsSync(join(OUT, `${name}.json`));
  if (!wanted) return;
  console.log(`recording ${name} ...`);
  const app = name;
  const digest = await run(app);
  await stack.gantry.result(app, digest).catch(() => undefined);
  // The Temporal CLI writes histories in the JSON form that historyFromJSON and the UI read.
  const id = workflowId?.(app) ?? `promote/${app}/${digest}`;
  const json = execFileSync(
    toolPath('temporal'),
    ['workflow', 'show', '--workflow-id', id, '--address', stack.server.address, '--output', 'json'],
    { encoding: 'utf8' },
  );
  writeFileSync(join(OUT, `${name}.json`), json);
  console.log(`recorded ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
}

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
    ];
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: apps.map((name) => ({
        name,
        image: `registry.example.com/acme/${name}`,
        overlayPath: (env: string) => `apps/${name}/environments/${env}`,
      })),
      environments: ['dev', 'staging', 'production'],
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
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
