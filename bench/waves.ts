// 9. Waves at scale: one promotion of a production made of N targets (200 by default) in waves of
// 10%, with a bake after each wave, on the time-skipping test server with fake activities (the
// bakes pass in no time; what is measured is Gantry's orchestration). Reports the history of the
// promotion and of its per-target child workflows against Temporal's limits, the wall time, and
// the memory of the worker (in this process: heap and RSS growth over the run); beside it, a
// single-environment promotion on the same worker, and the same rollout failing in its last wave
// (every changed target rolled back from the promotion's own history).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { MemoryAuditStore } from '../src/audit';
import { generateAuditKey, type AuditEntry } from '../src/audit/auditRecord';
import { GantryClient } from '../src/client/gantryClient';
import { adoptedPolicy } from '../src/local/pipelinePolicy';
import { toolPath } from '../src/local/tools';
import { createWorker } from '../src/worker/createWorker';
import { bundleGantryWorkflows } from '../src/worker/workflowBundle';
import type { DeployRequest, DeployResult } from '../activities/types';
import { stringify } from 'yaml';
import {
  benchDigest,
  historyBytes,
  log,
  mapLimit,
  promotionOf,
  table,
  type BenchContext,
  type Section,
} from './benchKit';

const LIMITS = { warnEvents: 10_240, hardEvents: 51_200 };

/**
 * Deploys, gates and audits answer at once from memory: only the workflows' own work is measured.
 * Deploys are remembered per target across apps, so fleet-rb's targets have fleet's digest to go back to.
 */
function fakeActivities() {
  const running = new Map<string, string>();
  let commits = 0;
  return {
    verifyArtifact: async () => ({ checked: 'format', detail: 'bench: not checked' }),
    deploy: async (r: DeployRequest): Promise<DeployResult> => {
      const previousDigest = running.get(r.environment);
      running.set(r.environment, r.digest);
      return { changed: previousDigest !== r.digest, commit: `bench-${++commits}`, previousDigest, detail: 'bench' };
    },
    // The rollback run's last target fails its smoke test.
    runGate: async (r: { app: string; target?: string; gate: { name: string } }) =>
      r.app === 'fleet-rb' && r.target === targetName(LAST_TARGET)
        ? { name: r.gate.name, passed: false, detail: 'bench: smoke failed' }
        : { name: r.gate.name, passed: true, detail: 'ok' },
    notifyWebhook: async () => undefined,
    recordAudit: async (_entry: AuditEntry) => ({ seq: 0 }),
  };
}

const targetName = (i: number) => `t-${String(i).padStart(3, '0')}`;
let LAST_TARGET = 200;

/** The rollout (app fleet), the same with no failure allowed (fleet-rb), and one plain production (single). */
function pipeline(targets: number): string {
  const smoke = [{ http: { name: 'smoke', url: 'http://{target}.example/smoke' } }];
  const rollout = (maxFailures: string | number) => ({
    name: 'production',
    deploy: { gitops: { path: 'environments/{target}' } },
    gates: smoke,
    targets: Array.from({ length: targets }, (_, i) => targetName(i + 1)),
    waves: { size: '10%' },
    bakeTime: '15m',
    maxFailures,
    concurrency: 25,
  });
  return stringify({
    version: 1,
    configRepo: { url: '/nonexistent/config-repo' },
    apps: {
      fleet: { image: 'registry.example.com/acme/fleet', environments: [rollout('5%')] },
      'fleet-rb': { image: 'registry.example.com/acme/fleet', environments: [rollout(0)] },
      single: {
        image: 'registry.example.com/acme/single',
        environments: [{ name: 'production', deploy: { gitops: { path: 'environments/production' } }, gates: smoke }],
      },
    },
  });
}

export async function waves(ctx: BenchContext): Promise<Section> {
  const targets = ctx.quick ? 50 : 200;
  LAST_TARGET = targets;
  const taskQueue = 'bench-waves';
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
  });
  try {
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await bundleGantryWorkflows(),
      policy: adoptedPolicy,
      auditStore: new MemoryAuditStore(generateAuditKey()),
      dataConverter: undefined,
      activityOverrides: fakeActivities() as unknown as Record<string, (...args: never[]) => Promise<unknown>>,
    });
    const running = worker.run();
    const gantry = new GantryClient(env.client, taskQueue, false);
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const digest = benchDigest();
    const t0 = performance.now();
    log(`waves: ${targets} targets`);
    const started = await gantry.start(promotionOf(pipeline(targets), 'fleet', digest));
    const result = await gantry.result('fleet', digest);
    const wallMs = performance.now() - t0;
    clearInterval(sampler);
    const after = process.memoryUsage();
    const parent = await historyBytes(env.client, started.workflowId);
    const rows = result.environments[0].targets ?? [];
    const children = await mapLimit(rows, 8, (r) =>
      historyBytes(env.client, `${started.workflowId}/production/${r.name}`),
    );

    log('waves: a single-environment promotion');
    const singleDigest = benchDigest();
    const s0 = performance.now();
    const single = await gantry.start(promotionOf(pipeline(targets), 'single', singleDigest));
    const singleResult = await gantry.result('single', singleDigest);
    const singleMs = performance.now() - s0;
    const singleHistory = await historyBytes(env.client, single.workflowId);

    log(`waves: ${targets} targets, the last one fails`);
    const rbDigest = benchDigest();
    const r0 = performance.now();
    const rb = await gantry.start(promotionOf(pipeline(targets), 'fleet-rb', rbDigest));
    const rbResult = await gantry.result('fleet-rb', rbDigest);
    const rbMs = performance.now() - r0;
    const rbHistory = await historyBytes(env.client, rb.workflowId);
    const rolledBack = (rbResult.environments[0].targets ?? []).filter((r) => r.state === 'rolled-back').length;
    worker.shutdown();
    await running;
    const maxChild = children.reduce((a, b) => (b.events > a.events ? b : a), { events: 0, bytes: 0 });
    const waveCount = new Set(rows.map((r) => r.wave)).size;
    const promoted = rows.filter((r) => r.state === 'promoted').length;
    const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
    const row = (name: string, outcome: string, ms: number | undefined, h: { events: number; bytes: number }) => [
      name,
      outcome,
      ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`,
      h.events,
      kb(h.bytes),
      `${((100 * h.events) / LIMITS.warnEvents).toFixed(2)}%`,
    ];
    const mbOf = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
    return {
      title: `9. Waves: a ${targets}-target rollout`,
      caption: `One promotion of a production of ${targets} targets in ${waveCount} waves of 10% (concurrency 25, bake 15m after each wave but the last, fake activities on the time-skipping server). Outcome: ${result.outcome}, ${promoted} of ${rows.length} targets promoted.`,
      table: table(
        ['workflow', 'outcome', 'wall time', 'events', 'bytes', 'share of the 10,240-event warning'],
        [
          row(`${targets}-target rollout: promotion (parent)`, result.outcome, wallMs, parent),
          row(`${targets}-target rollout: largest target child`, 'promoted', undefined, maxChild),
          row('single-environment promotion, same worker', singleResult.outcome, singleMs, singleHistory),
          row(
            `${targets}-target rollout, last target fails: promotion (${rolledBack} targets rolled back)`,
            rbResult.outcome,
            rbMs,
            rbHistory,
          ),
        ],
      ),
      notes: [
        `Wall time ${(wallMs / 1000).toFixed(1)} s for the whole rollout (time-skipping: the ${waveCount - 1} bakes cost nothing).`,
        `Parent history: ${(parent.events / rows.length).toFixed(1)} events per target; the hard limit of ${LIMITS.hardEvents.toLocaleString('en')} events would be reached at about ${Math.floor((LIMITS.hardEvents * rows.length) / parent.events).toLocaleString('en')} targets.`,
        `A rollback of every changed target runs from the promotion: ${((rbHistory.events - parent.events) / Math.max(1, rolledBack)).toFixed(1)} more parent events per rolled-back target than the rollout that succeeded.`,
        `Worker (this process): RSS ${mbOf(before.rss)} before, ${mbOf(after.rss)} after, peak ${mbOf(peakRss)}; heap used ${mbOf(before.heapUsed)} → ${mbOf(after.heapUsed)}.`,
      ],
      headline: [
        `Waves: ${rows.length} targets in ${(wallMs / 1000).toFixed(1)} s; parent history ${parent.events} events (${kb(parent.bytes)}), largest child ${maxChild.events}; worker peak RSS ${mbOf(peakRss)}.`,
      ],
    };
  } finally {
    await env.teardown();
  }
}
