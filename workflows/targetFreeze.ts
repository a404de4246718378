// Inside a target's child workflow (workflows/deployTarget.ts): before each canary weight change
// and before the stable side takes the digest, a freeze of the environment or of the target, or a
// deny window of either, holds the target, as a freeze holds an environment's canary. The child
// tells the promotion (the target's row shows `frozen`), and `gantry unfreeze` reaches it through
// the promotion.
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { activeFreeze } from '../src/pipeline/freezeWindows';
import type { FreezeWindow } from '../src/pipeline/types';
import type { DeployTargetInput } from './deployTarget';
import { targetFreezeLiftedSignal, targetFreezeOverriddenSignal, targetFrozenSignal } from './messages';
import { local } from './promotion/promotionActivities';

/** How often a target held by a manual freeze looks again when no unfreeze reaches it. */
const MANUAL_FREEZE_RECHECK_MS = 60_000;

/** What holds the target now, and when to look again. */
async function holdOn(
  input: DeployTargetInput,
  windows: FreezeWindow[],
): Promise<{ reason: string; recheckMs: number } | undefined> {
  const place = `${input.environment}/${input.target.name}`; // as gantry freeze --env production/<target> names it
  const manual = (await local.readManualFreezes()).find(
    (f) => f.environment === input.environment || f.environment === place,
  );
  if (manual) return { reason: `frozen by ${manual.by}: ${manual.reason}`, recheckMs: MANUAL_FREEZE_RECHECK_MS };
  const window = activeFreeze(windows, new Date());
  if (window)
    return {
      reason: `freeze window ${window.window} until ${window.until.toISOString()}`,
      recheckMs: Math.max(1000, window.until.getTime() - Date.now()),
    };
  return undefined;
}

export async function awaitTargetFreezeLift(input: DeployTargetInput): Promise<void> {
  let lifted = false;
  setHandler(targetFreezeLiftedSignal, () => {
    lifted = true;
  });
  // An override granted after this child started (a signal sent before this point lands here).
  setHandler(targetFreezeOverriddenSignal, () => {
    input.freezeOverridden = lifted = true;
  });
  // A rollback run goes through freezes; an override for the environment covers its targets.
  if (input.rollback || input.freezeOverridden) return;
  const windows = [...(input.environmentFreezeWindows ?? []), ...(input.target.freezeWindows ?? [])];
  let told = false;
  for (;;) {
    const hold = input.freezeOverridden ? undefined : await holdOn(input, windows);
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
