// `gantry freeze` and `gantry unfreeze` are authorised by the worker's policy, read when the request
// arrives (freezes belong to environments, not to one promotion): signed by an operator, or
// unsigned where the policy allows it. Registries from before policies replay without the check.
import { ApplicationFailure, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { SignedClaim } from '../src/pipeline/approvalPolicy';
import { screenOperation } from '../src/policy/operationClaim';
import { activityOptions } from './activityOptions';
import type { FreezeProof } from '../src/freeze/freezeRegistryApi';

type Activities = ReturnType<typeof activities.createActivities>;
const acts = proxyActivities<Activities>(activityOptions.perCall);
const local = proxyLocalActivities<Activities>(activityOptions.local);

export interface FreezeRequest {
  environment: string;
  by: string;
  reason?: string;
  signed?: SignedClaim;
}

/** How the freeze's author was known: signature (with the key) or claim. */

/** Refuses the update (ApplicationFailure) unless the policy allows it; nonces are remembered for this run. */
export async function authorizeFreeze(
  kind: 'freeze' | 'unfreeze',
  request: FreezeRequest,
  usedNonces: string[],
): Promise<FreezeProof | undefined> {
  if (!patched('policy-checked-freezes')) return undefined;
  const info = workflowInfo();
  const read = await local.readOperatorPolicy();
  if (!read.found) throw ApplicationFailure.create({ message: read.reason, nonRetryable: true });
  const screening = screenOperation(
    read.operations,
    { kind, workflowId: info.workflowId, environment: request.environment },
    request,
    usedNonces,
  );
  if ('refuse' in screening) throw ApplicationFailure.create({ message: screening.refuse, nonRetryable: true });
  let proof: FreezeProof = { proof: 'claim' };
  if ('verify' in screening) {
    usedNonces.push(screening.nonce);
    const verdict = await acts.verifyDecisionSignature.executeWithOptions(
      { ...activityOptions.verifySignature, summary: `verify ${kind} by ${request.by}` },
      [screening.verify],
    );
    if (!verdict.ok) throw ApplicationFailure.create({ message: verdict.reason, nonRetryable: true });
    proof = { proof: 'signature', fingerprint: verdict.fingerprint };
  }
  const at = new Date().toISOString();
  await local.recordAudit({
    id: `${info.workflowId}/${info.runId}/${kind}-${request.environment}-${at}`,
    workflowId: info.workflowId,
    // A freeze is about an environment, every app and digest in it.
    app: '*',
    digest: '*',
    environment: request.environment,
    event: kind,
    details: {
      by: request.by,
      proof: proof.proof,
      policy: read.digest,
      ...(proof.fingerprint ? { signerFingerprint: proof.fingerprint } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
    },
    time: at,
  });
  return proof;
}
