// `gantry worker --metrics-port`: one Prometheus endpoint on loopback with the Temporal runtime's
// metrics and Gantry's promotion counters and histograms, scraped after real promotions ran
// through a real worker process (one promoted, one rejected at the production approval, one
// rolled back in place while it waited).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rollbackUpdate } from '../../workflows/messages';
import { createConfigRepo } from '../../src/local/configRepo';
import { freePort } from '../../src/local/freePort';
import { PROJECT_ROOT } from '../../src/local/tools';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest, testPolicyFile } from '../harness/pipelineFile';
import { until } from '../harness/until';
import { startWorkerProcess } from '../harness/workerProcess';

let stack: Stack;
let worker: ChildProcess | undefined;
let metricsPort: number;

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one series: the metric name and every given label must match. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'worker-metrics', worker: false });
  metricsPort = await freePort();
  worker = await startWorkerProcess(stack, ['--metrics-port', String(metricsPort)]);
});
afterAll(async () => {
  worker?.kill('SIGKILL');
  await stack?.stop();
});

test('the endpoint listens on loopback only', () => {
  const hexPort = metricsPort.toString(16).toUpperCase().padStart(4, '0');
  const listening = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A');
  expect(listening.map((f) => f[1])).toEqual([`0100007F:${hexPort}`]);
  const v6 = readFileSync('/proc/net/tcp6', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`:${hexPort} `) && l.trim().split(/\s+/)[3] === '0A');
  expect(v6).toEqual([]);
});

test('Temporal runtime metrics and Gantry counters count real promotions', async () => {
  const repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'production'],
  });
  // queue: two digests of one app wait for approval side by side (supersede would end the older one).
  const yaml = pipelineYaml(repo, ['web'], [{ name: 'dev' }, { name: 'production', approval: true }], {
    ordering: 'queue',
  });
  const promoted = testDigest();
  const rejected = testDigest();
  const rolledBack = testDigest();
  const awaitingApproval = (digest: string) =>
    until('the production approval', async () =>
      (await stack.gantry.status('web', digest)).awaitingApproval ? true : undefined,
    );
  for (const digest of [promoted, rejected]) await stack.gantry.start(promotionInput(yaml, 'web', digest));
  for (const digest of [promoted, rejected]) await awaitingApproval(digest);
  expect(
    await stack.gantry.decide('approve', 'web', promoted, { environment: 'production', by: 'alice' }),
  ).toMatchObject({ accepted: true });
  expect(
    await stack.gantry.decide('reject', 'web', rejected, {
      environment: 'production',
      by: 'bob',
      comment: 'not today',
    }),
  ).toMatchObject({ accepted: true });
  expect((await stack.gantry.result('web', promoted)).outcome).toBe('promoted');
  expect((await stack.gantry.result('web', rejected)).outcome).toBe('rejected');
  // A third one is rolled back in place while it waits: dev goes back to the digest it ran before.
  await stack.gantry.start(promotionInput(yaml, 'web', rolledBack));
  await awaitingApproval(rolledBack);
  await stack.gantry
    .handle('web', rolledBack)
    .executeUpdate(rollbackUpdate, { args: [{ environment: 'dev', by: 'carol', reason: 'errors in dev' }] });
  expect((await stack.gantry.result('web', rolledBack)).outcome).toBe('rolled-back');

  // Workflow metrics reach the exporter when the workflow task that emitted them completes.
  const text = await until('the three promotions in the metrics', async () => {
    const t = await scrape();
    const ended = ['gantry_promotions_failed', 'gantry_promotions_succeeded', 'gantry_promotions_rolled_back'].map(
      (m) => sample(t, m, { app: 'web' }),
    );
    return ended.every((v) => v === 1) ? t : undefined;
  });

  // The Temporal runtime's own metrics (SDK core), with the worker's task queue and workflow type.
  const wf = { task_queue: stack.taskQueue, workflow_type: 'promoteArtifact', namespace: 'default' };
  expect(sample(text, 'temporal_workflow_completed', wf)).toBe(1);
  expect(sample(text, 'temporal_workflow_failed', wf)).toBe(2);
  // Deploys: dev three times, production once, and the rollback's revert of dev.
  expect(
    sample(text, 'temporal_activity_execution_latency_count', { activity_type: 'deploy', task_queue: stack.taskQueue }),
  ).toBe(5);
  expect(
    sample(text, 'temporal_activity_execution_latency_count', {
      activity_type: 'verifyArtifact',
      task_queue: stack.taskQueue,
    }),
  ).toBe(3);
  expect(sample(text, 'temporal_worker_start', { task_queue: stack.taskQueue })).toBe(1);
  expect(sample(text, 'temporal_workflow_task_execution_latency_count', wf)).toBeGreaterThanOrEqual(6);

  // Gantry's own, emitted by the workflow through the same runtime meter (the SDK tags workflow
  // metrics with camelCase taskQueue and workflowType).
  expect(
    sample(text, 'gantry_promotions_started', {
      app: 'web',
      namespace: 'default',
      taskQueue: stack.taskQueue,
      workflowType: 'promoteArtifact',
    }),
  ).toBe(3);
  expect(sample(text, 'gantry_promotions_succeeded', { app: 'web' })).toBe(1);
  expect(sample(text, 'gantry_promotions_failed', { app: 'web', outcome: 'rejected', stage: 'approval' })).toBe(1);
  expect(sample(text, 'gantry_promotions_rolled_back', { app: 'web' })).toBe(1);
  const approve = { app: 'web', environment: 'production', decision: 'approve' };
  const reject = { app: 'web', environment: 'production', decision: 'reject' };
  expect(sample(text, 'gantry_approval_wait_seconds_count', approve)).toBe(1);
  expect(sample(text, 'gantry_approval_wait_seconds_count', reject)).toBe(1);
  expect(sample(text, 'gantry_approval_wait_seconds_sum', approve)).toBeGreaterThan(0);
  expect(sample(text, 'gantry_approval_wait_seconds_bucket', { ...approve, le: '3600' })).toBe(1);
  const cancelled = { app: 'web', environment: 'production', decision: 'cancelled' };
  expect(sample(text, 'gantry_approval_wait_seconds_count', cancelled)).toBe(1);
  // Stage durations: verify three times, dev deploy three times, production deploy once (after the approval).
  const stage = (s: string, environment: string, result = 'ok') =>
    sample(text, 'gantry_stage_duration_seconds_count', { app: 'web', stage: s, environment, result });
  expect(stage('verify', '')).toBe(3);
  expect(stage('deploy', 'dev')).toBe(3);
  expect(stage('deploy', 'production')).toBe(1);
  expect(stage('approval', 'production')).toBe(1);
  expect(stage('approval', 'production', 'failed')).toBe(1);
  expect(stage('approval', 'production', 'cancelled')).toBe(1);
  expect(
    sample(text, 'gantry_stage_duration_seconds_sum', { app: 'web', stage: 'deploy', environment: 'dev' }),
  ).toBeGreaterThan(0);
}, 120_000);

test.each([
  ['not a number', () => 'http', '--metrics-port must be a port number (1-65535), got "http"'],
  ['already in use', () => String(metricsPort), `cannot serve metrics on 127.0.0.1:`],
])('a metrics port %s is refused as bad input', async (_what, port, message) => {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin', 'gantry'), 'worker', '--policy', testPolicyFile(), '--metrics-port', port()],
    {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: stack.server.address,
        GANTRY_DATA_DIR: join(stack.dir, 'worker-data'),
        GANTRY_CODEC_KEYS: stack.codecKeys,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(2);
  expect(stderr).toContain(message);
});
