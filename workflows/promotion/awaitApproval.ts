// The approval stage of one environment: waits for the votes its policy asks for (they arrive
// through decisionHandlers.ts), reminds before expiry, and ends the promotion when the wait
// expires or someone rejects.
import { CancellationScope, condition, sleep } from '@temporalio/workflow';
import { approvers } from '../../src/pipeline/approvalPolicy';
import { shortDigest } from '../../src/pipeline/digest';
import { formatDuration } from '../../src/pipeline/duration';
import { GANTRY_AWAITING_APPROVAL } from '../../src/pipeline/searchAttributes';
import type { ApprovalSpec, EnvironmentPlan } from '../../src/pipeline/types';
import type { PromotionContext } from './promotionContext';
import { PromotionEnded } from './promotionEnded';

export async function awaitApproval(ctx: PromotionContext, env: EnvironmentPlan, spec: ApprovalSpec): Promise<void> {
  const { input, status } = ctx;
  const e = ctx.envStatus(env.name);
  e.state = 'awaiting-approval';
  const expiresAt = Date.now() + spec.expiresInMs;
  status.awaitingApproval = { environment: env.name, since: ctx.now(), expiresAt: new Date(expiresAt).toISOString() };
  ctx.index([{ key: GANTRY_AWAITING_APPROVAL, value: true }]);
  ctx.describe();
  ctx.notify(
    'awaiting-approval',
    env.name,
    `${input.app} ${input.digest} is waiting for approval to ${env.name} (${spec.required} needed). Approve: gantry approve ${input.app} ${input.digest} --env ${env.name} --as <you> --key <ssh key>`,
  );
  // Reminders before expiry run beside the wait and stop with it.
  const reminders = new CancellationScope();
  const reminding = reminders.run(() =>
    Promise.all(
      spec.remindBeforeMs
        .filter((before) => before < spec.expiresInMs)
        .map(async (before) => {
          await sleep(spec.expiresInMs - before);
          ctx.notify(
            'approval-reminder',
            env.name,
            `Reminder: ${input.app} ${shortDigest(input.digest)} still needs approval for ${env.name}; it expires in ${formatDuration(before)}.`,
          );
        }),
    ),
  );
  // Cancelled when the wait ends; the notifications they sent are tracked in ctx.notifications.
  void reminding.catch(() => undefined);
  try {
    const decided = await condition(
      () => e.approval !== undefined || ctx.lane?.superseded !== undefined,
      spec.expiresInMs,
    );
    ctx.endIfSuperseded();
    if (!decided) {
      ctx.notify(
        'expired',
        env.name,
        `${input.app} ${shortDigest(input.digest)} expired waiting for approval to ${env.name}.`,
      );
      throw new PromotionEnded('expired', `no decision for ${env.name} within ${formatDuration(spec.expiresInMs)}`);
    }
    const d = e.approval!;
    if (d.kind === 'reject') {
      throw new PromotionEnded('rejected', `${env.name} rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
    }
    ctx.notify(
      'approved',
      env.name,
      `${input.app} ${shortDigest(input.digest)} approved for ${env.name} by ${approvers(e.votes).join(', ')}.`,
    );
  } finally {
    reminders.cancel();
    status.awaitingApproval = undefined;
    ctx.index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
  }
}
