// An environment made of targets (`targets:` in gantry.yaml), rolled out wave by wave: the
// targets of a wave in parallel (at most `concurrency` at once), each in its own child workflow
// (workflows/deployTarget.ts); a durable bake after each wave but the last; a failure budget. When
// failures exceed the budget, every target this promotion changed goes back to its own previous
// digest, in parallel, and the promotion ends rolled back, naming the target that failed and why.
import {
  CancellationScope,
  condition,
  executeChild,
  isCancellation,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { shortDigest } from '../../src/pipeline/digest';
import { freezeHolding } from '../../src/pipeline/freezeHold';
import { GANTRY_WAVE } from '../../src/pipeline/searchAttributes';
import type { EnvironmentStatus, TargetStatus } from '../../src/pipeline/promotionStatus';
import type { EnvironmentPlan, RolloutPlan, TargetPlan } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import { deployTarget, placeOf, type DeployTargetResult } from '../deployTarget';
import { onEnvironmentQueue } from '../environmentQueue';
import { targetDeployedSignal, targetFrozenSignal } from '../messages';
import { awaitFreezeLift } from './awaitFreezeLift';
import { acts, local } from './promotionActivities';
import type { PromotionContext } from './promotionContext';
import { targetWorkflowId } from './targetPauses';
import { rollbackTargetStableSide } from './targetStableSide';
import { failureMessage, PromotionEnded } from './promotionEnded';

/** The status rows of the environment's targets, in wave order. */
export function targetRows(rollout: RolloutPlan): TargetStatus[] {
  return rollout.waves.flatMap((wave, w) => wave.map((name) => ({ name, wave: w + 1, state: 'pending' as const })));
}

/** Deploys the environment's targets wave by wave; throws PromotionEnded when the budget is exceeded. */
export async function rolloutWaves(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  rollout: RolloutPlan,
  /** What the lane says the environment ran before this promotion, for its record of a rollback. */
  lanePrevious: string | undefined,
): Promise<void> {
  const { input } = ctx;
  const e = ctx.envStatus(env.name);
  const rows = (e.targets = targetRows(rollout));
  const row = (name: string) => rows.find((r) => r.name === name)!;
  const plans = new Map(rollout.targets.map((t) => [t.name, t]));
  e.state = 'in-progress';
  // The children report each landed deploy at once: a promotion stopped mid-wave still knows what it changed.
  setHandler(targetDeployedSignal, (d) => {
    const r = d.environment === env.name ? rows.find((x) => x.name === d.target) : undefined;
    if (r) noteDeployed(e, r, d, input.digest, ctx.now());
  });
  // A target's canary held by a freeze: its row says so, and `gantry unfreeze` is passed on to it.
  setHandler(targetFrozenSignal, (f) => {
    const r = f.environment === env.name ? rows.find((x) => x.name === f.target) : undefined;
    if (!r) return;
    const child = targetWorkflowId(ctx.info.workflowId, env.name, r.name);
    if (f.reason) {
      Object.assign(r, { state: 'frozen', reason: f.reason });
      ctx.frozenTargets.add(child);
    } else {
      if (r.state === 'frozen') Object.assign(r, { state: 'deployed', reason: undefined });
      ctx.frozenTargets.delete(child);
    }
  });
  const failures: TargetStatus[] = [];
  const overBudget = () => failures.length > rollout.maxFailures;
  const indexWave = waveIndexer(ctx);

  for (const [w, wave] of rollout.waves.entries()) {
    e.wave = w + 1;
    indexWave(w + 1);
    if (w > 0 && rollout.bakeMs > 0) await ctx.stage('bake', env.name, () => sleep(rollout.bakeMs));
    // A freeze holds the next wave as it holds an environment's deploy; a rollback run goes through.
    if (!input.rollback) await awaitFreezeLift(ctx, env);
    ctx.endIfSuperseded();
    await ctx.stage('deploy', env.name, () =>
      eachLimited(wave, rollout.concurrency ?? wave.length, async (name) => {
        const r = row(name);
        // Once the budget is spent, the wave's targets not yet started are left alone.
        if (overBudget()) return;
        if (!input.rollback) await awaitTargetUnfrozen(ctx, env, plans.get(name)!, r);
        if (overBudget()) return;
        r.state = 'in-progress';
        // A target waiting for a person once the budget is spent is stopped: nobody needs its answer.
        const stop = new CancellationScope();
        const watch = new CancellationScope();
        const watching = watch
          .run(() => condition(() => overBudget() && r.state === 'paused'))
          .then(
            () => stop.cancel(),
            () => undefined,
          );
        const result = await runTarget(ctx, env, plans.get(name)!, w + 1, stop);
        watch.cancel();
        await watching;
        settle(e, r, result, input.digest, ctx.now());
        await ctx.audit('deployed', env.name, {
          target: name,
          wave: w + 1,
          outcome: result.outcome,
          changed: result.changed,
          commit: result.commit ?? null,
          previousDigest: result.previousDigest ?? null,
          ...(result.reason ? { reason: result.reason } : {}),
        });
        if (result.outcome === 'failed' && !stop.consideredCancelled) failures.push(r);
      }),
    );
    if (overBudget()) {
      const first = failures[0];
      await rollbackTargets(ctx, env, `${first.name} failed: ${first.reason ?? 'failed'}`, lanePrevious);
      throw new PromotionEnded(
        'rolled-back',
        `${first.name} in ${env.name} failed (${first.reason ?? 'failed'}); ${failures.length} failed of ${rows.length}, budget ${rollout.maxFailures}: every changed target rolled back`,
      );
    }
  }
  e.wave = undefined;
  indexWave(0);
  // Failures within the budget do not stop the rollout, but a failed target does not keep the digest.
  if (failures.length > 0) await rollbackTargets(ctx, env, 'failed within the budget', lanePrevious, true);
}

/**
 * Sets GantryWave, so the UI can list the promotions in a given wave. Only when the start carried the
 * attribute: a promotion started by an older client may live in a namespace that does not know it.
 */
function waveIndexer(ctx: PromotionContext): (wave: number) => void {
  const indexed = ctx.info.typedSearchAttributes.get(GANTRY_WAVE) !== undefined && patched('wave-search-attribute');
  return (wave) => {
    if (indexed) ctx.index([{ key: GANTRY_WAVE, value: wave }]);
  };
}

/** Rolls every target this promotion changed (with onlyFailed, the failed ones) back to its own previous digest. */
export async function rollbackTargets(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  reason: string,
  lanePrevious: string | undefined,
  onlyFailed = false,
): Promise<void> {
  const { input, info, lane } = ctx;
  const e = ctx.envStatus(env.name);
  const plans = new Map((env.rollout?.targets ?? []).map((t) => [t.name, t]));
  const changed = (e.targets ?? []).filter((r) => r.changed && (!onlyFailed || r.state === 'failed'));
  // A pause holds the next wave, not a rollback: the changed targets would stay on the digest that failed.
  if (!onlyFailed && ctx.status.paused) {
    ctx.status.paused = false;
    ctx.pauseReason = undefined;
  }
  await ctx.stage('rollback', env.name, () =>
    Promise.all(
      changed.map(async (r) => {
        const to = r.previousDigest;
        if (!to) {
          r.reason = `${r.reason ? `${r.reason}; ` : ''}it ran no earlier digest, so it stays on ${shortDigest(input.digest)}`;
          return;
        }
        const plan = plans.get(r.name)!;
        await acts.deploy.executeWithOptions(
          onEnvironmentQueue(
            { ...activityOptions.deploy, summary: `rollback ${placeOf(env.name, r.name)} to ${shortDigest(to)}` },
            plan.taskQueue,
          ),
          [
            {
              target: plan.deploy,
              app: input.app,
              digest: to,
              environment: placeOf(env.name, r.name),
              workflowId: info.workflowId,
              rollback: { from: input.digest, reason },
            },
          ],
        );
        // A completed canary had moved the target's stable side too: it goes back as well.
        if (r.stableSide && plan.canaryStable) await rollbackTargetStableSide(ctx, env, plan, to, reason);
        r.state = 'rolled-back';
        r.digest = to;
        await ctx.audit('rollback', env.name, { target: r.name, from: input.digest, to, reason });
      }),
    ),
  );
  if (!onlyFailed) {
    e.rolledBackTo = lanePrevious ?? changed.find((r) => r.previousDigest)?.previousDigest;
    if (lane && lanePrevious) await lane.rolledBack(env.name, input.digest, lanePrevious);
  }
}

/** An operator's `gantry rollback` of an environment made of targets: all changed targets go back. */
export async function rollbackRollout(ctx: PromotionContext, env: EnvironmentPlan, reason: string): Promise<never> {
  const e = ctx.envStatus(env.name);
  await rollbackTargets(ctx, env, reason, e.previousDigest);
  e.state = 'rolled-back';
  const back = (e.targets ?? []).filter((r) => r.state === 'rolled-back').map((r) => r.name);
  throw new PromotionEnded(
    'rolled-back',
    `${env.name} rolled back (${back.join(', ') || 'no target changed'}): ${reason}`,
  );
}

/** What holds one target before its deploy: a manual freeze of it, or one of its own deny windows (the environment's hold whole waves). */
async function targetFreeze(ctx: PromotionContext, env: EnvironmentPlan, target: TargetPlan) {
  const manual = ctx.status.freezeOverrides.includes(env.name) ? [] : await local.readManualFreezes();
  return freezeHolding(manual, [placeOf(env.name, target.name)], target.freezeWindows ?? [], new Date());
}

/**
 * `gantry freeze --env production/prod-eu-1`, or a deny window of that target's own, holds that one
 * target: it waits before its deploy while the rest of the wave goes on. A freeze override for the
 * environment lets its targets through manual freezes.
 */
async function awaitTargetUnfrozen(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  target: TargetPlan,
  r: TargetStatus,
): Promise<void> {
  let audited = false;
  for (;;) {
    const freeze = await targetFreeze(ctx, env, target);
    if (!freeze) break;
    r.state = 'frozen';
    r.reason = freeze.reason;
    if (!audited) {
      audited = true;
      await ctx.audit('freeze-wait', env.name, { target: r.name, window: freeze.window, reason: r.reason });
    }
    ctx.freezeLifted = false;
    // An override ends a manual freeze's wait; a deny window's holds until it closes.
    const manual = freeze.window === 'manual';
    await condition(
      () =>
        ctx.freezeLifted ||
        (manual && ctx.status.freezeOverrides.includes(env.name)) ||
        ctx.lane?.superseded !== undefined,
      freeze.recheckMs,
    );
    ctx.endIfSuperseded();
  }
  if (r.state === 'frozen') {
    r.state = 'pending';
    r.reason = undefined;
  }
}

/** One target's child workflow; a child that could not run at all counts as a failed target. */
async function runTarget(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  target: TargetPlan,
  wave: number,
  /** Cancelled when the failure budget is spent while this target waits for a person. */
  stop: CancellationScope,
): Promise<DeployTargetResult> {
  const { input, info } = ctx;
  try {
    return await stop.run(() =>
      executeChild(deployTarget, {
        workflowId: targetWorkflowId(info.workflowId, env.name, target.name),
        staticSummary: `wave ${wave}: ${placeOf(env.name, target.name)} ${shortDigest(input.digest)}`,
        args: [
          {
            app: input.app,
            digest: input.digest,
            environment: env.name,
            target,
            ...(input.commit ? { commit: input.commit } : {}),
            ...(input.rollback
              ? {
                  rollback: {
                    from: input.rollback.from,
                    reason: `by ${input.rollback.by}${input.rollback.reason ? `: ${input.rollback.reason}` : ''}`,
                  },
                }
              : {}),
            fastTrack: input.rollback?.fastTrack ?? false,
            ...(env.freezeWindows.length > 0 ? { environmentFreezeWindows: env.freezeWindows } : {}),
            ...(ctx.status.freezeOverrides.includes(env.name) ? { freezeOverridden: true } : {}),
          },
        ],
      }),
    );
  } catch (err) {
    if (CancellationScope.current().consideredCancelled) throw err;
    if (stop.consideredCancelled)
      return {
        target: target.name,
        outcome: 'failed',
        changed: false,
        gates: [],
        reason: 'stopped while its canary waited for a person: the failure budget is spent',
      };
    if (isCancellation(err)) throw err;
    return { target: target.name, outcome: 'failed', changed: false, gates: [], reason: failureMessage(err) };
  }
}

function noteDeployed(
  e: EnvironmentStatus,
  r: TargetStatus,
  d: Pick<DeployTargetResult, 'changed' | 'previousDigest' | 'commit' | 'stableSide'>,
  digest: string,
  now: string,
): void {
  Object.assign(r, { changed: r.changed || d.changed, previousDigest: d.previousDigest, commit: d.commit, digest });
  if (d.stableSide) r.stableSide = d.stableSide;
  if (r.state === 'in-progress') r.state = 'deployed';
  // The environment counts as deployed from its first target on (what `gantry rollback` asks for).
  e.deployedAt ??= now;
  e.changed = e.changed || d.changed;
  e.previousDigest ??= d.previousDigest;
}

function settle(e: EnvironmentStatus, r: TargetStatus, result: DeployTargetResult, digest: string, now: string): void {
  if (result.changed || result.commit) noteDeployed(e, r, result, digest, now);
  r.state = result.outcome;
  if (result.reason) r.reason = result.reason;
  if (result.canary) r.canaryWeight = result.canary.weight;
  if (result.stableSide) r.stableSide = result.stableSide;
}

/** Runs `run` over the items with at most `limit` at once, starting them in order. */
async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
