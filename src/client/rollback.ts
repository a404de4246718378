// gantry rollback: put an environment back on the digest it ran before the app's last promotion
// there. A promotion still running is rolled back in place (its canary weight goes to 0 and the
// deploy target is reverted); a finished one gets a rollback run that deploys the earlier digest.
import { rollbackUpdate } from '../../workflows/messages';
import type { promoteArtifact } from '../../workflows/promoteArtifact';
import type { StartRequestInput } from '../policy/policyTypes';
import { signOperation } from './signOperation';
import { resolvePromotion } from '../config/resolvePromotion';
import type { GantryConfig } from '../config/configTypes';
import { shortDigest } from '../pipeline/digest';
import type { PromotionStatus } from '../pipeline/promotionStatus';
import type { GantryClient } from './gantryClient';
import { deliverUpdate } from './deliverUpdate';

export interface RollbackRequestOptions {
  app: string;
  environment: string;
  by: string;
  reason?: string;
  /** Skip gates and soak (and canary steps) on the way back. */
  fastTrack: boolean;
  /** Sign the rollback with this operator key (the worker's policy says where that is required). */
  keyPath?: string;
}

export type RollbackAnswer =
  | { accepted: true; workflowId: string; from: string; to?: string; inPlace: boolean }
  | { accepted: false; reason: string };

/** How far back to look for the app's last promotion into the environment. */
const SEARCH_LIMIT = 50;

export async function rollback(
  gantry: GantryClient,
  config: GantryConfig,
  r: RollbackRequestOptions,
): Promise<RollbackAnswer> {
  const last = await lastPromotionInto(gantry, r.app, r.environment);
  if (!last) return { accepted: false, reason: `no promotion of ${r.app} has deployed ${r.environment}` };
  const env = last.environments.find((e) => e.name === r.environment)!;
  if (last.outcome === 'running') {
    const handle = gantry.client.workflow.getHandle(last.workflowId);
    const signed = r.keyPath
      ? signOperation(
          {
            kind: 'rollback',
            operator: r.by,
            workflowId: last.workflowId,
            runId: (await handle.describe()).runId,
            app: r.app,
            digest: last.digest,
            environment: r.environment,
            reason: r.reason,
          },
          r.keyPath,
        )
      : undefined;
    const answer = await deliverUpdate(() =>
      handle.executeUpdate(rollbackUpdate, {
        args: [{ environment: r.environment, by: r.by, reason: r.reason, ...(signed ? { signed } : {}) }],
      }),
    )
      .then((a) =>
        a.accepted ? { accepted: true as const } : { accepted: false as const, reason: a.reason ?? 'refused' },
      )
      .catch((err: Error & { cause?: Error }) => ({
        accepted: false as const,
        reason: err.cause?.message ?? err.message,
      }));
    return answer.accepted
      ? { accepted: true, workflowId: last.workflowId, from: last.digest, to: env.previousDigest, inPlace: true }
      : answer;
  }
  if (env.rolledBackTo)
    return {
      accepted: false,
      reason: `${r.environment} was already rolled back to ${shortDigest(env.rolledBackTo)} by ${last.workflowId}`,
    };
  const to = env.previousDigest;
  if (!to)
    return {
      accepted: false,
      reason: `${r.environment} ran no digest before ${shortDigest(last.digest)}: nothing to roll back to`,
    };

  const workflowId = `rollback/${r.app}/${r.environment}/${last.digest}`;
  const earlier = await gantry.client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  if (earlier?.status.name === 'RUNNING') return { accepted: true, workflowId, from: last.digest, to, inPlace: false };
  if (earlier?.status.name === 'COMPLETED')
    return {
      accepted: false,
      reason: `${r.environment} was already rolled back to ${shortDigest(to)} by ${workflowId}`,
    };

  const input = resolvePromotion(config, { app: r.app, digest: to, requestedBy: r.by });
  const plan = input.environments.find((e) => e.name === r.environment);
  if (!plan) return { accepted: false, reason: `gantry.yaml has no environment ${r.environment} for ${r.app}` };
  // The rollback is itself the decision: no approval wait on the way back to a known-good digest.
  input.environments = [{ ...plan, approval: undefined }];
  input.rollback = { from: last.digest, by: r.by, reason: r.reason, fastTrack: r.fastTrack };
  // The rollback run is admitted under the worker's policy like any promotion: signed by an operator where it says so.
  const sent: StartRequestInput = r.keyPath
    ? {
        ...input,
        signedStart: signOperation(
          {
            kind: 'rollback',
            operator: r.by,
            workflowId,
            app: r.app,
            digest: to,
            environment: r.environment,
            reason: r.reason,
          },
          r.keyPath,
        ),
      }
    : input;
  const handle = await gantry.client.workflow.start<typeof promoteArtifact>('promoteArtifact', {
    workflowId,
    taskQueue: gantry.taskQueue,
    args: [sent],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `roll back ${r.app} in ${r.environment} to ${shortDigest(to)}`,
    ...gantry.searchAttributesFor(input),
  });
  const admission = await gantry.admission(handle);
  if (!admission.accepted)
    return { accepted: false, reason: `refused by the worker's policy: ${admission.reason ?? 'refused'}` };
  return { accepted: true, workflowId, from: last.digest, to, inPlace: false };
}

/** The newest promotion of the app (not a rollback run) that deployed the environment. */
async function lastPromotionInto(
  gantry: GantryClient,
  app: string,
  environment: string,
): Promise<PromotionStatus | undefined> {
  for (const p of await gantry.list({ app, limit: SEARCH_LIMIT })) {
    if (!p.workflowId.startsWith('promote/') || !p.digest) continue;
    const status = await gantry.status(app, p.digest).catch(() => undefined);
    const env = status?.environments.find((e) => e.name === environment);
    // deployedAt for every target; promotions from before it only have a gitops commit.
    if (status && env && (env.deployedAt !== undefined || env.commit !== undefined)) return status;
  }
  return undefined;
}
