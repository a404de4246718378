// The canary of one environment as a stage of the promotion: runCanary walks the steps and fills
// the environment's evidence in the status; a failed analysis rolls the environment back, an
// aborted one ends the promotion. Once the last step passed, the stable side takes the digest.
import { condition } from '@temporalio/workflow';
import type { JsonValue } from '../../src/audit/auditRecord';
import type { CanaryEvidence } from '../../src/canary/types';
import type { DeployTarget, EnvironmentPlan } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import { onEnvironmentQueue } from '../environmentQueue';
import { runCanary } from '../runCanary';
import { awaitFreezeLift } from './awaitFreezeLift';
import { acts } from './promotionActivities';
import type { PromotionContext } from './promotionContext';
import { PromotionEnded } from './promotionEnded';
import { rollbackEnvironment } from './rollbackEnvironment';

type CanaryPlanOf = NonNullable<EnvironmentPlan['canary']>;

/** Walks the canary steps; a failed analysis rolls the environment back with the evidence. */
export async function canaryStage(ctx: PromotionContext, env: EnvironmentPlan, plan: CanaryPlanOf): Promise<void> {
  const { input, info, status, lane } = ctx;
  const e = ctx.envStatus(env.name);
  // The status holds the only copy: runCanary fills it as the steps go.
  const evidence: CanaryEvidence = (e.canary = { steps: [], analyses: [], weight: 0 });
  const result = await runCanary(plan, {
    app: input.app,
    digest: input.digest,
    environment: env.name,
    taskQueue: env.taskQueue,
    workflowId: info.workflowId,
    evidence,
    stage: (_name, run) => ctx.stage('canary', env.name, run),
    isPaused: () => status.paused,
    waitForResume: async (reason) => {
      status.paused = true;
      ctx.pauseReason = reason;
      ctx.describe();
      await condition(() => !status.paused);
    },
    onAnalysis: (analysis) => {
      ctx.canaryAudits.push(ctx.audit('canary-decision', env.name, JSON.parse(JSON.stringify(analysis)) as JsonValue));
    },
    // Traffic to the canary is a change to the environment: a freeze holds it like a deploy.
    ...(lane ? { beforeChange: () => awaitFreezeLift(ctx, env) } : {}),
  });
  await Promise.all(ctx.canaryAudits.splice(0));
  if (result.outcome === 'Failed')
    await rollbackEnvironment(ctx, env, `canary failed: ${result.reason ?? 'analysis failed'}`);
  if (result.outcome === 'Aborted')
    throw new PromotionEnded('aborted', `canary in ${env.name} aborted: ${result.reason ?? ''}`.trim());
  if (env.canaryStable && lane) await completeCanary(ctx, env, env.canaryStable, plan);
}

/**
 * The last step passed: the stable side gets the new digest, then all traffic, so the next
 * promotion starts with stable serving everything and the canary side free for it.
 */
export async function completeCanary(
  ctx: PromotionContext,
  env: EnvironmentPlan,
  stable: DeployTarget,
  plan: CanaryPlanOf,
): Promise<void> {
  const { input, info } = ctx;
  const e = ctx.envStatus(env.name);
  await awaitFreezeLift(ctx, env);
  await ctx.stage('canary', env.name, async () => {
    const deployed = await acts.deploy.executeWithOptions(
      onEnvironmentQueue(
        { ...activityOptions.deploy, summary: ctx.label('deploy stable side', env.name) },
        env.taskQueue,
      ),
      [{ target: stable, app: input.app, digest: input.digest, environment: env.name, workflowId: info.workflowId }],
    );
    e.stableSide = { commit: deployed.commit, previousDigest: deployed.previousDigest, at: ctx.now() };
    await acts.setCanaryWeight.executeWithOptions(
      onEnvironmentQueue(
        { ...activityOptions.rollbackWeight, summary: ctx.label('all traffic to stable', env.name) },
        env.taskQueue,
      ),
      [{ router: plan.router, weight: 0, app: input.app, environment: env.name }],
    );
    if (e.canary) e.canary.weight = 0;
    await ctx.audit('canary-completed', env.name, {
      stableCommit: deployed.commit ?? null,
      stablePreviousDigest: deployed.previousDigest ?? null,
      weight: 0,
    });
  });
}
