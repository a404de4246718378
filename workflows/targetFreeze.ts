// Inside a target's child workflow (workflows/deployTarget.ts): before each canary weight change
// and before the stable side takes the digest, a freeze of the environment or of the target, or a
// deny window of either, holds the target, as a freeze holds an environment's canary.
import { sleep } from '@temporalio/workflow';
import { activeFreeze } from '../src/pipeline/freezeWindows';
import type { FreezeWindow } from '../src/pipeline/types';
import type { DeployTargetInput } from './deployTarget';
import { local } from './promotion/promotionActivities';

/** How often a target held by a manual freeze looks again (the child does not hear `gantry unfreeze`). */
const MANUAL_FREEZE_RECHECK_MS = 60_000;

export async function awaitTargetFreezeLift(input: DeployTargetInput): Promise<void> {
  // A rollback run goes through freezes; an override for the environment covers its targets.
  if (input.rollback || input.freezeOverridden) return;
  const place = `${input.environment}/${input.target.name}`; // as gantry freeze --env production/<target> names it
  const windows: FreezeWindow[] = [...(input.environmentFreezeWindows ?? []), ...(input.target.freezeWindows ?? [])];
  for (;;) {
    const manual = (await local.readManualFreezes()).some(
      (f) => f.environment === input.environment || f.environment === place,
    );
    if (manual) {
      await sleep(MANUAL_FREEZE_RECHECK_MS);
      continue;
    }
    const window = activeFreeze(windows, new Date());
    if (!window) return;
    await sleep(Math.max(1000, window.until.getTime() - Date.now()));
  }
}
