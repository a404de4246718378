// 2. Reaction time: how soon the promotion moves after an event. From the approve update
// completing to the next activity (production deploy) starting, and from the start to the first
// activity (verify) starting; server timestamps from the history. Baseline measured in the same
// run: the seed article's polling loop (check the status, sleep 10 s, repeat) noticing the same
// approval. And the CLI: `bin/gantry approve` end to end, against a bare `node` start.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/local/tools';
import {
  activitiesOf,
  benchDigest,
  eventMs,
  historyOf,
  log,
  mapLimit,
  median,
  ms,
  percentile,
  promotionOf,
  ratio,
  referenceRepo,
  sleep,
  spawnBenchWorker,
  startBenchServer,
  table,
  waitUntilAwaitingApproval,
  type BenchContext,
  type Section,
} from './benchKit';

const POLL_INTERVAL_MS = 10_000;

/** "1/2,300 (2,300× sooner)" for ratios far below 1. */
function faster(value: number, baseline: number): string {
  if (!(value > 0)) return 'n/a';
  const times = baseline / value;
  return times >= 10 ? `1/${Math.round(times).toLocaleString('en')}` : ratio(value, baseline);
}

function timeProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; code: number; stderr: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ ms: performance.now() - t0, code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

export async function reactionTime(ctx: BenchContext): Promise<Section> {
  const promotions = ctx.quick ? 40 : 200;
  const pollers = ctx.quick ? 6 : 20;
  const cliRuns = ctx.quick ? 5 : 20;
  const srv = await startBenchServer(ctx, 'reaction', 'bench-reaction');
  try {
    const worker = await spawnBenchWorker(ctx, srv.address, { gantryQueue: 'bench-reaction', activities: 'instant' });
    const { yaml } = await referenceRepo(ctx, 'reaction', ['web']);
    // The promotions that wait side by side below get an app each: two digests of one app would
    // supersede each other (ordering: supersede, the default).
    const sideBySide = Array.from({ length: pollers + cliRuns }, (_, i) => `app${i}`);
    const { yaml: sideBySideYaml } = await referenceRepo(ctx, 'reaction-side-by-side', sideBySide);

    // Gantry: one promotion at a time, approved the moment it waits.
    const afterUpdate: number[] = []; // UpdateCompleted -> next ActivityTaskStarted (server)
    const afterUpdateScheduled: number[] = []; // UpdateCompleted -> next ActivityTaskScheduled (server)
    const clientToStart: number[] = []; // update call returned (client clock) -> ActivityTaskStarted
    const issuedToStart: number[] = []; // approve call issued (client clock) -> ActivityTaskStarted
    const taskToStart: number[] = []; // the update's WorkflowTaskScheduled -> ActivityTaskStarted (server)
    const startToFirst: number[] = []; // WorkflowExecutionStarted -> first ActivityTaskStarted (server)
    const clientStartToFirst: number[] = []; // start call issued (client clock) -> first ActivityTaskStarted
    const decideCalls: number[] = []; // GantryClient.decide round trip (one update call)
    log(`reaction: ${promotions} promotions`);
    for (let i = 0; i < promotions + 5; i++) {
      const input = promotionOf(yaml, 'web', benchDigest());
      const startedAt = Date.now();
      const { workflowId } = await srv.gantry.start(input);
      await waitUntilAwaitingApproval(srv.client, workflowId);
      const t0 = Date.now();
      const answer = await srv.gantry.decide('approve', 'web', input.digest, {
        environment: 'production',
        by: 'release-manager',
      });
      const returnedAt = Date.now();
      if (!answer.accepted) throw new Error(`approval refused: ${answer.reason}`);
      await srv.gantry.result('web', input.digest);
      if (i < 5) continue; // warm-up
      const events = await historyOf(srv.client, workflowId);
      const acts = activitiesOf(events);
      // The approval's update: the last one (the start's admission update completes first).
      const updated = eventMs(events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes).at(-1)!);
      const next = acts.find((a) => a.scheduled >= updated)!;
      afterUpdate.push(next.started! - updated);
      // The update arrives in a workflow task that also runs the decision's local activities (audit,
      // freeze look-up, the lane's answer): its completion stamps the update, so count from its start.
      const accepted = events.map((e) => !!e.workflowExecutionUpdateAcceptedEventAttributes).lastIndexOf(true);
      const carrying = events
        .slice(0, accepted)
        .filter((e) => e.workflowTaskScheduledEventAttributes)
        .at(-1)!;
      taskToStart.push(next.started! - eventMs(carrying));
      issuedToStart.push(next.started! - t0);
      afterUpdateScheduled.push(next.scheduled - updated);
      clientToStart.push(next.started! - returnedAt);
      startToFirst.push(acts[0].started! - eventMs(events[0]));
      clientStartToFirst.push(acts[0].started! - startedAt);
      decideCalls.push(returnedAt - t0);
    }

    // Baseline: the polling loop. Each poller checks the status, sleeps 10 s, checks again; the
    // approval lands at a random moment of its cycle. All pollers run at once (one 10 s cycle or two).
    log(`reaction: ${pollers} polling-loop baselines (sleep ${POLL_INTERVAL_MS / 1000} s)`);
    const waiting = await mapLimit(sideBySide.slice(0, pollers), 8, async (app) => {
      const input = promotionOf(sideBySideYaml, app, benchDigest());
      const { workflowId } = await srv.gantry.start(input);
      await waitUntilAwaitingApproval(srv.client, workflowId);
      return { app, digest: input.digest };
    });
    const pollerReaction = await Promise.all(
      waiting.map(async ({ app, digest }) => {
        let approvedAt: number | undefined;
        const approveLater = (async () => {
          await sleep(Math.random() * POLL_INTERVAL_MS);
          await srv.gantry.decide('approve', app, digest, { environment: 'production', by: 'release-manager' });
          approvedAt = Date.now();
        })();
        // The seed article's loop: `until status shows it; do sleep 10; done`.
        for (let round = 0; round < 5; round++) {
          const s = await srv.gantry.status(app, digest);
          if (s.environments.find((e) => e.name === 'production')?.approval) break;
          await sleep(POLL_INTERVAL_MS);
        }
        const noticedAt = Date.now();
        await approveLater;
        return Math.max(0, noticedAt - approvedAt!);
      }),
    );

    // The CLI: `gantry approve` as a person runs it, one process per decision.
    log(`reaction: ${cliRuns} CLI approvals`);
    const cliTargets = await mapLimit(sideBySide.slice(pollers), 8, async (app) => {
      const input = promotionOf(sideBySideYaml, app, benchDigest());
      const { workflowId } = await srv.gantry.start(input);
      await waitUntilAwaitingApproval(srv.client, workflowId);
      return { app, digest: input.digest };
    });
    const env = { TEMPORAL_ADDRESS: srv.address, GANTRY_TASK_QUEUE: 'bench-reaction' };
    const cli: number[] = [];
    const nodeBare: number[] = [];
    const cliHelp: number[] = [];
    for (const { app, digest } of cliTargets) {
      const r = await timeProcess(
        [join(PROJECT_ROOT, 'bin', 'gantry'), 'approve', app, digest, '--env', 'production', '--as', 'release-manager'],
        env,
      );
      if (r.code !== 0) throw new Error(`gantry approve exited ${r.code}: ${r.stderr}`);
      cli.push(r.ms);
      nodeBare.push((await timeProcess(['-e', ''], {})).ms);
      cliHelp.push((await timeProcess([join(PROJECT_ROOT, 'bin', 'gantry'), '--help'], {})).ms);
    }
    await worker.kill();

    const p99 = percentile(issuedToStart, 99);
    const pollP99 = percentile(pollerReaction, 99);
    const rows = [
      [
        'polling loop, sleep 10 s (baseline): approval → loop notices',
        pollerReaction.length,
        ms(median(pollerReaction)),
        ms(percentile(pollerReaction, 99)),
        '1.00× (baseline)',
      ],
      [
        'approve call issued (client) → next activity started (server)',
        issuedToStart.length,
        ms(median(issuedToStart)),
        ms(p99),
        `${faster(median(issuedToStart), median(pollerReaction))} / ${faster(p99, pollP99)}`,
      ],
      [
        "the update's workflow task scheduled → next activity started (server events)",
        taskToStart.length,
        ms(median(taskToStart)),
        ms(percentile(taskToStart, 99)),
        '—',
      ],
      [
        'approve update completed → next activity started (server events)',
        afterUpdate.length,
        ms(median(afterUpdate)),
        ms(percentile(afterUpdate, 99)),
        '—',
      ],
      [
        'approve update completed → next activity scheduled (server events)',
        afterUpdateScheduled.length,
        ms(median(afterUpdateScheduled)),
        ms(percentile(afterUpdateScheduled, 99)),
        '—',
      ],
      [
        'update call returned (client) → next activity started (server)',
        clientToStart.length,
        ms(median(clientToStart)),
        ms(percentile(clientToStart, 99)),
        '—',
      ],
      [
        'GantryClient.decide round trip (one update call)',
        decideCalls.length,
        ms(median(decideCalls)),
        ms(percentile(decideCalls, 99)),
        '—',
      ],
      [
        'WorkflowExecutionStarted → first activity started (server events)',
        startToFirst.length,
        ms(median(startToFirst)),
        ms(percentile(startToFirst, 99)),
        '—',
      ],
      [
        'start call issued (client) → first activity started',
        clientStartToFirst.length,
        ms(median(clientStartToFirst)),
        ms(percentile(clientStartToFirst, 99)),
        '—',
      ],
      [
        '`bin/gantry approve …` process, end to end',
        cli.length,
        ms(median(cli)),
        ms(percentile(cli, 99)),
        `${ratio(median(cli), median(nodeBare))} of a bare node start`,
      ],
      ['`node -e ""` (node startup alone)', nodeBare.length, ms(median(nodeBare)), ms(percentile(nodeBare, 99)), '—'],
      [
        '`bin/gantry --help` (node + CLI module loading)',
        cliHelp.length,
        ms(median(cliHelp)),
        ms(percentile(cliHelp, 99)),
        '—',
      ],
    ];
    return {
      title: '2. Reaction time',
      caption:
        `${promotions} promotions of the reference pipeline (instant bench activities), one at a time, each approved the moment it waits. Server times are history event timestamps; ` +
        `client times use the same machine clock. Baseline: ${pollers} polling loops (status check, sleep 10 s) noticing an approval sent at a random point of their cycle, measured in this run.`,
      table: table(['interval', 'n', 'median', 'p99', 'ratio to baseline (median / p99)'], rows),
      notes: [
        `Target p99 < 100 ms (approve call issued → next activity started): ${ms(p99)} — ${p99 < 100 ? 'met' : 'not met'}.`,
        "The approve update, the decision, its audit record, the freeze look-up, the lane's grant of production (an update the lane answers at once when production is free) and the ScheduleActivityTask command of the production deploy complete in one workflow task; with eager activity dispatch the worker starts the activity without another poll. So the update is stamped completed only when that task completes, and the honest interval starts when the client sends the approval.",
        '"Update call returned → activity started" can be negative: the activity may start before the update response reaches the client.',
        `The CLI is a new node process per decision: ${ms(median(cli))} median, of which ${ms(median(cliHelp))} is node startup and loading the CLI (\`--help\`); the decision itself is the decide round trip above.`,
      ],
      headline: [
        `Approve call issued → next activity started: median ${ms(median(issuedToStart))}, p99 ${ms(p99)} (polling loop with sleep 10: median ${ms(median(pollerReaction))}, p99 ${ms(pollP99)}); start → first activity: median ${ms(median(startToFirst))}, p99 ${ms(percentile(startToFirst, 99))}; \`gantry approve\` CLI end to end median ${ms(median(cli))} (node startup + module loading ${ms(median(cliHelp))}).`,
      ],
    };
  } finally {
    await srv.stop();
  }
}
