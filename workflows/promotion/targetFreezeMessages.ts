// What the promotion passes on to its targets' child workflows about freezes (workflows/targetFreeze.ts):
// `gantry unfreeze` (the children held by a freeze look again now) and a freeze override granted
// for the environment (its running children go through freezes from then on, as later ones do).
import { getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { targetFreezeLiftedSignal, targetFreezeOverriddenSignal } from '../messages';
import type { PromotionContext } from './promotionContext';
import { targetWorkflowId } from './targetPauses';

export async function liftTargetFreezes(ctx: PromotionContext): Promise<void> {
  await Promise.all([...ctx.frozenTargets].map((id) => signalTarget(id, targetFreezeLiftedSignal)));
}

export async function overrideTargetFreezes(ctx: PromotionContext, environment: string): Promise<void> {
  const running = (ctx.envStatus(environment).targets ?? []).filter((t) =>
    ['in-progress', 'deployed', 'paused', 'frozen'].includes(t.state),
  );
  // Promotions from before it did not tell their running targets of an override; their histories replay so.
  if (running.length === 0 || !patched('target-freeze-override')) return;
  await Promise.all(
    running.map((t) =>
      signalTarget(targetWorkflowId(ctx.info.workflowId, environment, t.name), targetFreezeOverriddenSignal),
    ),
  );
}

/** A child that has ended meanwhile holds nothing: its signal is dropped. */
async function signalTarget(workflowId: string, signal: typeof targetFreezeLiftedSignal): Promise<void> {
  await getExternalWorkflowHandle(workflowId)
    .signal(signal)
    .catch(() => undefined);
}
