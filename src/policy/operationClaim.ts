// Operators steering a promotion (abort, pause, resume, rollback) prove who they are the way
// approvers do: an SSHSIG over the operation, checked against the keys the worker's policy lists
// under `operators:`. Unsigned operations count only where the policy allows that action in that
// environment. Pure: the workflow screens, an activity checks the signature.
import { canonicalJson } from '../approvals/signing/canonicalJson';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import type { OperationKind, OperatorPolicy } from './policyTypes';
import { parseClaim } from './startClaim';

export interface OperationToSign {
  kind: OperationKind;
  operator: string;
  workflowId: string;
  /** The promotion's first run; absent for an operation that starts a run (a rollback run). */
  runId?: string;
  /** Absent for operations on an environment rather than a promotion (freeze, unfreeze). */
  app?: string;
  digest?: string;
  environment?: string;
  reason?: string;
  time: string;
  nonce: string;
}

export function operationPayload(o: OperationToSign): string {
  return canonicalJson({
    decision: o.kind,
    operator: o.operator,
    workflowId: o.workflowId,
    runId: o.runId,
    app: o.app,
    digest: o.digest,
    environment: o.environment,
    reason: o.reason,
    time: o.time,
    nonce: o.nonce,
  });
}

export interface OperationContext {
  kind: OperationKind;
  workflowId: string;
  runId?: string;
  app?: string;
  digest?: string;
  /** The environment the operation acts on (rollback, freeze, unfreeze), or the one the promotion is in now. */
  environment?: string;
}

export type OperationScreening =
  | { refuse: string }
  | { verify: { payload: string; signature: string; keys: string[] }; nonce: string }
  | { unsigned: true };

/** Whether an operation may go on unsigned, must be refused, or has a signature to check. */
export function screenOperation(
  policy: OperatorPolicy,
  ctx: OperationContext,
  request: { by: string; signed?: SignedClaim },
  usedNonces: readonly string[],
): OperationScreening {
  if (!request.signed) {
    const allowed = policy.unsigned[ctx.kind] ?? [];
    if (allowed.includes('*') || (ctx.environment !== undefined && allowed.includes(ctx.environment)))
      return { unsigned: true };
    return {
      refuse: `the worker's policy requires ${ctx.kind}${ctx.environment ? ` in ${ctx.environment}` : ''} to be signed by an operator: run gantry with --as <operator> --key <your ssh key>`,
    };
  }
  const keys = policy.keys[request.by];
  if (!keys)
    return {
      refuse: `${request.by} is not an operator in the worker's policy (operators: ${Object.keys(policy.keys).join(', ') || 'none'})`,
    };
  const claim = parseClaim(request.signed.payload, 'operation');
  if (typeof claim === 'string') return { refuse: claim };
  const checks: Array<[unknown, unknown, string]> = [
    [claim.decision, ctx.kind, `signed "${String(claim.decision)}", not "${ctx.kind}"`],
    [claim.operator, request.by, `signed by operator "${String(claim.operator)}" but sent as "${request.by}"`],
    [claim.workflowId, ctx.workflowId, `signed for another promotion (${String(claim.workflowId)})`],
    [claim.runId, ctx.runId, 'signed for another run of this promotion (replayed operation)'],
    [claim.app, ctx.app, `signed for app "${String(claim.app)}"`],
    [claim.digest, ctx.digest, `signed for another digest (${String(claim.digest)})`],
  ];
  if (ctx.kind === 'rollback' || ctx.kind === 'freeze' || ctx.kind === 'unfreeze')
    checks.push([
      claim.environment,
      ctx.environment,
      `signed for environment "${String(claim.environment)}", not "${ctx.environment}"`,
    ]);
  for (const [got, wanted, message] of checks) if (got !== wanted) return { refuse: message };
  if (typeof claim.nonce !== 'string' || claim.nonce.length < 8) return { refuse: 'signed operation has no nonce' };
  if (usedNonces.includes(claim.nonce)) return { refuse: 'nonce already used (replayed operation)' };
  if (keys.length === 0) return { refuse: `operator ${request.by} has no keys in the worker's policy` };
  return { verify: { payload: request.signed.payload, signature: request.signed.signature, keys }, nonce: claim.nonce };
}
