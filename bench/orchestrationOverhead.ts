// 1. Orchestration overhead: the reference pipeline (verify; dev, staging, production; the
// production approval sent the moment it is awaited; no soak) through the real promoteArtifact
// workflow, against a bare Temporal workflow running the same number of sequential no-op
// activities on the same worker setup (same process, same createWorker options), interleaved run by
// run so load drift hits both alike. Then the same pipeline with the real gitops deploy into a
// local bare repo, for information.
import type { Client } from '@temporalio/client';
import { GantryClient } from '../src/client/gantryClient';
import {
  benchDigest,
  cpuMsOf,
  eventMs,
  historyOf,
  log,
  median,
  ms,
  percentile,
  promotionOf,
  ratio,
  REFERENCE_ACTIVITIES,
  referenceRepo,
  spawnBenchWorker,
  startBenchServer,
  table,
  waitUntilAwaitingApproval,
  type BenchContext,
  type HistoryEvent,
  type Section,
} from './benchKit';

interface Run {
  workflowId: string;
  /** Client wall time: start call to result. */
  wall: number;
  /** Server time: WorkflowExecutionStarted to the closing event. */
  server: number;
  /** Server time from the approval being awaited to the approve update completing. */
  approvalStep?: number;
  /** Workflow tasks, and each one's WorkflowTaskStarted → WorkflowTaskCompleted (the worker's turn, ms). */
  workflowTasks: number[];
  /** CPU (ms) the worker process and the dev server used during the run. */
  cpu?: { worker: number; server: number };
}

export interface Pids {
  worker: number;
  server: number;
}

function cpuNow(pids?: Pids) {
  return pids ? { worker: cpuMsOf(pids.worker), server: cpuMsOf(pids.server) } : undefined;
}
function cpuSince(before: ReturnType<typeof cpuNow>, pids?: Pids) {
  return before && pids
    ? { worker: cpuMsOf(pids.worker) - before.worker, server: cpuMsOf(pids.server) - before.server }
    : undefined;
}

function workflowTaskTimes(events: HistoryEvent[]): number[] {
  const started = new Map<number, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.workflowTaskStartedEventAttributes) started.set(Number(e.eventId), eventMs(e));
    const c = e.workflowTaskCompletedEventAttributes;
    if (c) out.push(eventMs(e) - (started.get(Number(c.startedEventId)) ?? eventMs(e)));
  }
  return out;
}

export async function promoteReference(
  gantry: GantryClient,
  client: Client,
  yaml: string,
  app: string,
  pids?: Pids,
): Promise<Run> {
  const input = promotionOf(yaml, app, benchDigest());
  const cpu0 = cpuNow(pids);
  const t0 = performance.now();
  const { workflowId, state } = await gantry.start(input);
  if (state !== 'new') throw new Error(`expected a new promotion, got ${state}`);
  await waitUntilAwaitingApproval(client, workflowId);
  const answer = await gantry.decide('approve', app, input.digest, {
    environment: 'production',
    by: 'release-manager',
  });
  if (!answer.accepted) throw new Error(`approval refused: ${answer.reason}`);
  const result = await gantry.result(app, input.digest);
  const wall = performance.now() - t0;
  const cpu = cpuSince(cpu0, pids);
  if (result.outcome !== 'promoted') throw new Error(`promotion ended ${result.outcome}: ${result.reason}`);
  const events = await historyOf(client, workflowId);
  const awaited = events.find(
    (e) =>
      e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.GantryAwaitingApproval &&
      Buffer.from(
        e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes.indexedFields.GantryAwaitingApproval.data ??
          [],
      ).toString() === 'true',
  );
  // The approval's update, not the start's admission update (which completes first).
  const updated = events.find(
    (e) => e.workflowExecutionUpdateCompletedEventAttributes && awaited && Number(e.eventId) > Number(awaited.eventId),
  );
  return {
    workflowId,
    wall,
    server: eventMs(events[events.length - 1]) - eventMs(events[0]),
    approvalStep: awaited && updated ? eventMs(updated) - eventMs(awaited) : undefined,
    workflowTasks: workflowTaskTimes(events),
    cpu,
  };
}

async function bareOnce(client: Client, taskQueue: string, i: number, pids?: Pids): Promise<Run> {
  const workflowId = `bare-${Date.now()}-${i}`;
  const cpu0 = cpuNow(pids);
  const t0 = performance.now();
  const done = await client.workflow.execute('bareWorkflow', { taskQueue, workflowId, args: [REFERENCE_ACTIVITIES] });
  const wall = performance.now() - t0;
  const cpu = cpuSince(cpu0, pids);
  if (done !== REFERENCE_ACTIVITIES) throw new Error(`bare workflow ran ${String(done)} steps`);
  const events = await historyOf(client, workflowId);
  return {
    workflowId,
    wall,
    server: eventMs(events[events.length - 1]) - eventMs(events[0]),
    workflowTasks: workflowTaskTimes(events),
    cpu,
  };
}

export async function orchestrationOverhead(ctx: BenchContext): Promise<Section> {
  const runs = ctx.quick ? 10 : 50;
  const gitopsRuns = ctx.quick ? 5 : 20;
  const warmup = 5;
  const srv = await startBenchServer(ctx, 'overhead', 'bench-gantry');
  try {
    // One worker process for the three, so they share the same setup: the bare workflow, Gantry with
    // the worker's real audit log and freeze look-ups, and Gantry with those two instant as well.
    const worker = await spawnBenchWorker(ctx, srv.address, {
      gantryQueue: 'bench-gantry',
      bareQueue: 'bench-bare',
      activities: 'instant',
    });
    const leanWorker = await spawnBenchWorker(ctx, srv.address, { gantryQueue: 'bench-lean', activities: 'lean' });
    const leanClient = new GantryClient(srv.client, 'bench-lean');
    const serverPid = srv.server.process.pid!;
    const pids = { worker: worker.pid, server: serverPid };
    const leanPids = { worker: leanWorker.pid, server: serverPid };
    const { yaml } = await referenceRepo(ctx, 'overhead', ['web']);
    const gantry: Run[] = [];
    const lean: Run[] = [];
    const bare: Run[] = [];
    log(`overhead: ${warmup} warm-up + ${runs} interleaved runs each`);
    for (let i = 0; i < warmup + runs; i++) {
      const g = await promoteReference(srv.gantry, srv.client, yaml, 'web', pids);
      const b = await bareOnce(srv.client, 'bench-bare', i, pids);
      const l = await promoteReference(leanClient, srv.client, yaml, 'web', leanPids);
      if (i >= warmup) {
        gantry.push(g);
        bare.push(b);
        lean.push(l);
      }
    }
    await Promise.all([worker.kill(), leanWorker.kill()]);

    // The real gitops deploy into a local bare repo (three commits and pushes per promotion).
    const gitWorker = await spawnBenchWorker(ctx, srv.address, { gantryQueue: 'bench-gitops', activities: 'gitops' });
    const gitClient = new GantryClient(srv.client, 'bench-gitops');
    // Its own app: each app's lane workflow lives on the task queue of the worker that started it,
    // and the workers of the runs above are gone.
    const { yaml: gitYaml } = await referenceRepo(ctx, 'overhead-gitops', ['webgit']);
    const gitops: Run[] = [];
    log(`overhead: ${gitopsRuns} runs with the real gitops deploy`);
    for (let i = 0; i < 2 + gitopsRuns; i++) {
      const g = await promoteReference(gitClient, srv.client, gitYaml, 'webgit', {
        worker: gitWorker.pid,
        server: serverPid,
      });
      if (i >= 2) gitops.push(g);
    }
    await gitWorker.kill();

    const row = (name: string, r: Run[], base?: Run[]) => {
      const wall = r.map((x) => x.wall);
      const bw = base?.map((x) => x.wall) ?? [];
      const tasks = r.flatMap((x) => x.workflowTasks);
      return [
        name,
        r.length,
        ms(median(wall)),
        ms(percentile(wall, 95)),
        base ? ratio(median(wall), median(bw)) : '1.00× (baseline)',
        base ? ratio(percentile(wall, 95), percentile(bw, 95)) : '1.00× (baseline)',
        ms(median(r.map((x) => x.server))),
        `${median(r.map((x) => x.workflowTasks.length))} × ${ms(median(tasks))}`,
        `${ms(median(r.map((x) => x.cpu?.worker ?? NaN)))} / ${ms(median(r.map((x) => x.cpu?.server ?? NaN)))}`,
      ];
    };
    const approval = gantry.map((g) => g.approvalStep!).filter((v) => v !== undefined);
    const markers = (await historyOf(srv.client, gantry[0].workflowId)).filter(
      (e) => e.markerRecordedEventAttributes,
    ).length;
    const medianRatio = median(gantry.map((g) => g.wall)) / median(bare.map((b) => b.wall));
    const p95Ratio =
      percentile(
        gantry.map((g) => g.wall),
        95,
      ) /
      percentile(
        bare.map((b) => b.wall),
        95,
      );
    const p95Wall = percentile(
      gantry.map((g) => g.wall),
      95,
    );
    return {
      title: '1. Orchestration overhead',
      caption:
        `Reference pipeline (verify; dev deploy+health; staging deploy+health+2 gates; production approval+deploy+health = ${REFERENCE_ACTIVITIES} activities; no soak; one unsigned approval, no freeze windows, no webhooks), ` +
        'through the real promoteArtifact workflow and `GantryClient` (start, approval sent the moment it is awaited, result). **Bench activity set: verifyArtifact, deploy, checkHealth ' +
        'and runGate return at once** (same names, so the workflow code is the real one), except in the last row. Baseline: a bare workflow running ' +
        `${REFERENCE_ACTIVITIES} sequential no-op activities on the same worker process (same createWorker options), the three interleaved run by run. Wall = client, start call to result; server time = WorkflowExecutionStarted to close event; CPU from /proc/<pid>/stat around each run (git child processes not included).`,
      table: table(
        [
          'workflow',
          'runs',
          'wall median',
          'wall p95',
          'ratio median',
          'ratio p95',
          'server time median',
          'workflow tasks × median task (started → completed)',
          'CPU per run, worker / dev server (median)',
        ],
        [
          row('bare Temporal workflow (baseline)', bare),
          row('Gantry reference pipeline, instant activities (audit log and freeze look-ups real)', gantry, bare),
          row('Gantry, audit write and freeze look-up instant too (the workflow alone)', lean, bare),
          row('Gantry, real gitops deploy to a local bare repo (info)', gitops, bare),
        ],
      ),
      notes: [
        `Target ratio ≤ 1.25: median ${medianRatio.toFixed(2)}×, p95 ${p95Ratio.toFixed(2)}× — ${medianRatio <= 1.25 && p95Ratio <= 1.25 ? 'met' : 'not met'}. Whole pipeline < 1 s: p95 ${ms(p95Wall)} — ${p95Wall < 1000 ? 'met' : 'not met'}.`,
        `Of the Gantry wall time, the approval step (server time from GantryAwaitingApproval=true to the approve update completed: the client sees the upsert through a history long-poll, then GantryClient.decide, one update call) takes median ${ms(median(approval))}, p95 ${ms(percentile(approval, 95))}; the bare workflow has no such step.`,
        'GantryClient.start makes two calls (describe, then start with USE_EXISTING) for its idempotent start; the bare baseline makes one (execute).',
        `The worker's own side effects: every stage writes a signed audit record (local activity; file lock, append, fdatasync) and each environment looks up manual freezes (local activity; a query to the freeze registry workflow), ${markers} marker events per promotion. Without them (third row) the ratio is ${(median(lean.map((g) => g.wall)) / median(bare.map((b) => b.wall))).toFixed(2)}× (median).`,
        `Per decision: a Gantry workflow task takes ${ms(median(gantry.flatMap((g) => g.workflowTasks)))} from started to completed against ${ms(median(bare.flatMap((b) => b.workflowTasks)))} for the bare workflow ` +
          `(most run an audit write as a local activity inside the task, and upsert search attributes). CPU per run: worker ${ratio(median(gantry.map((g) => g.cpu!.worker)), median(bare.map((b) => b.cpu!.worker)))}, ` +
          `dev server ${ratio(median(gantry.map((g) => g.cpu!.server)), median(bare.map((b) => b.cpu!.server)))} of the bare workflow's: on this 2-core machine the run is bound by CPU, mostly the dev server's.`,
        `Gitops row: each promotion clones the bare repo and pushes three commits (one per environment); median ${ms(median(gitops.map((g) => g.wall)))}.`,
      ],
      headline: [
        `Reference pipeline with instant deploy/health/gates: median ${ms(median(gantry.map((g) => g.wall)))}, p95 ${ms(p95Wall)} vs bare ${ms(median(bare.map((b) => b.wall)))} / ${ms(
          percentile(
            bare.map((b) => b.wall),
            95,
          ),
        )} (ratio ${medianRatio.toFixed(2)}× / ${p95Ratio.toFixed(2)}×); with the real gitops deploy median ${ms(median(gitops.map((g) => g.wall)))}.`,
      ],
    };
  } finally {
    await srv.stop();
  }
}
