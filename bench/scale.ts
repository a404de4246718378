// 3. Scale: N promotions in flight, all waiting for the production approval, on one worker process
// (bench/benchWorker.js: the real workflow bundle, instant activities, the product's createWorker
// options, metrics on). Worker and dev server RSS from /proc/<pid>/status, the client's start rate,
// then every promotion approved and the time until all N completed. N from --scale /
// GANTRY_BENCH_SCALE (default 1000), one fresh server and worker per N. A phase that does not
// finish within its time budget is reported with how far it got (that is where it bends).
import { freePort } from '../src/local/freePort';
import { DEFAULT_MAX_CACHED_WORKFLOWS, workflowHeapLimitMb } from '../src/worker/workerTuning';
import {
  cpuMsOf,
  log,
  mapLimit,
  mb,
  SCALE_APPS,
  memoryOf,
  promotionsOfManyApps,
  scrapeMetric,
  sleep,
  spawnBenchWorker,
  startBenchServer,
  table,
  type BenchContext,
  type Section,
} from './benchKit';

const TASK_QUEUE = 'bench-scale';
/** Client calls in flight at once (starts, approvals), like a busy CI system. */
const CLIENT_CONCURRENCY = 32;

interface Phase {
  seconds: number;
  /** How many of the N got there (N unless the budget ran out). */
  reached: number;
  workerCpuMs: number;
  serverCpuMs: number;
}

interface ScaleRun {
  count: number;
  /** The worker's maxCachedWorkflows. */
  cache: number;
  startSeconds: number;
  settle: Phase;
  approveSeconds?: number;
  drain?: Phase;
  worker: { idleKb: number; loadedKb: number; peakKb: number };
  server: { idleKb: number; loadedKb: number; peakKb: number };
  cacheSize: number;
  evictions: number;
}

/** How long one phase may take: generous for a loaded 2-core machine, bounded for every N. */
const phaseBudgetMs = (count: number) => 180_000 + count * 120;

/** Polls a visibility count until it reaches `target` or the budget runs out. */
async function phase(
  what: string,
  count: () => Promise<number>,
  target: number,
  budgetMs: number,
  pids: { worker: number; server: number },
): Promise<Phase> {
  const t0 = performance.now();
  const cpu0 = { w: cpuMsOf(pids.worker), s: cpuMsOf(pids.server) };
  let reached = 0;
  let lastLog = t0;
  while (performance.now() - t0 < budgetMs) {
    reached = await count();
    if (reached >= target) break;
    if (performance.now() - lastLog > 30_000) {
      log(`scale: ${what} ${reached}/${target} after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      lastLog = performance.now();
    }
    await sleep(1000); // a count over N rows costs the server too: once a second is enough for phases of minutes
  }
  return {
    seconds: (performance.now() - t0) / 1000,
    reached,
    workerCpuMs: cpuMsOf(pids.worker) - cpu0.w,
    serverCpuMs: cpuMsOf(pids.server) - cpu0.s,
  };
}

async function scaleOnce(ctx: BenchContext, count: number, cache = DEFAULT_MAX_CACHED_WORKFLOWS): Promise<ScaleRun> {
  const srv = await startBenchServer(ctx, `scale-${count}-cache-${cache}`, TASK_QUEUE);
  try {
    const serverPid = srv.server.process.pid!;
    const metricsPort = await freePort();
    const worker = await spawnBenchWorker(ctx, srv.address, {
      gantryQueue: TASK_QUEUE,
      activities: 'instant',
      metricsPort,
      maxCachedWorkflows: cache,
    });
    const pids = { worker: worker.pid, server: serverPid };
    const promotions = await promotionsOfManyApps(ctx, `scale-${count}-cache-${cache}`, count);
    await sleep(2000);
    const workerIdle = memoryOf(worker.pid);
    const serverIdle = memoryOf(serverPid);
    const countOf = (query: string) =>
      srv.client.workflow.count(`WorkflowType = 'promoteArtifact' AND ${query}`).then((c) => c.count);
    const budgetMs = phaseBudgetMs(count);

    log(`scale ${count}: starting`);
    const t0 = performance.now();
    await mapLimit(promotions, CLIENT_CONCURRENCY, (input) => srv.gantry.start(input));
    const startSeconds = (performance.now() - t0) / 1000;
    const settleRest = await phase(
      'waiting for approval',
      () => countOf(`ExecutionStatus = 'Running' AND GantryAwaitingApproval = true`),
      count,
      budgetMs,
      pids,
    );
    const settle = { ...settleRest, seconds: settleRest.seconds + startSeconds };
    await sleep(2000);
    const workerLoaded = memoryOf(worker.pid);
    const serverLoaded = memoryOf(serverPid);
    const cacheSize = await scrapeMetric(metricsPort, 'temporal_sticky_cache_size');
    const run: ScaleRun = {
      count,
      cache,
      startSeconds,
      settle,
      worker: { idleKb: workerIdle.rssKb, loadedKb: workerLoaded.rssKb, peakKb: workerLoaded.peakKb },
      server: { idleKb: serverIdle.rssKb, loadedKb: serverLoaded.rssKb, peakKb: serverLoaded.peakKb },
      cacheSize,
      evictions: 0,
    };
    if (settle.reached < count) {
      log(`scale ${count}: only ${settle.reached} waiting within the budget; not approving`);
    } else {
      log(`scale ${count}: all waiting after ${settle.seconds.toFixed(1)} s; approving`);
      const t1 = performance.now();
      const cpu0 = { w: cpuMsOf(worker.pid), s: cpuMsOf(serverPid) };
      await mapLimit(promotions, CLIENT_CONCURRENCY, async ({ app, digest }) => {
        const answer = await srv.gantry.decide('approve', app, digest, {
          environment: 'production',
          by: 'release-manager',
        });
        if (!answer.accepted) throw new Error(`approval of ${digest} refused: ${answer.reason}`);
      });
      run.approveSeconds = (performance.now() - t1) / 1000;
      const rest = await phase('completed', () => countOf(`ExecutionStatus = 'Completed'`), count, budgetMs, pids);
      run.drain = {
        seconds: (performance.now() - t1) / 1000,
        reached: rest.reached,
        workerCpuMs: cpuMsOf(worker.pid) - cpu0.w,
        serverCpuMs: cpuMsOf(serverPid) - cpu0.s,
      };
      const after = memoryOf(worker.pid);
      run.worker.peakKb = after.peakKb;
      run.server.peakKb = Math.max(run.server.peakKb, memoryOf(serverPid).peakKb);
    }
    run.evictions = await scrapeMetric(metricsPort, 'temporal_sticky_cache_total_forced_eviction');
    await worker.kill();
    return run;
  } finally {
    await srv.stop();
  }
}

export async function scale(ctx: BenchContext): Promise<Section> {
  const runs: ScaleRun[] = [];
  // The product's settings at every N; then, for comparison, the first N with every promotion cached.
  for (const count of ctx.scaleCounts) runs.push(await scaleOnce(ctx, count));
  const first = runs[0];
  const allCached = ctx.quick ? undefined : await scaleOnce(ctx, first.count, first.count);
  const n = (v: number) => v.toLocaleString('en');
  const perPromotionKb = (r: ScaleRun) => (r.worker.loadedKb - r.worker.idleKb) / r.count;
  const cpuPer = (p: Phase | undefined, count: number) =>
    p ? `${(p.workerCpuMs / count).toFixed(0)} / ${(p.serverCpuMs / count).toFixed(0)} ms` : '—';
  const rows = [first, ...(allCached ? [allCached] : []), ...runs.slice(1)].map((r) => [
    n(r.count),
    `${n(r.cache)}${r.cache === DEFAULT_MAX_CACHED_WORKFLOWS ? ' (default)' : ''}, heap ${workflowHeapLimitMb(r.cache)} MB`,
    `${mb(r.worker.idleKb)} → **${mb(r.worker.loadedKb)}** (peak ${mb(r.worker.peakKb)})`,
    `${perPromotionKb(r).toFixed(0)} kB`,
    `${mb(r.server.idleKb)} → ${mb(r.server.loadedKb)} (peak ${mb(r.server.peakKb)})`,
    `${(r.count / r.startSeconds).toFixed(0)} /s`,
    r.settle.reached >= r.count
      ? `${r.settle.seconds.toFixed(0)} s`
      : `${n(r.settle.reached)} of ${n(r.count)} in ${r.settle.seconds.toFixed(0)} s`,
    cpuPer(r.settle, r.count),
    r.approveSeconds !== undefined
      ? `${r.approveSeconds.toFixed(1)} s (${(r.count / r.approveSeconds).toFixed(0)} /s)`
      : '—',
    r.drain
      ? r.drain.reached >= r.count
        ? `**${r.drain.seconds.toFixed(1)} s**`
        : `${n(r.drain.reached)} of ${n(r.count)} in ${r.drain.seconds.toFixed(0)} s`
      : '—',
    cpuPer(r.drain, r.count),
    `${r.cacheSize.toFixed(0)} / ${r.evictions.toFixed(0)}`,
  ]);
  const rssOk = first.worker.loadedKb / 1024 < 300;
  const drainOk = first.drain !== undefined && first.drain.reached >= first.count && first.drain.seconds < 60;
  const bends = runs.slice(1).map((r) => {
    const base = first.count / first.startSeconds;
    const parts = [`start rate ${(r.count / r.startSeconds / base).toFixed(2)}× of the ${n(first.count)} run`];
    if (r.settle.reached < r.count)
      parts.push(
        `only ${n(r.settle.reached)} reached the approval within the ${(phaseBudgetMs(r.count) / 1000).toFixed(0)} s budget`,
      );
    else
      parts.push(
        `settle per promotion ${(r.settle.seconds / r.count / (first.settle.seconds / first.count)).toFixed(2)}×`,
      );
    if (r.drain && first.drain)
      parts.push(
        `drain per promotion ${(r.drain.seconds / r.count / (first.drain.seconds / first.count)).toFixed(2)}×`,
      );
    parts.push(`worker RSS ${mb(r.worker.loadedKb)}, ${r.evictions.toFixed(0)} forced cache evictions`);
    return `${n(r.count)}: ${parts.join('; ')}.`;
  });
  return {
    title: '3. Scale: promotions in flight on one worker',
    caption:
      `N reference promotions of ${SCALE_APPS} apps (N/${SCALE_APPS} digests per app, ordering: queue, so each app's lane orders them) started from one client (${CLIENT_CONCURRENCY} calls in flight, GantryClient.start), all waiting at the production approval on **one worker process** ` +
      '(bench/benchWorker.js: the real workflow bundle with **instant bench activities**, the product createWorker options, Prometheus metrics on); RSS from /proc/<pid>/status (VmRSS, peak VmHWM), CPU from /proc/<pid>/stat. ' +
      'Then all N approved (GantryClient.decide, same concurrency) and timed until all N completed (visibility count). Baselines: the same processes idle before the run (RSS), and the first row for the later ones.',
    table: table(
      [
        'in flight',
        'worker cache (maxCachedWorkflows), workflow heap limit',
        'worker RSS idle → all waiting',
        'worker RSS per promotion',
        'dev server RSS idle → all waiting',
        'start rate',
        'start → all waiting',
        'CPU per promotion to the approval (worker / server)',
        'approvals sent',
        'approve → all completed (drain)',
        'CPU per promotion, drain (worker / server)',
        'sticky cache size / forced evictions',
      ],
      rows,
    ),
    notes: [
      `Targets at ${n(first.count)}: worker RSS < 300 MB — ${mb(first.worker.loadedKb)}, ${rssOk ? 'met' : 'not met'}; drain < 60 s — ${first.drain ? `${first.drain.seconds.toFixed(1)} s` : 'not reached'}, ${drainOk ? 'met' : 'not met'}.`,
      `The dev server (SQLite) does more of the work than the worker: ${(first.settle.serverCpuMs / first.settle.workerCpuMs).toFixed(1)}× the worker's CPU per promotion up to the approval; the two share this machine's 2 cores, so CPU bounds the start → waiting and drain times. Part of the server's share is visibility: every stage upserts Gantry's search attributes.`,
      `The worker keeps at most ${n(DEFAULT_MAX_CACHED_WORKFLOWS)} promotions in its cache by default (src/worker/workerTuning.ts) and its workflow thread's heap to ${workflowHeapLimitMb(DEFAULT_MAX_CACHED_WORKFLOWS)} MB; the others are evicted and replayed from history when they wake (approval, next activity). ` +
        (allCached
          ? `With every promotion cached (the SDK's default here would be ~2,300 from the 4 GB V8 heap limit) the worker held ${mb(allCached.worker.loadedKb)} at ${n(allCached.count)} waiting against ${mb(first.worker.loadedKb)}, and drained in ${allCached.drain ? `${allCached.drain.seconds.toFixed(1)} s` : '—'} against ${first.drain ? `${first.drain.seconds.toFixed(1)} s` : '—'}.`
          : 'Run without --quick to compare with every promotion cached.'),
      'The drain includes sending the N approvals: each is one update call that waits for the workflow task that accepts it (an evicted promotion is replayed from its history first).',
      ...(bends.length
        ? bends
        : ['Run with `--scale 1000,10000` (or GANTRY_BENCH_SCALE=1000,10000) for the larger counts.']),
    ],
    headline: runs.map(
      (r) =>
        `${n(r.count)} promotions waiting on one worker: worker RSS ${mb(r.worker.loadedKb)} (idle ${mb(r.worker.idleKb)}), dev server RSS ${mb(r.server.loadedKb)}, start rate ${(r.count / r.startSeconds).toFixed(0)}/s, ` +
        (r.drain && r.drain.reached >= r.count
          ? `approve all → all completed in ${r.drain.seconds.toFixed(1)} s.`
          : `did not settle/drain within the budget (${n(r.settle.reached)} waiting).`),
    ),
  };
}
