// Who may decide, and whether a signed decision is really for this promotion. Pure: the
// workflow applies it to every approve/reject/override it receives; only the signature itself is
// checked in an activity (it needs crypto). Refusals from here are recorded, not just answered.
import type { ApprovalSpec } from './types';

export type SignedKind = 'approve' | 'reject' | 'override-freeze';

export interface SignedClaim {
  /** The canonical JSON the approver signed (src/approvals/signing/decisionPayload.ts). */
  payload: string;
  /** Armored SSHSIG (`ssh-keygen -Y sign -n gantry-approval`). */
  signature: string;
}

export interface VoteRecord {
  kind: 'approve' | 'reject';
  by: string;
  comment?: string;
  at: string;
  via: 'update' | 'signal';
  /** SHA256 fingerprint of the key that signed it; absent for unsigned decisions. */
  signer?: string;
}

export interface ClaimContext {
  kind: SignedKind;
  workflowId: string;
  runId: string;
  app: string;
  digest: string;
  environment: string;
  requestedBy: string;
}

export interface DecisionRequestLike {
  by: string;
  signed?: SignedClaim;
}

export type Screening =
  { refuse: string } | { verify?: { payload: string; signature: string; keys: string[] }; nonce?: string };

export function screenDecision(
  spec: ApprovalSpec,
  ctx: ClaimContext,
  votes: readonly VoteRecord[],
  usedNonces: readonly string[],
  request: DecisionRequestLike,
): Screening {
  const { by } = request;
  if (spec.eligible && !spec.eligible.includes(by)) {
    return { refuse: `${by} is not an approver for ${ctx.environment} (eligible: ${spec.eligible.join(', ')})` };
  }
  if (by === ctx.requestedBy) return { refuse: `${by} started this promotion and cannot decide on it` };
  const repeat = ctx.kind === 'override-freeze' ? undefined : refuseSecondVote(votes, by, ctx.environment);
  if (repeat) return { refuse: repeat };
  if (!request.signed) {
    return spec.signatures === 'required'
      ? { refuse: `${ctx.environment} requires a signed decision: run gantry with --key <your ssh ed25519 key>` }
      : {};
  }
  const mismatch = claimMismatch(ctx, request.signed.payload, by, usedNonces);
  if (typeof mismatch === 'string') return { refuse: mismatch };
  const keys = spec.keys[by] ?? [];
  if (keys.length === 0) return { refuse: `${by} has no keys in gantry.yaml to verify the signature with` };
  return {
    verify: { payload: request.signed.payload, signature: request.signed.signature, keys },
    nonce: mismatch.nonce,
  };
}

/** Why the signed payload is not a decision for this promotion, this environment, now; or its nonce. */
function claimMismatch(
  ctx: ClaimContext,
  payload: string,
  by: string,
  usedNonces: readonly string[],
): string | { nonce: string } {
  let claim: Record<string, unknown>;
  try {
    claim = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return 'signed payload is not JSON';
  }
  if (typeof claim !== 'object' || claim === null) return 'signed payload is not an object';
  const expect: Array<[string, string, string]> = [
    ['decision', ctx.kind, `signed decision is "${String(claim.decision)}", not "${ctx.kind}"`],
    ['approver', by, `signed by approver "${String(claim.approver)}" but sent as "${by}"`],
    ['workflowId', ctx.workflowId, `signed for another promotion (${String(claim.workflowId)})`],
    ['app', ctx.app, `signed for app "${String(claim.app)}"`],
    ['digest', ctx.digest, `signed for another digest (${String(claim.digest)})`],
    ['environment', ctx.environment, `signed for environment "${String(claim.environment)}", not "${ctx.environment}"`],
    ['runId', ctx.runId, 'signed for another run of this promotion (replayed decision)'],
  ];
  for (const [field, wanted, message] of expect) if (claim[field] !== wanted) return message;
  if (typeof claim.nonce !== 'string' || claim.nonce.length < 8) return 'signed payload has no nonce';
  if (usedNonces.includes(claim.nonce)) return 'nonce already used (replayed decision)';
  return { nonce: claim.nonce };
}

/**
 * One person decides once per environment. Checked when a decision arrives and again after its
 * signature was verified: another decision by the same person may have been counted meanwhile.
 */
export function refuseSecondVote(votes: readonly VoteRecord[], by: string, environment: string): string | undefined {
  const earlier = votes.find((v) => v.by === by);
  return earlier ? `${by} already ${earlier.kind === 'approve' ? 'approved' : 'rejected'} ${environment}` : undefined;
}

/** Distinct people who approved: one person counts once, however many of their votes got in. */
export function approvers(votes: readonly VoteRecord[]): string[] {
  return [...new Set(votes.filter((v) => v.kind === 'approve').map((v) => v.by))];
}

/** The decision the votes add up to: any eligible reject rejects; enough distinct approvers approve. */
export function tallyVotes(
  spec: Pick<ApprovalSpec, 'required'>,
  votes: readonly VoteRecord[],
): 'approved' | 'rejected' | undefined {
  if (votes.some((v) => v.kind === 'reject')) return 'rejected';
  return approvers(votes).length >= spec.required ? 'approved' : undefined;
}
