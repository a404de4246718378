// How a promotion's run becomes its outcome: success, an ending thrown by a stage, an operator's
// rollback or abort, or a failure; then the close (lane, audit, notification, the result).
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  sleep,
} from '@temporalio/workflow';
import { shortDigest } from '../../src/pipeline/digest';
import type { PromotionResult } from '../../src/pipeline/promotionStatus';
import { GANTRY_STAGE } from '../../src/pipeline/searchAttributes';
import type { PromotionContext } from './promotionContext';
import { failureMessage, PromotionEnded } from './promotionEnded';
import { rollbackEnvironment } from './rollbackEnvironment';

/** How long a finished promotion waits for its last notifications before it closes. */
const NOTIFY_GRACE_MS = 10_000;

/** Every environment went through: promoted, or (a rollback run) put back. */
export function recordSuccess(ctx: PromotionContext): void {
  const { input, status } = ctx;
  status.outcome = input.rollback ? 'rolled-back' : 'promoted';
  if (input.rollback) {
    status.reason = `${input.environments.map((e) => e.name).join(', ')} back on ${shortDigest(input.digest)} (took out ${shortDigest(input.rollback.from)}) by ${input.rollback.by}${input.rollback.reason ? `: ${input.rollback.reason}` : ''}`;
    for (const e of status.environments) if (e.state === 'promoted') e.rolledBackTo = input.digest;
  }
}

/** The pipeline threw: an ending, an operator's rollback or abort (a cancellation), or a failure. */
export async function recordEnding(ctx: PromotionContext, err: unknown): Promise<void> {
  const { status } = ctx;
  const rollback = ctx.rollbackRequest;
  if (err instanceof PromotionEnded) {
    status.outcome = err.outcome;
    status.reason = err.message;
  } else if (rollback !== undefined && isCancellation(err)) {
    const outcome = await CancellationScope.nonCancellable(() =>
      rollbackEnvironment(
        ctx,
        ctx.envPlan(rollback.environment),
        `by ${rollback.by}${rollback.reason ? `: ${rollback.reason}` : ''}`,
      ).catch((ended: unknown) => ended),
    );
    status.outcome = outcome instanceof PromotionEnded ? outcome.outcome : 'failed';
    status.reason = outcome instanceof PromotionEnded ? outcome.message : `rollback failed: ${failureMessage(outcome)}`;
  } else if (ctx.abortReason !== undefined && isCancellation(err)) {
    status.outcome = 'aborted';
    status.reason = ctx.abortReason;
  } else {
    status.outcome = 'failed';
    status.reason = `${status.stage}${status.environment ? ` ${status.environment}` : ''} failed: ${failureMessage(err)}`;
  }
  const current = status.environment ? ctx.envStatus(status.environment) : undefined;
  if (current && current.state === 'in-progress')
    current.state = status.outcome === 'rolled-back' ? 'rolled-back' : 'failed';
}

/**
 * Leaves the lane, writes the last audit record and notification, and returns the status; a
 * promotion that did not succeed fails the execution with the status attached.
 */
export async function closePromotion(ctx: PromotionContext): Promise<PromotionResult> {
  const { input, status, lane } = ctx;
  if (lane) {
    await CancellationScope.nonCancellable(async () => {
      if (status.outcome === 'superseded')
        await ctx.audit('superseded', status.environment, {
          by: lane.superseded!.by.digest,
          byWorkflow: lane.superseded!.by.workflowId,
          reason: lane.superseded!.reason,
        });
      await lane.leave();
    });
  }
  status.finishedAt = ctx.now();
  status.frozen = undefined;
  // A promotion that ended (aborted or rolled back while a canary waited for a person) waits for nobody.
  status.paused = false;
  ctx.pauseReason = undefined;
  // A promotion succeeds when it reached the last environment; a rollback run, when it put the environment back.
  const succeeded = status.outcome === (input.rollback ? 'rolled-back' : 'promoted');
  status.stage = succeeded ? 'done' : status.stage;
  ctx.index([{ key: GANTRY_STAGE, value: succeeded ? 'done' : status.outcome }]);
  ctx.describe();
  const last = input.environments[input.environments.length - 1]?.name;
  ctx.notify(
    status.outcome,
    status.outcome === 'promoted' ? last : status.environment,
    `${input.app} ${shortDigest(input.digest)} ${status.outcome}${status.reason ? `: ${status.reason}` : status.outcome === 'promoted' ? ` to ${last}` : ''}.`,
  );
  await CancellationScope.nonCancellable(() =>
    ctx.audit('finished', undefined, { outcome: status.outcome, reason: status.reason ?? null }),
  );
  // Give notifications still retrying a short grace to land; a dead webhook never holds the result long.
  if (ctx.notifications.length > 0) await Promise.race([Promise.all(ctx.notifications), sleep(NOTIFY_GRACE_MS)]);
  // A decision still being checked (its signature activity running) gets its answer before the close.
  await condition(allHandlersFinished);
  if (!succeeded) {
    // A failed execution shows as Failed in the Temporal UI and lets the digest be promoted again.
    throw ApplicationFailure.create({
      type: `Promotion${status.outcome
        .split('-')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join('')}`,
      message: status.reason ?? status.outcome,
      nonRetryable: true,
      details: [status],
    });
  }
  return status;
}
