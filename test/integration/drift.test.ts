// Drift detection on a real Kubernetes API and a real Temporal dev server: a Schedule per
// environment runs driftCheck, which compares the digest the last promotion put there (audit log)
// with what the Deployment runs, records and reports drift, and with heal puts the digest back.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DriftReport } from '../../src/drift/types';
import { driftCheckInputs, driftScheduleId, scheduleDriftChecks } from '../../src/drift/driftSchedules';
import { readKustomizeDigest, setKustomizeImage } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { useKubernetesCluster } from '../harness/kubernetesCluster';
import { pipelineText, testDigest, writePipeline } from '../harness/pipelineFile';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhookReceiver';
import { until } from '../harness/until';

const IMAGE = 'registry.example.com/acme/web';
const cluster = useKubernetesCluster();
let stack: Stack;
let webhook: WebhookReceiver;

beforeAll(async () => {
  [stack, webhook] = await Promise.all([startStack({ taskQueue: 'drift' }), startWebhookReceiver()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([stack?.stop(), webhook?.stop()]);
});

async function createDeployment(namespace: string, digest: string) {
  const k = cluster();
  await k.kubectl(['create', 'namespace', namespace]);
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: `${IMAGE}@${digest}` }] },
      },
    },
  };
  await k.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
}

const image = async (namespace: string) =>
  (
    await cluster().kubectl([
      '-n',
      namespace,
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ])
  ).trim();

/** Someone pins another digest in an overlay by hand: clone, edit, commit, push (in `work`). */
function pinByHand(repo: string, overlay: string, digest: string, work: string): void {
  execFileSync('git', ['clone', '-q', repo, work]);
  const file = join(work, overlay, 'kustomization.yaml');
  writeFileSync(file, setKustomizeImage(readFileSync(file, 'utf8'), { name: IMAGE, newName: IMAGE, digest }).text);
  const git = ['-C', work, '-c', 'user.name=someone', '-c', 'user.email=someone@example.com'];
  execFileSync('git', [...git, 'commit', '-qam', 'hand edit']);
  execFileSync('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:main']);
}

/** Triggers the schedule now and returns the report of the run it started. */
async function runSchedule(scheduleId: string, previousRuns: number): Promise<DriftReport> {
  const handle = stack.gantry.client.schedule.getHandle(scheduleId);
  await handle.trigger();
  for (let i = 0; i < 300; i++) {
    const actions = (await handle.describe()).info.recentActions;
    if (actions.length > previousRuns) {
      const started = actions[actions.length - 1].action;
      return stack.gantry.client.workflow
        .getHandle(started.workflow.workflowId, started.workflow.firstExecutionRunId)
        .result();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`schedule ${scheduleId} started nothing`);
}

test('a scheduled drift check finds a hand-set image, records it, and with heal puts the promoted digest back', async () => {
  const kubeconfig = cluster().kubeconfig;
  await createDeployment('drift-dev', testDigest());
  await createDeployment('drift-prod', testDigest());
  const yaml = pipelineText({
    notifications: { webhook: { url: webhook.url } },
    apps: { web: { image: IMAGE } },
    environments: ['dev', 'prod'].map((e) => ({
      name: e,
      deploy: { kubernetes: { namespace: `drift-${e}`, deployment: 'web', kubeconfig } },
      health: {
        kubernetesRollout: { namespace: `drift-${e}`, deployment: 'web', kubeconfig, interval: '200ms', timeout: '1m' },
      },
    })),
  });
  const file = join(stack.dir, 'drift.yaml');
  writePipeline(file, yaml);
  const config = parseConfig(yaml, file, stack.dir);
  const digest = testDigest();
  await stack.gantry.start(resolvePromotion(config, { app: 'web', digest, requestedBy: 'ci' }));
  expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });

  const ids = await scheduleDriftChecks(stack.gantry.client, config, 'web', {
    every: '1h',
    heal: false,
    taskQueue: stack.taskQueue,
  });
  expect(ids).toEqual([driftScheduleId('web', 'dev'), driftScheduleId('web', 'prod')]);
  expect(await runSchedule(ids[0], 0)).toMatchObject({
    app: 'web',
    environment: 'dev',
    state: 'in-sync',
    expected: digest,
    running: digest,
  });

  // Someone sets production's image by hand.
  const manual = testDigest();
  await cluster().kubectl(['-n', 'drift-prod', 'set', 'image', 'deployment/web', `app=${IMAGE}@${manual}`]);
  const drifted = await runSchedule(ids[1], 0);
  expect(drifted).toMatchObject({ environment: 'prod', state: 'drifted', expected: digest, running: manual });
  expect(drifted.detail).toContain(`prod runs ${manual}`);
  expect(await image('drift-prod')).toBe(`${IMAGE}@${manual}`);

  // Scheduling again (with heal) updates the schedules in place; the next run puts the digest back.
  await scheduleDriftChecks(stack.gantry.client, config, 'web', {
    every: '1h',
    heal: true,
    taskQueue: stack.taskQueue,
  });
  expect(await runSchedule(ids[1], 1)).toMatchObject({ state: 'healed', expected: digest, running: manual });
  expect(await image('drift-prod')).toBe(`${IMAGE}@${digest}`);
  expect(await runSchedule(ids[1], 2)).toMatchObject({ state: 'in-sync' });

  const events = readFileSync(join(stack.dir, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; environment?: string; details: Record<string, unknown> })
    .filter((r) => r.event.startsWith('drift'));
  expect(events.map((e) => [e.event, e.environment, e.details.running])).toEqual([
    ['drift', 'prod', manual],
    ['drift', 'prod', manual],
    ['drift-healed', 'prod', manual],
  ]);
  // The webhook heard about it too.
  const told = webhook.received.filter((n) => n.gantry.event.startsWith('drift'));
  expect(told.map((n) => [n.gantry.event, n.gantry.environment])).toEqual([
    ['drift', 'prod'],
    ['drift', 'prod'],
    ['drift-healed', 'prod'],
  ]);
  expect(told[0].text).toBe(
    `Drift: web in prod runs ${manual} (deployment drift-prod/web container app runs ${IMAGE}@${manual}); Gantry last put ${digest} there (promote/web/${digest}).`,
  );
  for (const id of ids) await stack.gantry.client.schedule.getHandle(id).delete();
});

test('gantry drift check runs one check now and exits 1 on drift; drift status shows the last report per environment', async () => {
  const file = join(stack.dir, 'drift.yaml');
  const gantry = (...args: string[]) => runCli(['--config', file, ...args], cliEnv(stack));
  const inSync = await gantry('drift', 'check', 'web', '--env', 'dev', '--json');
  expect(inSync.code).toBe(0);
  expect(JSON.parse(inSync.stdout)).toMatchObject({ app: 'web', environment: 'dev', state: 'in-sync' });

  await cluster().kubectl(['-n', 'drift-dev', 'set', 'image', 'deployment/web', `app=${IMAGE}@${testDigest()}`]);
  const drifted = await gantry('drift', 'check', 'web', '--env', 'dev');
  expect(drifted.code).toBe(1);
  expect(drifted.stdout).toMatch(/^web dev: drifted: dev runs sha256:/);
  const scheduled = await gantry('drift', 'schedule', 'web', '--env', 'dev', '--every', '30m', '--heal');
  expect(scheduled).toMatchObject({ code: 0, stdout: 'scheduled drift/web/dev every 30m (heals)\n' });
  await stack.gantry.client.schedule.getHandle('drift/web/dev').trigger();
  const status = await until('the healing check', async () => {
    const rows = JSON.parse((await gantry('drift', 'status', 'web', '--json')).stdout) as Array<{
      environment: string;
      scheduled: boolean;
      report?: DriftReport;
    }>;
    return rows[0].report?.state === 'healed' ? rows : undefined;
  });
  expect(status).toEqual([
    expect.objectContaining({
      environment: 'dev',
      scheduled: true,
      report: expect.objectContaining({ state: 'healed' }),
    }),
    { environment: 'prod', scheduled: false },
  ]);
  await stack.gantry.client.schedule.getHandle('drift/web/dev').delete();
  expect((await gantry('drift', 'schedule', 'web', '--every', 'soon')).stderr).toContain('--every must be a duration');
});

test('for a gitops environment, a check reads the digest the overlay pins and heals it with a commit', async () => {
  const repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['qa'],
  });
  const yaml = pipelineText({
    configRepo: { url: repo },
    apps: { web: { image: IMAGE } },
    environments: [{ name: 'qa', deploy: { gitops: { path: 'environments/qa' } } }],
  });
  writePipeline(join(stack.dir, 'gitops.yaml'), yaml);
  const config = parseConfig(yaml, join(stack.dir, 'gitops.yaml'), stack.dir);
  const digest = testDigest();
  await stack.gantry.start(resolvePromotion(config, { app: 'web', digest, requestedBy: 'ci' }));
  expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });
  const [input] = driftCheckInputs(config, 'web', true);
  const check = () =>
    stack.gantry.client.workflow.execute('driftCheck', {
      workflowId: `drift-gitops-${Date.now()}`,
      taskQueue: stack.taskQueue,
      args: [input],
    }) as Promise<DriftReport>;
  expect(await check()).toMatchObject({ state: 'in-sync', expected: digest, running: digest });

  // Someone pins another digest by hand in the overlay.
  const manual = testDigest();
  pinByHand(repo, 'environments/qa', manual, join(stack.dir, 'hand-edit'));

  const healed = await check();
  expect(healed).toMatchObject({ state: 'healed', expected: digest, running: manual });
  expect(healed.detail).toContain('environments/qa/kustomization.yaml pins');
  expect(readKustomizeDigest(fileAt(repo, 'environments/qa/kustomization.yaml'), IMAGE)).toBe(digest);
  expect(commitsIn(repo)[0].trailers).toMatchObject({
    'Gantry-Digest': digest,
    'Gantry-Rollback-Of': manual,
    'Gantry-Environment': 'qa',
  });
});

test('an environment made of targets is checked target by target (production/prod-eu-2), each on its own overlay, rollbacks counted', async () => {
  const repo = await createConfigRepo({
    dir: join(stack.dir, 'targets'),
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['prod-eu-1', 'prod-eu-2'],
  });
  const overlay = (t: string) => readKustomizeDigest(fileAt(repo, `environments/${t}/kustomization.yaml`), IMAGE);
  const pipeline = (eu2: unknown) =>
    pipelineText({
      configRepo: { url: repo },
      apps: { web: { image: IMAGE } },
      environments: [
        {
          name: 'production',
          deploy: { gitops: { path: 'environments/{target}' } },
          targets: ['prod-eu-1', eu2],
          waves: [['prod-eu-1'], ['prod-eu-2']],
        },
      ],
    });
  const file = join(stack.dir, 'targets.yaml');
  const promote = async (yaml: string, digest: string) => {
    writePipeline(file, yaml);
    await stack.gantry.start(
      resolvePromotion(parseConfig(yaml, file, stack.dir), { app: 'web', digest, requestedBy: 'ci' }),
    );
    return stack.gantry.result('web', digest);
  };
  const good = testDigest();
  expect(await promote(pipeline('prod-eu-2'), good)).toMatchObject({ outcome: 'promoted' });
  // The next digest fails on prod-eu-2 (nothing listens on port 9): both targets go back to `good`.
  const bad = testDigest();
  const smoke = { name: 'prod-eu-2', gates: [{ http: { name: 'smoke', url: 'http://127.0.0.1:9/', timeout: '1s' } }] };
  expect(await promote(pipeline(smoke), bad)).toMatchObject({ outcome: 'rolled-back' });
  expect([overlay('prod-eu-1'), overlay('prod-eu-2')]).toEqual([good, good]);

  const yaml = pipeline('prod-eu-2');
  writePipeline(file, yaml);
  const config = parseConfig(yaml, file, stack.dir);
  const inputs = driftCheckInputs(config, 'web', false);
  expect(inputs.map((i) => [i.environment, i.target.kind === 'gitops' && i.target.path])).toEqual([
    ['production/prod-eu-1', 'environments/prod-eu-1'],
    ['production/prod-eu-2', 'environments/prod-eu-2'],
  ]);
  const check = (input: (typeof inputs)[number]) =>
    stack.gantry.client.workflow.execute('driftCheck', {
      workflowId: `drift-targets-${input.environment}-${Date.now()}`,
      taskQueue: stack.taskQueue,
      args: [input],
    }) as Promise<DriftReport>;
  // What the last promotion left there is its rollback's digest, not the digest it tried.
  for (const input of inputs)
    expect(await check(input)).toMatchObject({
      environment: input.environment,
      state: 'in-sync',
      expected: good,
      running: good,
    });

  // Someone pins another digest by hand in prod-eu-2's overlay only.
  const manual = testDigest();
  pinByHand(repo, 'environments/prod-eu-2', manual, join(stack.dir, 'hand-edit-targets'));

  const gantry = (...args: string[]) => runCli(['--config', file, ...args], cliEnv(stack));
  const both = await gantry('drift', 'check', 'web', '--env', 'production');
  expect(both.code).toBe(1);
  const lines = both.stdout.trim().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^web production\/prod-eu-1: in-sync: /);
  expect(lines[1]).toMatch(new RegExp(`^web production/prod-eu-2: drifted: production/prod-eu-2 runs ${manual} `));

  const healed = await gantry('drift', 'check', 'web', '--env', 'production/prod-eu-2', '--heal', '--json');
  expect(healed.code).toBe(0);
  expect(JSON.parse(healed.stdout)).toMatchObject({
    environment: 'production/prod-eu-2',
    state: 'healed',
    expected: good,
    running: manual,
  });
  expect([overlay('prod-eu-1'), overlay('prod-eu-2')]).toEqual([good, good]);
  expect(commitsIn(repo)[0].trailers).toMatchObject({
    'Gantry-Digest': good,
    'Gantry-Rollback-Of': manual,
    'Gantry-Environment': 'production/prod-eu-2',
  });
  expect(await check(inputs[1])).toMatchObject({ state: 'in-sync', expected: good });

  // One schedule per target; --env of the environment picks all of them.
  const ids = await scheduleDriftChecks(stack.gantry.client, config, 'web', {
    every: '1h',
    heal: false,
    taskQueue: stack.taskQueue,
    environments: ['production'],
  });
  expect(ids).toEqual(['drift/web/production/prod-eu-1', 'drift/web/production/prod-eu-2']);
  for (const id of ids) await stack.gantry.client.schedule.getHandle(id).delete();
});
