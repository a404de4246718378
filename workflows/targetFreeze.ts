// Inside a target's child workflow (workflows/deployTarget.ts): before each canary weight change
// and before the stable side takes the digest, a freeze of the environment or of the target, or a
// deny window of either, holds the target, as a freeze holds an environment's canary. The child
// tells the promotion (the target's row shows `frozen`), and `gantry unfreeze` reaches it through
// the promotion.
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { freezeHolding } from '../src/pipeline/freezeHold';
import type { DeployTargetInput } from './deployTarget';
import { targetFreezeLiftedSignal, targetFreezeOverriddenSignal, targetFrozenSignal } from './messages';
import { local } from './promotion/promotionActivities';

export async function awaitTargetFreezeLift(input: DeployTargetInput): Promise<void> {
  let lifted = false;
  setHandler(targetFreezeLiftedSignal, () => {
    lifted = true;
  });
  // An override granted after this child started (a signal sent before this point lands here).
  setHandler(targetFreezeOverriddenSignal, () => {
    input.freezeOverridden = true;
    lifted = true;
  });
  // A rollback run goes through freezes; an override for the environment lets it through manual freezes.
  if (input.rollback) return;
  const windows = [...(input.environmentFreezeWindows ?? []), ...(input.target.freezeWindows ?? [])];
  const places = [input.environment, `${input.environment}/${input.target.name}`]; // as gantry freeze --env names them
  let told = false;
  for (;;) {
    const manual = input.freezeOverridden ? [] : await local.readManualFreezes();
    const hold = freezeHolding(manual, places, windows, new Date());
    if (!hold) break;
    if (!told) {
      told = true;
      await tellPromotion(input, hold.reason);
    }
    lifted = false;
    await condition(() => lifted, hold.recheckMs);
  }
  if (told) await tellPromotion(input, undefined);
}

async function tellPromotion(input: DeployTargetInput, reason: string | undefined): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent)
    await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(targetFrozenSignal, {
      environment: input.environment,
      target: input.target.name,
      ...(reason ? { reason } : {}),
    });
}
