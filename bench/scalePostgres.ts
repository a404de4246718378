// 3b. Scale on the production-shaped Temporal: the scale benchmark's workload (N reference
// promotions to the production approval, then all approved) against the Temporal server on
// PostgreSQL (scripts/temporal/cluster.sh, SQL visibility), with one worker process and with two
// on the same task queue, each on a fresh server and database. Start rate, start → all waiting,
// drain, server and worker RSS; how throughput changes from one worker to two.
import { Client, Connection } from '@temporalio/client';
import { GantryClient } from '../src/client/gantryClient';
import { startTemporalCluster } from '../src/local/temporalCluster';
import {
  cpuMsOf,
  log,
  mapLimit,
  mb,
  memoryOf,
  promotionsOfManyApps,
  SCALE_APPS,
  sleep,
  spawnBenchWorker,
  table,
  type BenchContext,
  type Section,
} from './benchKit';

const TASK_QUEUE = 'bench-scale-postgres';
const CLIENT_CONCURRENCY = 32;
const phaseBudgetMs = (count: number) => 180_000 + count * 120;

interface Run {
  workers: number;
  count: number;
  startSeconds: number;
  settleSeconds: number;
  settled: number;
  drainSeconds?: number;
  drained: number;
  serverKb: { idle: number; loaded: number };
  workerKb: { idle: number; loaded: number }[];
  serverCpuMs: number;
  workerCpuMs: number;
}

async function waitForCount(
  what: string,
  count: () => Promise<number>,
  target: number,
  budgetMs: number,
): Promise<{ seconds: number; reached: number }> {
  const t0 = performance.now();
  let reached = 0;
  let lastLog = t0;
  while (performance.now() - t0 < budgetMs) {
    reached = await count().catch(() => reached);
    if (reached >= target) break;
    if (performance.now() - lastLog > 30_000) {
      log(`scale-postgres: ${what} ${reached}/${target}`);
      lastLog = performance.now();
    }
    await sleep(1000);
  }
  return { seconds: (performance.now() - t0) / 1000, reached };
}

async function runOnce(ctx: BenchContext, count: number, workerCount: number): Promise<Run> {
  const cluster = await startTemporalCluster();
  try {
    const serverPid = cluster.serverPid();
    const workers = await Promise.all(
      Array.from({ length: workerCount }, () =>
        spawnBenchWorker(ctx, cluster.address, { gantryQueue: TASK_QUEUE, activities: 'instant' }),
      ),
    );
    const connection = await Connection.connect({ address: cluster.address });
    const client = new Client({ connection, namespace: 'default' });
    const gantry = await GantryClient.connect({
      connectionOptions: { address: cluster.address },
      namespace: 'default',
      taskQueue: TASK_QUEUE,
    });
    try {
      const promotions = await promotionsOfManyApps(ctx, `scale-postgres-${count}-${workerCount}w`, count);
      await sleep(2000);
      const serverIdle = memoryOf(serverPid).rssKb;
      const workersIdle = workers.map((w) => memoryOf(w.pid).rssKb);
      const cpu0 = { s: cpuMsOf(serverPid), w: workers.reduce((a, w) => a + cpuMsOf(w.pid), 0) };
      const countOf = (query: string) =>
        client.workflow.count(`WorkflowType = 'promoteArtifact' AND ${query}`).then((c) => c.count);

      log(`scale-postgres ${count} on ${workerCount} worker(s): starting`);
      const t0 = performance.now();
      await mapLimit(promotions, CLIENT_CONCURRENCY, (input) => gantry.start(input));
      const startSeconds = (performance.now() - t0) / 1000;
      const settle = await waitForCount(
        'waiting for approval',
        () => countOf(`ExecutionStatus = 'Running' AND GantryAwaitingApproval = true`),
        count,
        phaseBudgetMs(count),
      );
      await sleep(2000);
      const run: Run = {
        workers: workerCount,
        count,
        startSeconds,
        settleSeconds: settle.seconds + startSeconds,
        settled: settle.reached,
        drained: 0,
        serverKb: { idle: serverIdle, loaded: memoryOf(serverPid).rssKb },
        workerKb: workers.map((w, i) => ({ idle: workersIdle[i], loaded: memoryOf(w.pid).rssKb })),
        serverCpuMs: 0,
        workerCpuMs: 0,
      };
      if (settle.reached >= count) {
        const t1 = performance.now();
        await mapLimit(promotions, CLIENT_CONCURRENCY, async ({ app, digest }) => {
          const answer = await gantry.decide('approve', app, digest, {
            environment: 'production',
            by: 'release-manager',
          });
          if (!answer.accepted) throw new Error(`approval of ${digest} refused: ${answer.reason}`);
        });
        const drain = await waitForCount(
          'completed',
          () => countOf(`ExecutionStatus = 'Completed'`),
          count,
          phaseBudgetMs(count),
        );
        run.drainSeconds = (performance.now() - t1) / 1000;
        run.drained = drain.reached;
      }
      run.serverCpuMs = cpuMsOf(serverPid) - cpu0.s;
      run.workerCpuMs = workers.reduce((a, w) => a + cpuMsOf(w.pid), 0) - cpu0.w;
      return run;
    } finally {
      await gantry.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await Promise.all(workers.map((w) => w.kill()));
    }
  } finally {
    await cluster.stop();
  }
}

export async function scalePostgres(ctx: BenchContext): Promise<Section> {
  const count = ctx.scaleCounts[0];
  const one = await runOnce(ctx, count, 1);
  const two = await runOnce(ctx, count, 2);
  const n = (v: number) => v.toLocaleString('en');
  const rows = [one, two].map((r) => [
    `${n(r.count)} on ${r.workers} worker${r.workers > 1 ? 's' : ''}`,
    `${(r.count / r.startSeconds).toFixed(0)} /s`,
    r.settled >= r.count
      ? `${r.settleSeconds.toFixed(0)} s (${(r.count / r.settleSeconds).toFixed(1)} /s)`
      : `${n(r.settled)} of ${n(r.count)} in ${r.settleSeconds.toFixed(0)} s`,
    r.drainSeconds !== undefined
      ? r.drained >= r.count
        ? `**${r.drainSeconds.toFixed(1)} s** (${(r.count / r.drainSeconds).toFixed(1)} /s)`
        : `${n(r.drained)} of ${n(r.count)} in ${r.drainSeconds.toFixed(0)} s`
      : '—',
    `${mb(r.serverKb.idle)} → ${mb(r.serverKb.loaded)}`,
    r.workerKb.map((w) => `${mb(w.idle)} → ${mb(w.loaded)}`).join('; '),
    `${(r.workerCpuMs / r.count).toFixed(0)} / ${(r.serverCpuMs / r.count).toFixed(0)} ms`,
  ]);
  const throughput = (r: Run) =>
    r.drainSeconds && r.drained >= r.count ? r.count / (r.settleSeconds + r.drainSeconds) : NaN;
  const change = throughput(two) / throughput(one);
  return {
    title: '3b. Scale on Temporal with PostgreSQL: one worker, then two',
    caption:
      `The scale benchmark's workload (${n(count)} reference promotions of ${SCALE_APPS} apps, queued per app, started by one client with ${CLIENT_CONCURRENCY} calls in flight, all to the production approval, then all approved; instant bench activities) against the Temporal server ` +
      'built from go.temporal.io/server v1.32.1 on a private PostgreSQL 15 with SQL visibility (scripts/temporal/cluster.sh), a fresh server and database per row; the second row runs two worker processes on the same task queue. ' +
      'RSS from /proc/<pid>/status; CPU from /proc/<pid>/stat over the whole row (all workers together / the Temporal server; PostgreSQL itself is not counted).',
    table: table(
      [
        'promotions',
        'start rate',
        'start → all waiting',
        'approve → all completed (drain)',
        'server RSS idle → all waiting',
        'worker RSS idle → all waiting',
        'CPU per promotion (workers / server)',
      ],
      rows,
    ),
    notes: [
      `Throughput (promotions through start, approval and completion per second of both phases): ${throughput(one).toFixed(1)} /s with one worker, ${throughput(two).toFixed(1)} /s with two: ${Number.isFinite(change) ? `${change.toFixed(2)}×` : 'n/a'}.` +
        ' On this 2-core machine the server, PostgreSQL and the workers share the same cores, so a second worker adds polling capacity but no CPU; on separate machines the workers scale out.',
      `Compare with section 3 (the dev server on SQLite, one worker) measured in the same run.`,
    ],
    headline: [
      `${n(count)} promotions on Temporal with PostgreSQL: 1 worker ${throughput(one).toFixed(1)} /s (drain ${one.drainSeconds?.toFixed(1) ?? '—'} s, server RSS ${mb(one.serverKb.loaded)}), 2 workers ${throughput(two).toFixed(1)} /s (drain ${two.drainSeconds?.toFixed(1) ?? '—'} s): ${Number.isFinite(change) ? `${change.toFixed(2)}×` : 'n/a'}.`,
    ],
  };
}
