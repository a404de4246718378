// 6. Recovery: how long a promotion stands still after a crash, until it progresses again (the
// next activity completed, server event time), measured from the moment of the crash.
//   - worker SIGKILLed in the middle of the staging deploy; a new worker process started at once.
//     Baseline: the same with SIGTERM (graceful shutdown reports the activity at once).
//   - worker SIGKILLed while the promotion waits for its approval; new worker; approval sent as soon
//     as it polls. Baseline: the same approval with the worker alive.
//   - dev server SIGKILLed and restarted (same SQLite file, same port) while the promotion waits
//     for its approval, and while an activity runs. Baseline: the restart itself, and the
//     activity's own duration.
import { Client } from '@temporalio/client';
import { activityOptions } from '../workflows/activityOptions';
import { SLOW_DEPLOY_MS, type ActivitySetName } from './benchActivities';
import {
  activitiesOf,
  benchDigest,
  historyOf,
  log,
  median,
  ms,
  promotionOf,
  ratio,
  referenceRepo,
  sleep,
  spawnBenchWorker,
  startBenchServer,
  table,
  until,
  waitUntilAwaitingApproval,
  type BenchContext,
  type BenchServer,
  type BenchWorker,
  type Section,
} from './benchKit';

const TASK_QUEUE = 'bench-recovery';

interface Sample {
  /** Crash (kill signal sent) to the next activity completed, ms. */
  toProgress: number;
  /** Extra figure for the row (the second column), ms. */
  other?: number;
}

async function stagingDeployRunning(client: Client, workflowId: string): Promise<void> {
  await until(
    'the staging deploy to run and heartbeat',
    async () => {
      const d = await client.workflow.getHandle(workflowId).describe();
      return d.raw.pendingActivities?.some(
        (a) => a.activityType?.name === 'deploy' && (a.heartbeatDetails?.payloads?.length ?? 0) > 0,
      )
        ? true
        : undefined;
    },
    30_000,
    20,
  );
}

/** Completion time (server) of the deploy to `environment`, and the attempt that completed it. */
async function deployCompleted(
  client: Client,
  workflowId: string,
  environment: string,
): Promise<{ at: number; attempt: number }> {
  const a = activitiesOf(await historyOf(client, workflowId)).find(
    (x) => x.type === 'deploy' && x.input.includes(`"environment":"${environment}"`),
  );
  if (!a?.completed) throw new Error(`${workflowId}: no completed ${environment} deploy`);
  return { at: a.completed, attempt: a.attempt ?? 1 };
}

async function approve(srv: BenchServer, digest: string, timeoutMs = 90_000): Promise<void> {
  await until(
    'the approval to be accepted',
    async () => {
      try {
        const answer = await srv.gantry.decide('approve', 'web', digest, {
          environment: 'production',
          by: 'release-manager',
        });
        if (!answer.accepted) throw new Error(`approval refused: ${answer.reason}`);
        return true;
      } catch (err) {
        if ((err as Error).message.startsWith('approval refused')) throw err;
        return undefined; // server still coming back: try again
      }
    },
    timeoutMs,
    100,
  );
}

export async function recovery(ctx: BenchContext): Promise<Section> {
  const reps = ctx.quick ? 1 : 3;
  const heartbeatMs = Number(activityOptions.deploy.heartbeatTimeout);
  const retryMs = 2000; // activityOptions.deploy.retry.initialInterval
  const srv = await startBenchServer(ctx, 'recovery', TASK_QUEUE);
  const workers: BenchWorker[] = [];
  const spawnWorker = async (activities: ActivitySetName) => {
    const w = await spawnBenchWorker(ctx, srv.address, { gantryQueue: TASK_QUEUE, activities });
    workers.push(w);
    return w;
  };
  try {
    const { yaml } = await referenceRepo(ctx, 'recovery', ['web']);
    const start = async () => {
      const input = promotionOf(yaml, 'web', benchDigest());
      const { workflowId } = await srv.gantry.start(input);
      return { digest: input.digest, workflowId };
    };
    const finish = async (p: { digest: string; workflowId: string }) => {
      await waitUntilAwaitingApproval(srv.client, p.workflowId, 120_000);
      await approve(srv, p.digest);
      await srv.gantry.result('web', p.digest);
    };

    // Worker killed mid-deploy: SIGKILL (found by the heartbeat timeout) vs SIGTERM (reported at once).
    const midDeploy: Record<'SIGKILL' | 'SIGTERM', Sample[]> = { SIGKILL: [], SIGTERM: [] };
    let victim = await spawnWorker('crash');
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      for (let i = 0; i < reps; i++) {
        log(`recovery: worker ${signal} mid-deploy ${i + 1}/${reps}`);
        const p = await start();
        await stagingDeployRunning(srv.client, p.workflowId);
        const killedAt = Date.now();
        await victim.kill(signal);
        const fresh = await spawnWorker('crash');
        await waitUntilAwaitingApproval(srv.client, p.workflowId, 120_000);
        const done = await deployCompleted(srv.client, p.workflowId, 'staging');
        midDeploy[signal].push({ toProgress: done.at - killedAt, other: fresh.startupMs });
        await finish(p);
        victim = fresh; // its own staging deploys hang on their first attempt: the next victim
      }
    }
    await victim.kill('SIGKILL');

    // Worker killed while the promotion waits for approval.
    const idleKill: Sample[] = [];
    const idleAlive: Sample[] = [];
    let worker = await spawnWorker('instant');
    for (let i = 0; i < reps; i++) {
      log(`recovery: worker SIGKILL during the approval wait ${i + 1}/${reps}`);
      const alive = await start();
      await waitUntilAwaitingApproval(srv.client, alive.workflowId);
      const approvedAt = Date.now();
      await approve(srv, alive.digest);
      await srv.gantry.result('web', alive.digest);
      idleAlive.push({
        toProgress: (await deployCompleted(srv.client, alive.workflowId, 'production')).at - approvedAt,
      });

      const p = await start();
      await waitUntilAwaitingApproval(srv.client, p.workflowId);
      const killedAt = Date.now();
      await worker.kill('SIGKILL');
      worker = await spawnWorker('instant');
      const sentAt = Date.now();
      await approve(srv, p.digest);
      await srv.gantry.result('web', p.digest);
      const done = await deployCompleted(srv.client, p.workflowId, 'production');
      idleKill.push({ toProgress: done.at - killedAt, other: done.at - sentAt });
    }

    // Dev server killed and restarted, while the promotion waits for approval.
    const serverIdle: Sample[] = [];
    const restarts: number[] = [];
    for (let i = 0; i < reps; i++) {
      log(`recovery: dev server restart during the approval wait ${i + 1}/${reps}`);
      const p = await start();
      await waitUntilAwaitingApproval(srv.client, p.workflowId);
      const { killedAt, answeringAt } = await srv.crashAndRestart();
      restarts.push(answeringAt - killedAt);
      await approve(srv, p.digest);
      await srv.gantry.result('web', p.digest);
      const done = await deployCompleted(srv.client, p.workflowId, 'production');
      serverIdle.push({ toProgress: done.at - killedAt, other: done.at - answeringAt });
    }
    await worker.kill('SIGTERM');

    // Dev server killed and restarted while the staging deploy runs (it takes SLOW_DEPLOY_MS).
    const serverBusy: Sample[] = [];
    worker = await spawnWorker('slow');
    for (let i = 0; i < reps; i++) {
      log(`recovery: dev server restart during an activity ${i + 1}/${reps}`);
      const p = await start();
      await stagingDeployRunning(srv.client, p.workflowId);
      await sleep(200);
      const { killedAt, answeringAt } = await srv.crashAndRestart();
      restarts.push(answeringAt - killedAt);
      await finish(p);
      const done = await deployCompleted(srv.client, p.workflowId, 'staging');
      serverBusy.push({ toProgress: done.at - killedAt, other: done.attempt });
      // Each worker's staging deploys are slow only on attempt 1; a fresh worker is not needed.
    }
    await worker.kill('SIGTERM');

    const med = (s: Sample[]) => median(s.map((x) => x.toProgress));
    const max = (s: Sample[]) => Math.max(...s.map((x) => x.toProgress));
    const bound = heartbeatMs + retryMs;
    const rows = [
      [
        'worker SIGTERM mid-deploy, new worker (baseline for the next row)',
        reps,
        ms(med(midDeploy.SIGTERM)),
        ms(max(midDeploy.SIGTERM)),
        `new worker ready in ${ms(median(midDeploy.SIGTERM.map((s) => s.other!)))}`,
        '1.00×',
      ],
      [
        'worker SIGKILL mid-deploy, new worker',
        reps,
        ms(med(midDeploy.SIGKILL)),
        ms(max(midDeploy.SIGKILL)),
        `bound: heartbeat timeout ${heartbeatMs / 1000} s + retry ${retryMs / 1000} s = ${bound / 1000} s`,
        ratio(med(midDeploy.SIGKILL), med(midDeploy.SIGTERM)),
      ],
      [
        'approval with the worker alive (baseline for the next row)',
        reps,
        ms(med(idleAlive)),
        ms(max(idleAlive)),
        'approve sent → production deploy completed',
        '1.00×',
      ],
      [
        'worker SIGKILL during the approval wait, new worker, approve',
        reps,
        ms(med(idleKill)),
        ms(max(idleKill)),
        `approve sent → deploy completed ${ms(median(idleKill.map((s) => s.other!)))}`,
        ratio(median(idleKill.map((s) => s.other!)), med(idleAlive)),
      ],
      [
        'dev server SIGKILL + restart during the approval wait, approve',
        reps,
        ms(med(serverIdle)),
        ms(max(serverIdle)),
        `restart alone ${ms(median(restarts))}; server answering → deploy completed ${ms(median(serverIdle.map((s) => s.other!)))}`,
        ratio(med(serverIdle), median(restarts)),
      ],
      [
        'dev server SIGKILL + restart while the staging deploy runs',
        reps,
        ms(med(serverBusy)),
        ms(max(serverBusy)),
        `the deploy takes ${SLOW_DEPLOY_MS / 1000} s by itself; completed by attempt ${serverBusy.map((s) => s.other).join(', ')}`,
        ratio(med(serverBusy), SLOW_DEPLOY_MS),
      ],
    ];
    return {
      title: '6. Recovery after crashes',
      caption:
        'Time from the crash (kill signal sent) to the promotion progressing again: the next activity completed (server event time). Reference pipeline, bench activity sets: the staging deploy hangs on its first attempt (worker crash rows) ' +
        `or takes ${SLOW_DEPLOY_MS / 1000} s (last row). A new worker process is started right after a worker is killed; the dev server restarts on the same port and SQLite file.`,
      table: table(['crash', 'runs', 'crash → progress, median', 'max', 'context', 'ratio to baseline'], rows),
      notes: [
        `A SIGKILLed worker cannot report its activity: the server finds out only when the heartbeat timeout (workflows/activityOptions.ts HEARTBEAT_TIMEOUT_MS = ${heartbeatMs / 1000} s) passes since the last heartbeat, then retries after the deploy's retry interval (${retryMs / 1000} s). So recovery is bounded by about ${bound / 1000} s after the last heartbeat; SIGTERM (deploys, rolling restarts) reports at once.`,
        'Trade-off: a shorter heartbeat timeout finds a dead worker sooner, but every heartbeating activity must then heartbeat more often (the SDK throttles heartbeats to 80% of the timeout), and a busy worker, a long GC pause or a slow `git clone`/`git push` (the gitops deploy heartbeats once per push attempt, not during git commands) would be declared dead while still working, so the deploy would run twice at once (harmless, it looks before it writes, but wasteful). 20 s keeps spurious timeouts unlikely; a crashed worker is rare and a promotion is minutes to days long.',
        "A worker killed while the promotion waits holds nothing: the approval's workflow task goes to the dead worker's sticky queue first and reaches the new worker through the normal queue once the sticky schedule-to-start timeout (SDK default 10 s, left as is) passes; the new worker replays the promotion from its history. " +
          'A shorter timeout would cut that wait, but on a busy worker (1,000 promotions in flight, scale) tasks would leave its sticky queue for the normal one more often and be replayed by whichever worker polls first.',
        'A dev server restart loses nothing (SQLite file); progress resumes once the server answers and the worker has reconnected.',
      ],
      headline: [
        `Recovery: worker SIGKILL mid-deploy → progress in ${ms(med(midDeploy.SIGKILL))} (bound: ${heartbeatMs / 1000} s heartbeat timeout + ${retryMs / 1000} s retry; SIGTERM ${ms(med(midDeploy.SIGTERM))}); worker SIGKILL while waiting for approval → ${ms(med(idleKill))}; dev server restart while waiting → ${ms(med(serverIdle))} (restart alone ${ms(median(restarts))}), during an activity → ${ms(med(serverBusy))}.`,
      ],
    };
  } finally {
    for (const w of workers) await w.kill('SIGKILL').catch(() => undefined);
    await srv.stop();
  }
}
