// A target's canary that waits for a person (workflows/targetCanary.ts) tells the promotion: its
// row shows `paused` with what it waits for, and the promotion counts as paused, so `gantry status`
// says so and `gantry resume` is accepted. The resume then signals every paused target's child.
import { getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { targetPausedSignal, targetResumeSignal } from '../messages';
import type { PromotionContext } from './promotionContext';

/** The child workflow id of one target of an environment rolled out in waves. */
export function targetWorkflowId(promotionId: string, environment: string, target: string): string {
  return `${promotionId}/${environment}/${target}`;
}

/** Registers the handler for targets' pauses; call once, before the pipeline starts. */
export function installTargetPauseHandler(ctx: PromotionContext): void {
  setHandler(targetPausedSignal, (p) => {
    const row = ctx.status.environments
      .find((e) => e.name === p.environment)
      ?.targets?.find((t) => t.name === p.target);
    // A child's pause sent while an abort or rollback cancels it is not a wait any more.
    if (!row || ctx.status.outcome !== 'running' || ctx.pipelineScope?.consideredCancelled) return;
    Object.assign(row, { state: 'paused', reason: p.reason, canaryWeight: p.canaryWeight });
    ctx.status.paused = true;
    ctx.pauseReason = pausedTargets(ctx.status);
    ctx.describe();
  });
}

/** What the paused targets wait for, one after the other. */
function pausedTargets(status: PromotionStatus): string {
  return status.environments
    .flatMap((e) => (e.targets ?? []).filter((t) => t.state === 'paused').map((t) => t.reason ?? `${e.name}/${t.name}`))
    .join('; ');
}

/** `gantry resume`: every paused target goes on (a target whose child has ended meanwhile is skipped). */
export async function resumeTargets(ctx: PromotionContext): Promise<void> {
  const paused = ctx.status.environments.flatMap((e) =>
    (e.targets ?? []).filter((t) => t.state === 'paused').map((row) => ({ environment: e.name, row })),
  );
  await Promise.all(
    paused.map(async ({ environment, row }) => {
      row.state = 'deployed';
      row.reason = undefined;
      await getExternalWorkflowHandle(targetWorkflowId(ctx.info.workflowId, environment, row.name))
        .signal(targetResumeSignal)
        .catch(() => undefined);
    }),
  );
}

/** `gantry abort` or `gantry rollback`: the paused targets' children are cancelled with the pipeline; their rows say so. */
export function endTargetPauses(ctx: PromotionContext, by: 'aborted' | 'rolled back'): void {
  for (const e of ctx.status.environments)
    for (const row of e.targets ?? [])
      if (row.state === 'paused')
        Object.assign(row, { state: 'deployed', reason: `${by} while waiting: ${row.reason}` });
}
