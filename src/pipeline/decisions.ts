// The rules for human decisions sent to a running promotion. Pure, so the update validators,
// the signal handlers and the tests all apply exactly the same rules.
import type { SignedClaim } from './approvalPolicy';
import type { PromotionStatus } from './promotionStatus';

export interface ApprovalDecision {
  environment: string;
  /** Who decides: an approver named in gantry.yaml. */
  by: string;
  comment?: string;
  /** The decision signed with the approver's SSH key (gantry approve --key). */
  signed?: SignedClaim;
}

/** Lets one promotion deploy into an environment during a manual freeze; always signed, with a reason. */
export interface FreezeOverride {
  environment: string;
  by: string;
  reason: string;
  signed?: SignedClaim;
}

export interface OperatorRequest {
  by: string;
  reason?: string;
}

export type DecisionKind = 'approve' | 'reject';

/** Puts an environment this promotion deployed back on the digest it ran before. */
export interface RollbackRequest {
  environment: string;
  by: string;
  reason?: string;
}

/** Why a decision cannot be accepted now, or undefined when it can. */
export function refuseDecision(status: PromotionStatus, decision: unknown): string | undefined {
  const shape = refuseShape(decision);
  if (shape) return shape;
  const d = decision as ApprovalDecision;
  if (status.outcome !== 'running') return `promotion already ${status.outcome}`;
  const env = status.environments.find((e) => e.name === d.environment);
  if (!env) {
    return `unknown environment "${d.environment}" (this promotion has ${status.environments.map((e) => e.name).join(', ')})`;
  }
  if (env.approval) return `${d.environment} was already decided: ${describeDecision(env.approval)}`;
  if (status.awaitingApproval?.environment !== d.environment) {
    const now = status.awaitingApproval
      ? `it is awaiting approval for ${status.awaitingApproval.environment}`
      : `it is at stage ${status.stage}${status.environment ? ` in ${status.environment}` : ''}`;
    return `not awaiting approval for ${d.environment}: ${now}`;
  }
  return undefined;
}

export function refuseOperatorRequest(
  status: PromotionStatus,
  kind: 'abort' | 'pause' | 'resume',
  request: unknown,
): string | undefined {
  if (typeof request !== 'object' || request === null || !nonEmpty((request as OperatorRequest).by)) {
    return `${kind} needs {"by": "<who>"}`;
  }
  if (status.outcome !== 'running') return `promotion already ${status.outcome}`;
  if (kind === 'pause' && status.paused) return 'promotion is already paused';
  if (kind === 'resume' && !status.paused) return 'promotion is not paused';
  return undefined;
}

function refuseShape(decision: unknown): string | undefined {
  if (typeof decision !== 'object' || decision === null) return 'decision must be an object {"environment", "by"}';
  const d = decision as Record<string, unknown>;
  if (!nonEmpty(d.environment)) return 'decision needs "environment"';
  if (!nonEmpty(d.by)) return 'decision needs "by" (who decides)';
  if (d.comment !== undefined && typeof d.comment !== 'string') return '"comment" must be a string';
  if (d.signed !== undefined) {
    const signed = d.signed as Record<string, unknown> | null;
    if (
      typeof signed !== 'object' ||
      signed === null ||
      typeof signed.payload !== 'string' ||
      typeof signed.signature !== 'string'
    ) {
      return '"signed" must be {"payload", "signature"}';
    }
  }
  return undefined;
}

export function refuseRollback(status: PromotionStatus, request: unknown): string | undefined {
  const r = request as RollbackRequest | null;
  if (typeof r !== 'object' || r === null || !nonEmpty(r.by) || !nonEmpty(r.environment))
    return 'rollback needs {"environment", "by"}';
  if (status.outcome !== 'running') return `promotion already ${status.outcome}`;
  const env = status.environments.find((e) => e.name === r.environment);
  if (!env) return `unknown environment "${r.environment}"`;
  // Promotions from before deployedAt existed only know the commit (gitops).
  if (env.deployedAt === undefined && env.commit === undefined)
    return `${r.environment} was not deployed by this promotion yet`;
  if (env.rolledBackTo !== undefined) return `${r.environment} was already rolled back to ${env.rolledBackTo}`;
  if (env.previousDigest === undefined)
    return `nothing to roll back to: no digest was promoted into ${r.environment} before this one`;
  return undefined;
}

export function refuseFreezeOverride(status: PromotionStatus, request: unknown): string | undefined {
  const shape = refuseShape(request);
  if (shape) return shape;
  const r = request as FreezeOverride;
  if (!nonEmpty(r.reason)) return 'a freeze override needs a reason';
  if (status.outcome !== 'running') return `promotion already ${status.outcome}`;
  if (!status.environments.some((e) => e.name === r.environment)) return `unknown environment "${r.environment}"`;
  if (status.freezeOverrides.includes(r.environment)) return `${r.environment} already has a freeze override`;
  return undefined;
}

function describeDecision(d: { kind: DecisionKind; by: string; at: string }): string {
  return `${d.kind === 'approve' ? 'approved' : 'rejected'} by ${d.by} at ${d.at}`;
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}
