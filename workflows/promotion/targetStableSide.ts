// A target whose canary completed runs the digest on its stable side too (workflows/targetCanary.ts):
// its rollback puts that side back on the same digest as the target, as an environment's does.
import { shortDigest } from '../../src/pipeline/digest';
import type { EnvironmentPlan, TargetPlan } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import { placeOf } from '../deployTarget';
import { onEnvironmentQueue } from '../environmentQueue';
import { acts } from './promotionActivities';
import type { PromotionContext } from './promotionContext';

export async function rollbackTargetStableSide(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  target: TargetPlan,
  to: string,
  reason: string,
): Promise<void> {
  const { input, info } = ctx;
  const place = placeOf(env.name, target.name);
  await acts.deploy.executeWithOptions(
    onEnvironmentQueue(
      { ...activityOptions.deploy, summary: `rollback stable side of ${place} to ${shortDigest(to)}` },
      target.taskQueue,
    ),
    [
      {
        target: target.canaryStable!,
        app: input.app,
        digest: to,
        environment: place,
        workflowId: info.workflowId,
        rollback: { from: input.digest, reason },
      },
    ],
  );
}
