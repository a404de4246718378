// Deny windows and manual freezes: a promotion waits while one holds the environment (it never
// fails for it), and a rollback run, which goes through freezes, says so in the audit log.
import { condition } from '@temporalio/workflow';
import { shortDigest } from '../../src/pipeline/digest';
import { activeFreeze } from '../../src/pipeline/freezeWindows';
import type { FreezeWait } from '../../src/pipeline/promotionStatus';
import type { EnvironmentPlan } from '../../src/pipeline/types';
import { local } from './promotionActivities';
import type { PromotionContext } from './promotionContext';

/** How often a promotion held by a manual freeze looks again (gantry unfreeze also wakes it at once). */
const MANUAL_FREEZE_RECHECK_MS = 60_000;

/** The freeze holding the environment now, if any, and when to look again. */
async function freezeOn(
  ctx: PromotionContext,
  env: EnvironmentPlan,
): Promise<{ wait: FreezeWait; recheckMs: number } | undefined> {
  const manual = ctx.status.freezeOverrides.includes(env.name)
    ? undefined
    : (await local.readManualFreezes()).find((f) => f.environment === env.name);
  if (manual)
    return {
      wait: { environment: env.name, window: 'manual', reason: `frozen by ${manual.by}: ${manual.reason}` },
      recheckMs: MANUAL_FREEZE_RECHECK_MS,
    };
  const window = activeFreeze(env.freezeWindows, new Date());
  if (window)
    return {
      wait: { environment: env.name, window: window.window, until: window.until.toISOString() },
      recheckMs: Math.max(1000, window.until.getTime() - Date.now()),
    };
  return undefined;
}

/** Waits while a deny window or a manual freeze holds the environment; never fails for it. */
export async function awaitFreezeLift(ctx: PromotionContext, env: EnvironmentPlan): Promise<void> {
  const { input, status } = ctx;
  let frozen = await freezeOn(ctx, env);
  if (!frozen) return;
  await ctx.stage('freeze', env.name, async () => {
    const first = frozen!.wait;
    await ctx.audit('freeze-wait', env.name, { ...first });
    ctx.notify(
      'frozen',
      env.name,
      `${input.app} ${shortDigest(input.digest)} waits: ${env.name} is frozen (${first.window}${first.until ? ` until ${first.until}` : ''}).`,
    );
    while (frozen) {
      status.frozen = frozen.wait;
      ctx.describe();
      ctx.freezeLifted = false;
      await condition(
        () => ctx.freezeLifted || status.freezeOverrides.includes(env.name) || ctx.lane?.superseded !== undefined,
        frozen.recheckMs,
      );
      ctx.endIfSuperseded();
      frozen = await freezeOn(ctx, env);
    }
  });
  status.frozen = undefined;
}

/** A rollback run deploys through a freeze (it is how an incident ends); the audit log says so. */
export async function noteFreezeBypass(ctx: PromotionContext, env: EnvironmentPlan): Promise<void> {
  const frozen = await freezeOn(ctx, env);
  if (frozen) await ctx.audit('rollback-during-freeze', env.name, { ...frozen.wait });
}
