// 5. Config repo contention: 12 apps promoted at the same moment into one real bare config repo
// (real gitops deploy: clone, edit the overlay, commit, push; a push that loses the race is fetched,
// re-applied and pushed again). All must land. Deploy time = the deploy activity's ActivityTaskStarted
// to ActivityTaskCompleted in the history; baseline: one promotion alone into the same repo.
import { execFileSync } from 'node:child_process';
import { GantryClient } from '../src/client/gantryClient';
import {
  activitiesOf,
  benchDigest,
  historyOf,
  log,
  median,
  ms,
  percentile,
  promotionOf,
  ratio,
  referenceRepo,
  spawnBenchWorker,
  startBenchServer,
  table,
  waitUntilAwaitingApproval,
  type BenchContext,
  type Section,
  ENVIRONMENTS,
} from './benchKit';

const APPS = 12;
const TASK_QUEUE = 'bench-contention';

interface Promoted {
  app: string;
  digest: string;
  wall: number;
  deploys: { environment: string; ms: number; attempt: number }[];
}

async function promote(gantry: GantryClient, yaml: string, app: string): Promise<Promoted> {
  const input = promotionOf(yaml, app, benchDigest());
  const t0 = performance.now();
  const { workflowId } = await gantry.start(input);
  await waitUntilAwaitingApproval(gantry.client, workflowId);
  const answer = await gantry.decide('approve', app, input.digest, {
    environment: 'production',
    by: 'release-manager',
  });
  if (!answer.accepted) throw new Error(`approval refused: ${answer.reason}`);
  const result = await gantry.result(app, input.digest);
  if (result.outcome !== 'promoted') throw new Error(`${app} ended ${result.outcome}: ${result.reason}`);
  const wall = performance.now() - t0;
  const deploys = activitiesOf(await historyOf(gantry.client, workflowId))
    .filter((a) => a.type === 'deploy')
    .map((a) => ({
      environment: (JSON.parse(a.input) as { environment: string }).environment,
      ms: a.completed! - a.started!,
      attempt: a.attempt ?? 1,
    }));
  return { app, digest: input.digest, wall, deploys };
}

/** Commits on main naming each digest, by trailers, and the overlay text at HEAD. */
function landed(repo: string, promoted: Promoted[]): { ok: boolean; commits: number; problems: string[] } {
  const log = execFileSync(
    'git',
    [
      '--git-dir',
      repo,
      'log',
      '--format=%(trailers:key=Gantry-App,valueonly)%x1f%(trailers:key=Gantry-Environment,valueonly)%x1f%(trailers:key=Gantry-Digest,valueonly)%x1e',
      'main',
    ],
    {
      encoding: 'utf8',
    },
  );
  const commits = log
    .split('\x1e')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => r.split('\x1f').map((f) => f.trim()));
  const problems: string[] = [];
  for (const p of promoted) {
    for (const env of ENVIRONMENTS) {
      const n = commits.filter(([app, e, d]) => app === p.app && e === env && d === p.digest).length;
      if (n !== 1) problems.push(`${p.app}/${env}: ${n} commits`);
      const overlay = execFileSync(
        'git',
        ['--git-dir', repo, 'show', `main:apps/${p.app}/environments/${env}/kustomization.yaml`],
        { encoding: 'utf8' },
      );
      if (!overlay.includes(`digest: ${p.digest}`)) problems.push(`${p.app}/${env}: overlay does not name the digest`);
    }
  }
  return { ok: problems.length === 0, commits: commits.length, problems };
}

export async function configRepoContention(ctx: BenchContext): Promise<Section> {
  const aloneRuns = ctx.quick ? 2 : 5;
  const srv = await startBenchServer(ctx, 'contention', TASK_QUEUE);
  try {
    const worker = await spawnBenchWorker(ctx, srv.address, { gantryQueue: TASK_QUEUE, activities: 'gitops' });
    const apps = Array.from({ length: APPS }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`);
    const { repo, yaml } = await referenceRepo(ctx, 'contention', apps);

    log(`contention: ${aloneRuns} promotions alone, then ${APPS} at once`);
    await promote(srv.gantry, yaml, apps[0]); // warm-up (first clone, JIT)
    const alone: Promoted[] = [];
    for (let i = 0; i < aloneRuns; i++) alone.push(await promote(srv.gantry, yaml, apps[i % APPS]));
    const together = await Promise.all(apps.map((app) => promote(srv.gantry, yaml, app)));
    const check = landed(repo, together);
    await worker.kill();

    const d = (ps: Promoted[]) => ps.flatMap((p) => p.deploys.map((x) => x.ms));
    const aloneD = d(alone);
    const togetherD = d(together);
    const retries = together.flatMap((p) => p.deploys).filter((x) => x.attempt > 1).length;
    const byEnv = ENVIRONMENTS.map((env) => {
      const v = together.flatMap((p) => p.deploys.filter((x) => x.environment === env).map((x) => x.ms));
      return `${env} median ${ms(median(v))}, p95 ${ms(percentile(v, 95))}`;
    }).join('; ');
    const rows = [
      [
        'one promotion alone (baseline)',
        `${alone.length} × 3 = ${aloneD.length}`,
        ms(median(aloneD)),
        ms(percentile(aloneD, 95)),
        '1.00× / 1.00×',
        ms(median(alone.map((p) => p.wall))),
      ],
      [
        `${APPS} apps at the same moment`,
        `${together.length} × 3 = ${togetherD.length}`,
        ms(median(togetherD)),
        ms(percentile(togetherD, 95)),
        `${ratio(median(togetherD), median(aloneD))} / ${ratio(percentile(togetherD, 95), percentile(aloneD, 95))}`,
        ms(median(together.map((p) => p.wall))),
      ],
    ];
    return {
      title: '5. Config repo contention',
      caption:
        `${APPS} apps promoted through the reference pipeline at the same moment into **one real bare config repo** (real gitops deploy: clone, edit, commit, push; other activities instant), ` +
        "one worker process. Deploy time: the deploy activity's ActivityTaskStarted to ActivityTaskCompleted (server events), three deploys per promotion. Baseline: one promotion alone into the same repo.",
      table: table(
        ['run', 'deploys', 'deploy median', 'deploy p95', 'ratio (median / p95)', 'promotion wall median'],
        rows,
      ),
      notes: [
        `All landed: ${check.ok ? `yes — one commit per app and environment (${APPS * 3}), every overlay names its digest, ${check.commits} commits on main in all` : `NO: ${check.problems.join('; ')}`}. Deploy activity retries: ${retries} (push races are retried inside the activity).`,
        `Under contention by environment: ${byEnv}. The dev deploys collide most (all ${APPS} start together); later environments are staggered by the earlier ones.`,
      ],
      headline: [
        `${APPS} apps into one config repo at once: all landed (${check.ok ? 'yes' : 'no'}); deploy median ${ms(median(togetherD))}, p95 ${ms(percentile(togetherD, 95))} vs ${ms(median(aloneD))} / ${ms(percentile(aloneD, 95))} alone.`,
      ],
    };
  } finally {
    await srv.stop();
  }
}
