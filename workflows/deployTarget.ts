// One target of an environment rolled out in waves (workflows/promotion/rolloutWaves.ts starts one
// per target): deploy, health, canary and gates for that target, its activities on the target's
// task queue. A child workflow so each target's work has its own history: a 200-target rollout
// keeps the promotion's own history to a few events per target.
//
// It never throws for a failed target: it returns what happened (with the digest the target ran
// before, which a rollback needs), and it tells the promotion as soon as the deploy landed, so a
// promotion cancelled mid-wave still knows which targets it changed.
import { getExternalWorkflowHandle, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { CanaryEvidence } from '../src/canary/types';
import type { GateOutcome } from '../src/pipeline/promotionStatus';
import type { FreezeWindow, TargetPlan } from '../src/pipeline/types';
import { activityOptions } from './activityOptions';
import { onEnvironmentQueue } from './environmentQueue';
import { targetDeployedSignal, type TargetDeployed } from './messages';
import { acts } from './promotion/promotionActivities';
import { failureMessage } from './promotion/promotionEnded';
import { completeTargetCanary, runTargetCanary } from './targetCanary';
import { awaitTargetFreezeLift } from './targetFreeze';

export interface DeployTargetInput {
  app: string;
  digest: string;
  environment: string;
  target: TargetPlan;
  commit?: string;
  /** Set when the promotion is a rollback run (gantry rollback of an earlier promotion). */
  rollback?: { from: string; reason: string };
  /** A fast-tracked rollback run: health only, no canary or gates. */
  fastTrack: boolean;
  /** The environment's deny windows: with the target's own, they hold its canary's weight changes. */
  environmentFreezeWindows?: FreezeWindow[];
  /** The promotion holds a freeze override for the environment. */
  freezeOverridden?: boolean;
}

export interface DeployTargetResult {
  target: string;
  outcome: 'promoted' | 'failed';
  /** Whether the deploy wrote anything (false: it failed before, or the target already ran the digest). */
  changed: boolean;
  previousDigest?: string;
  commit?: string;
  reason?: string;
  gates: GateOutcome[];
  canary?: CanaryEvidence;
  /** Set once the canary completed: the stable side's deploy (a rollback puts it back too). */
  stableSide?: { commit?: string; previousDigest?: string };
}

/** Where a target's activities say they act: the environment and the target, e.g. production/prod-eu-1. */
export function placeOf(environment: string, target: string): string {
  return `${environment}/${target}`;
}

export async function deployTarget(input: DeployTargetInput): Promise<DeployTargetResult> {
  const { target, app, digest } = input;
  const place = placeOf(input.environment, target.name);
  const { workflowId } = workflowInfo();
  const queue = <T extends object>(options: T) => onEnvironmentQueue(options, target.taskQueue);
  const result: DeployTargetResult = { target: target.name, outcome: 'failed', changed: false, gates: [] };
  let stage = 'deploy';
  try {
    const deployed = await acts.deploy.executeWithOptions(
      queue({ ...activityOptions.deploy, summary: `deploy ${place}` }),
      [{ target: target.deploy, app, digest, environment: place, workflowId, rollback: input.rollback }],
    );
    result.changed = deployed.changed;
    result.commit = deployed.commit;
    // A retried child finds its own digest in the target: that is no digest to go back to.
    result.previousDigest = deployed.previousDigest !== digest ? deployed.previousDigest : undefined;
    await tellPromotion(landed(input, result));
    const check = target.health;
    if (check) {
      stage = 'health';
      await acts.checkHealth.executeWithOptions(
        queue({ ...activityOptions.health(check), summary: `health ${place}` }),
        [{ check, digest, environment: place, ...(check.kind === 'argocd' ? { commit: deployed.commit } : {}) }],
      );
    }
    if (target.canary && !input.fastTrack) {
      stage = 'canary';
      const evidence: CanaryEvidence = (result.canary = { steps: [], analyses: [], weight: 0 });
      const canary = await runTargetCanary(input, target.canary, place, evidence);
      if (canary.outcome !== 'Successful') {
        result.reason = `canary ${canary.outcome === 'Failed' ? 'failed' : 'aborted'}: ${canary.reason ?? 'analysis failed'}`;
        return result;
      }
    }
    // The last step passed (a fast-tracked rollback skips the steps, not the stable side's digest).
    if (target.canary && target.canaryStable) {
      stage = 'canary';
      if (patched('target-canary-freeze')) await awaitTargetFreezeLift(input);
      result.stableSide = await completeTargetCanary(input, target.canary, target.canaryStable, place);
      if (result.canary) result.canary.weight = 0;
      await tellPromotion(landed(input, result));
    }
    if (!input.fastTrack) {
      stage = 'gates';
      for (const gate of target.gates) {
        const outcome = await acts.runGate.executeWithOptions(
          queue({ ...activityOptions.gate(gate), summary: `gate ${gate.name} ${place}` }),
          // The worker's policy allows command gates per target of the environment.
          [
            {
              gate,
              app,
              digest,
              environment: input.environment,
              target: target.name,
              ...(input.commit ? { commit: input.commit } : {}),
            },
          ],
        );
        result.gates.push(outcome);
        if (!outcome.passed) {
          result.reason = `gate ${gate.name} failed: ${outcome.detail}`;
          return result;
        }
      }
    }
    result.outcome = 'promoted';
    return result;
  } catch (err) {
    if (isCancellation(err)) throw err;
    result.reason = `${stage} failed: ${failureMessage(err)}`;
    return result;
  }
}

/** What the promotion needs to put the target back: what its deploy (and its stable side's) changed. */
function landed(input: DeployTargetInput, result: DeployTargetResult): TargetDeployed {
  return {
    environment: input.environment,
    target: input.target.name,
    changed: result.changed,
    previousDigest: result.previousDigest,
    commit: result.commit,
    ...(result.stableSide ? { stableSide: result.stableSide } : {}),
  };
}

/** The promotion learns the target changed before the target's checks run (it may be cancelled meanwhile). */
async function tellPromotion(deployed: TargetDeployed): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(targetDeployedSignal, deployed);
}
