// Abort, pause, resume and rollback are authorised by the policy the promotion started under:
// signed by an operator it lists, or unsigned where it allows that action in that environment.
// Promotions from before policies keep their old behaviour (anyone, as a claim).
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { JsonValue } from '../src/audit/auditRecord';
import type { SignedClaim } from '../src/pipeline/approvalPolicy';
import { screenOperation } from '../src/policy/operationClaim';
import type { OperationKind, OperatorPolicy } from '../src/policy/policyTypes';
import { activityOptions } from './activityOptions';

type Activities = ReturnType<typeof activities.createActivities>;
const acts = proxyActivities<Activities>(activityOptions.perCall);

export interface OperationRequest {
  by: string;
  reason?: string;
  environment?: string;
  signed?: SignedClaim;
}

export type OperationVerdict = { refuse: string } | { proof: 'signature' | 'claim'; fingerprint?: string };

interface GuardContext {
  workflowId: string;
  runId: string;
  app: string;
  digest: string;
  audit(event: string, environment: string | undefined, details: JsonValue): Promise<unknown>;
}

export function operationGuard(operations: OperatorPolicy | undefined, ctx: GuardContext) {
  const usedNonces: string[] = [];
  return async function authorize(
    kind: OperationKind,
    request: OperationRequest,
    environment: string | undefined,
  ): Promise<OperationVerdict> {
    if (!operations) return { proof: 'claim' };
    const screening = screenOperation(
      operations,
      { kind, workflowId: ctx.workflowId, runId: ctx.runId, app: ctx.app, digest: ctx.digest, environment },
      request,
      usedNonces,
    );
    if ('refuse' in screening) return screening;
    let verdict: OperationVerdict = { proof: 'claim' };
    if ('verify' in screening) {
      usedNonces.push(screening.nonce);
      const checked = await acts.verifyDecisionSignature.executeWithOptions(
        { ...activityOptions.verifySignature, summary: `verify ${kind} by ${request.by}` },
        [screening.verify],
      );
      if (!checked.ok) return { refuse: checked.reason };
      verdict = { proof: 'signature', fingerprint: checked.fingerprint };
    }
    await ctx.audit('operation', environment, {
      action: kind,
      by: request.by,
      proof: verdict.proof,
      ...(verdict.fingerprint ? { signerFingerprint: verdict.fingerprint } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
      ...(request.signed ? { payload: request.signed.payload, signature: request.signed.signature } : {}),
    });
    return verdict;
  };
}
