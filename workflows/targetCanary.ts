// A target's canary inside its child workflow (workflows/deployTarget.ts). A step that waits for
// a person (`pause: {}`, an inconclusive analysis with onInconclusive: pause) tells the promotion,
// which shows the target paused and passes `gantry resume` back as a signal. Once the last step
// passed, the stable side (`canary.stable`) takes the digest and all traffic, as an environment's does.
import { condition, getExternalWorkflowHandle, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CanaryEvidence, CanaryPlan, CanaryRunResult } from '../src/canary/types';
import type { DeployTarget } from '../src/pipeline/types';
import { activityOptions } from './activityOptions';
import type { DeployTargetInput } from './deployTarget';
import { onEnvironmentQueue } from './environmentQueue';
import { targetPausedSignal, targetResumeSignal, type TargetPaused } from './messages';
import { acts } from './promotion/promotionActivities';
import { runCanary } from './runCanary';
import { awaitTargetFreezeLift } from './targetFreeze';

/** Walks the target's canary steps; a step that asks for a person waits for the promotion's resume. */
export async function runTargetCanary(
  input: DeployTargetInput,
  plan: CanaryPlan,
  place: string,
  evidence: CanaryEvidence,
): Promise<CanaryRunResult> {
  let resumed = false;
  // Children from before it changed the canary's weights through freezes; their histories replay so.
  const freezeAware = patched('target-canary-freeze');
  setHandler(targetResumeSignal, () => {
    resumed = true;
  });
  return runCanary(plan, {
    app: input.app,
    digest: input.digest,
    environment: place,
    taskQueue: input.target.taskQueue,
    workflowId: workflowInfo().workflowId,
    evidence,
    stage: (_name, run) => run(),
    // Operators pause the promotion between waves; inside a wave a target goes on.
    isPaused: () => false,
    waitForResume: async (reason) => {
      // Children that ran before targets could wait failed the target here; their histories replay so.
      if (!patched('target-canary-wait')) throw new Error(`${reason}; a target cannot wait for a resume`);
      resumed = false;
      await tellPromotion({
        environment: input.environment,
        target: input.target.name,
        reason,
        canaryWeight: evidence.weight,
      });
      await condition(() => resumed);
    },
    onAnalysis: () => undefined,
    ...(freezeAware ? { beforeChange: () => awaitTargetFreezeLift(input) } : {}),
  });
}

/** The stable side gets the digest, then all traffic: the target's next promotion starts from stable. */
export async function completeTargetCanary(
  input: DeployTargetInput,
  plan: CanaryPlan,
  stable: DeployTarget,
  place: string,
): Promise<{ commit?: string; previousDigest?: string }> {
  const { app, digest, target } = input;
  const deployed = await acts.deploy.executeWithOptions(
    onEnvironmentQueue({ ...activityOptions.deploy, summary: `deploy stable side ${place}` }, target.taskQueue),
    [
      {
        target: stable,
        app,
        digest,
        environment: place,
        workflowId: workflowInfo().workflowId,
        rollback: input.rollback,
      },
    ],
  );
  await acts.setCanaryWeight.executeWithOptions(
    onEnvironmentQueue(
      { ...activityOptions.rollbackWeight, summary: `all traffic to stable ${place}` },
      target.taskQueue,
    ),
    [{ router: plan.router, weight: 0, app, environment: place }],
  );
  return {
    ...(deployed.commit ? { commit: deployed.commit } : {}),
    ...(deployed.previousDigest ? { previousDigest: deployed.previousDigest } : {}),
  };
}

async function tellPromotion(paused: TargetPaused): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(targetPausedSignal, paused);
}
