// One promotion of one artifact (an image digest) through the pipeline's environments.
// Deterministic: everything with side effects happens in activities; decisions arrive as
// updates or signals and pass the same pure rules (src/pipeline/decisions, approvalPolicy).
// The parts live in workflows/promotion/: the shared context (status, audit, notifications,
// stages), approval and freeze waits, the message handlers, the canary stage, rollback and the
// outcome; this file is the pipeline itself.
import { CancellationScope, isCancellation, patched, sleep } from '@temporalio/workflow';
import type { GateOutcome, PromotionResult } from '../src/pipeline/promotionStatus';
import { GANTRY_AWAITING_APPROVAL } from '../src/pipeline/searchAttributes';
import type { EnvironmentPlan, PromotionInput } from '../src/pipeline/types';
import { activityOptions } from './activityOptions';
import { admissionAuditDetails, admitPromotion } from './admitPromotion';
import { onEnvironmentQueue } from './environmentQueue';
import { LaneSeat } from './laneSeat';
import { migrationGate } from './migrationGate';
import { awaitApproval } from './promotion/awaitApproval';
import { awaitFreezeLift, noteFreezeBypass } from './promotion/awaitFreezeLift';
import { canaryStage, completeCanary } from './promotion/canaryStage';
import { installDecisionHandlers } from './promotion/decisionHandlers';
import { acts } from './promotion/promotionActivities';
import { PromotionContext } from './promotion/promotionContext';
import { failureMessage, PromotionEnded } from './promotion/promotionEnded';
import { closePromotion, recordEnding, recordSuccess } from './promotion/promotionOutcome';
import { rollbackEnvironment } from './promotion/rollbackEnvironment';
import { rolloutWaves } from './promotion/rolloutWaves';

export async function promoteArtifact(sent: PromotionInput): Promise<PromotionResult> {
  // The worker's policy, not the input, decides approvals, keys, freezes and commands (src/policy).
  const admitted = patched('policy-from-worker') ? await admitPromotion(sent) : undefined;
  const input = admitted?.input ?? sent;
  // Promotions started before lanes existed replay without them (their histories have no lane events).
  const lane = patched('promotion-lanes') ? new LaneSeat(input.app) : undefined;
  const ctx = new PromotionContext(input, admitted, lane);
  const { status, info } = ctx;
  installDecisionHandlers(ctx);

  ctx.index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
  await ctx.audit('started', undefined, {
    requestedBy: input.requestedBy,
    commit: input.commit ?? null,
    environments: input.environments.map((e) => e.name),
    ...(admitted ? admissionAuditDetails(admitted) : {}),
  });
  await lane?.join(
    input.digest,
    input.environments.map((e) => e.name),
    input.rollback ? 'rollback' : 'promotion',
    input.ordering ?? 'supersede',
  );
  try {
    await CancellationScope.cancellable(async () => {
      ctx.pipelineScope = CancellationScope.current();
      const verified = await ctx.stage('verify', undefined, () =>
        acts.verifyArtifact.executeWithOptions({ ...activityOptions.verify, summary: ctx.label('verify') }, [
          { app: input.app, digest: input.digest, image: input.image, registry: input.registry, trust: input.verify },
        ]),
      );
      status.trust = verified.trust;
      await ctx.audit('verified', undefined, { ...verified });
      // Only a verified digest supersedes older ones.
      if (!input.rollback) await lane?.verified();
      for (const env of input.environments) await promoteTo(env);
    });
    recordSuccess(ctx);
  } catch (err) {
    await recordEnding(ctx, err);
  }
  return closePromotion(ctx);

  /** One environment: approval, freeze, its turn in the lane, migrations, deploy, then its checks. */
  async function promoteTo(env: EnvironmentPlan) {
    const e = ctx.envStatus(env.name);
    if (env.approval) {
      const spec = env.approval;
      await ctx.stage('approval', env.name, () => awaitApproval(ctx, env, spec));
    }
    // A freeze is waited out before taking the environment (others may have an override), and
    // looked at again once it is this promotion's turn: it may have started meanwhile.
    if (!input.rollback || !lane) await awaitFreezeLift(ctx, env);
    // At most one promotion of the app deploys into an environment at a time; the lane says when.
    const grant = lane ? await ctx.stage('queued', env.name, () => lane.acquire(env.name)) : undefined;
    ctx.endIfSuperseded();
    if (lane) await (input.rollback ? noteFreezeBypass(ctx, env) : awaitFreezeLift(ctx, env));
    // Destructive migrations wait for their own approval before anything is deployed (workflows/migrationGate.ts).
    if (env.migrations && patched('migrations-gate')) await migrationGate(env, env.migrations, ctx);
    // Only environments made of targets take this path, so recorded histories never meet the marker.
    if (env.rollout && patched('waves')) {
      e.previousDigest = grant?.previousDigest;
      await rolloutWaves(ctx, env, env.rollout, grant?.previousDigest);
      if (env.soakMs > 0 && !input.rollback?.fastTrack) await ctx.stage('soak', env.name, () => sleep(env.soakMs));
    } else {
      await deployAndVerify(env, grant);
    }
    e.state = 'promoted';
    if (lane) {
      if (input.rollback) await lane.rolledBack(env.name, input.rollback.from, input.digest);
      await lane.release(env.name, true);
    }
  }

  /** The environment as one place: deploy, then health, canary, gates and soak (rolled back on failure if asked). */
  async function deployAndVerify(env: EnvironmentPlan, grant: { previousDigest?: string } | undefined) {
    const e = ctx.envStatus(env.name);
    e.state = 'in-progress';
    const deployed = await ctx.stage('deploy', env.name, () =>
      acts.deploy.executeWithOptions(
        onEnvironmentQueue({ ...activityOptions.deploy, summary: ctx.label('deploy', env.name) }, env.taskQueue),
        [
          {
            target: env.deploy,
            app: input.app,
            digest: input.digest,
            environment: env.name,
            workflowId: info.workflowId,
            ...(input.rollback
              ? {
                  rollback: {
                    from: input.rollback.from,
                    reason: `by ${input.rollback.by}${input.rollback.reason ? `: ${input.rollback.reason}` : ''}`,
                  },
                }
              : {}),
          },
        ],
      ),
    );
    // What to go back to comes from the lane's record of promotions, not from what the target
    // held: a retried deploy finds its own digest there. With no record (the environment's first
    // promotion through Gantry), what the target held before, if it was another digest.
    const held = deployed.previousDigest !== input.digest ? deployed.previousDigest : undefined;
    const previousDigest = lane ? (grant?.previousDigest ?? held) : deployed.previousDigest;
    Object.assign(e, {
      commit: deployed.commit,
      changed: deployed.changed,
      previousDigest,
      ...(lane ? { deployedAt: ctx.now() } : {}),
    });
    await ctx.audit('deployed', env.name, {
      commit: deployed.commit ?? null,
      changed: deployed.changed,
      previousDigest: previousDigest ?? null,
    });
    if (lane && env.onFailure === 'rollback') {
      try {
        await verifyEnvironment(env, deployed.commit);
      } catch (err) {
        if (isCancellation(err) || (err instanceof PromotionEnded && err.outcome !== 'failed')) throw err;
        await rollbackEnvironment(
          ctx,
          env,
          err instanceof PromotionEnded ? err.message : `${status.stage} failed in ${env.name}: ${failureMessage(err)}`,
        );
      }
    } else {
      await verifyEnvironment(env, deployed.commit);
    }
  }

  /** After the deploy: health, canary, gates and soak, as the environment's plan says. */
  async function verifyEnvironment(env: EnvironmentPlan, commit: string | undefined) {
    const e = ctx.envStatus(env.name);
    const check = env.health;
    if (check) {
      await ctx.stage('health', env.name, () =>
        acts.checkHealth.executeWithOptions(
          onEnvironmentQueue(
            { ...activityOptions.health(check), summary: ctx.label('health', env.name) },
            env.taskQueue,
          ),
          [
            // Only the argocd check looks for the deploy's commit (other checks keep their inputs as they were).
            { check, digest: input.digest, environment: env.name, ...(check.kind === 'argocd' ? { commit } : {}) },
          ],
        ),
      );
    }
    const fast = input.rollback?.fastTrack ?? false;
    if (env.canary && !fast) await canaryStage(ctx, env, env.canary);
    // A fast-tracked rollback run skips the steps but must still leave the stable side on its digest.
    else if (env.canary && env.canaryStable && input.rollback && lane)
      await completeCanary(ctx, env, env.canaryStable, env.canary);
    if (env.gates.length > 0 && !fast) {
      await ctx.stage('gates', env.name, async () => {
        for (const gate of env.gates) {
          const outcome: GateOutcome = await acts.runGate.executeWithOptions(
            onEnvironmentQueue(
              { ...activityOptions.gate(gate), summary: ctx.label(`gate ${gate.name}`, env.name) },
              env.taskQueue,
            ),
            [
              {
                gate,
                app: input.app,
                digest: input.digest,
                environment: env.name,
                ...(input.commit ? { commit: input.commit } : {}),
              },
            ],
          );
          e.gates.push(outcome);
          await ctx.audit('gate', env.name, {
            name: outcome.name,
            passed: outcome.passed,
            detail: outcome.detail.slice(-500),
          });
          if (!outcome.passed)
            throw new PromotionEnded('failed', `gate ${gate.name} failed in ${env.name}: ${outcome.detail}`);
        }
      });
    }
    if (env.soakMs > 0 && !fast) await ctx.stage('soak', env.name, () => sleep(env.soakMs));
  }
}
