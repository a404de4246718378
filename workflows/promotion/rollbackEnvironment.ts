// Puts an environment back on the digest it ran before this promotion (after a failed check with
// onFailure: rollback, a failed canary, or an operator's rollback), and ends the promotion.
import { shortDigest } from '../../src/pipeline/digest';
import type { EnvironmentPlan } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import { onEnvironmentQueue } from '../environmentQueue';
import { noteFreezeBypass } from './awaitFreezeLift';
import { acts } from './promotionActivities';
import type { PromotionContext } from './promotionContext';
import { PromotionEnded } from './promotionEnded';
import { rollbackRollout } from './rolloutWaves';

/** Rolls the environment back and ends as rolled back; with nothing to go back to, ends as it can. */
export async function rollbackEnvironment(ctx: PromotionContext, env: EnvironmentPlan, reason: string): Promise<never> {
  const { input, info, lane } = ctx;
  // An environment made of targets goes back target by target, each to its own previous digest.
  if (env.rollout) return rollbackRollout(ctx, env, reason);
  const e = ctx.envStatus(env.name);
  const to = e.previousDigest;
  if (!to) {
    if (!lane)
      throw new PromotionEnded(
        'rolled-back',
        `${reason}; ${env.name} ran no earlier digest, so its config was left as it is`,
      );
    // Nothing was put back, so this is no rollback: the environment stays on the new digest.
    throw new PromotionEnded(
      'failed',
      `${reason}; nothing to roll back to (no digest was promoted into ${env.name} before), so it stays on ${shortDigest(input.digest)}`,
    );
  }
  if (lane) await noteFreezeBypass(ctx, env);
  await ctx.stage('rollback', env.name, async () => {
    await acts.deploy.executeWithOptions(
      onEnvironmentQueue(
        { ...activityOptions.deploy, summary: `rollback ${env.name} to ${shortDigest(to)}` },
        env.taskQueue,
      ),
      [
        {
          target: env.deploy,
          app: input.app,
          digest: to,
          environment: env.name,
          workflowId: info.workflowId,
          rollback: { from: input.digest, reason },
        },
      ],
    );
    // A completed canary had moved the stable side too: it goes back as well.
    if (e.stableSide && env.canaryStable) {
      await acts.deploy.executeWithOptions(
        onEnvironmentQueue(
          { ...activityOptions.deploy, summary: `rollback stable side of ${env.name} to ${shortDigest(to)}` },
          env.taskQueue,
        ),
        [
          {
            target: env.canaryStable,
            app: input.app,
            digest: to,
            environment: env.name,
            workflowId: info.workflowId,
            rollback: { from: input.digest, reason },
          },
        ],
      );
    }
  });
  e.state = 'rolled-back';
  e.rolledBackTo = to;
  await ctx.audit('rollback', env.name, { from: input.digest, to, reason });
  if (lane) await lane.rolledBack(env.name, input.digest, to);
  throw new PromotionEnded('rolled-back', `${env.name} rolled back to ${shortDigest(to)}: ${reason}`);
}
