// Deny windows and manual freezes: a promotion waits while one holds the environment (it never
// fails for it), and a rollback run, which goes through freezes, says so in the audit log.
import { condition } from '@temporalio/workflow';
import { shortDigest } from '../../src/pipeline/digest';
import { freezeHolding } from '../../src/pipeline/freezeHold';
import type { FreezeWait } from '../../src/pipeline/promotionStatus';
import type { EnvironmentPlan } from '../../src/pipeline/types';
import { local } from './promotionActivities';
import type { PromotionContext } from './promotionContext';

/** The freeze holding the environment now, if any, and when to look again. A freeze override lets it through manual freezes, not deny windows. */
async function freezeOn(
  ctx: PromotionContext,
  env: EnvironmentPlan,
): Promise<{ wait: FreezeWait; recheckMs: number } | undefined> {
  const manual = ctx.status.freezeOverrides.includes(env.name) ? [] : await local.readManualFreezes();
  const hold = freezeHolding(manual, [env.name], env.freezeWindows, new Date());
  if (!hold) return undefined;
  const wait: FreezeWait =
    hold.window === 'manual'
      ? { environment: env.name, window: 'manual', reason: hold.reason }
      : { environment: env.name, window: hold.window, until: hold.until };
  return { wait, recheckMs: hold.recheckMs };
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
      // An override ends a manual freeze's wait; a deny window's holds until it closes.
      const manual = frozen.wait.window === 'manual';
      await condition(
        () =>
          ctx.freezeLifted ||
          (manual && status.freezeOverrides.includes(env.name)) ||
          ctx.lane?.superseded !== undefined,
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
