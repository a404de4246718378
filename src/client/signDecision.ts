// Signs a decision with the approver's SSH key, so the workflow can prove who decided. The payload
// names this promotion's workflow, run, digest and environment and carries a fresh nonce, so it
// cannot be replayed anywhere else.
import { randomUUID } from 'node:crypto';
import {
  canonicalDecisionPayload,
  EncryptedSshKeyError,
  signWithSshKey,
  signWithSshKeygen,
} from '../approvals/signing';
import type { SignedClaim, SignedKind } from '../pipeline/approvalPolicy';

export interface DecisionToSign {
  kind: SignedKind;
  workflowId: string;
  runId: string;
  app: string;
  digest: string;
  environment: string;
  approver: string;
  comment?: string;
  reason?: string;
}

export function signDecision(d: DecisionToSign, keyPath: string): SignedClaim {
  const payload = canonicalDecisionPayload({
    workflowId: d.workflowId,
    runId: d.runId,
    app: d.app,
    digest: d.digest,
    environment: d.environment,
    decision: d.kind,
    approver: d.approver,
    time: new Date().toISOString(),
    nonce: randomUUID(),
    comment: d.comment,
    reason: d.reason,
  });
  return signWithKey(payload, keyPath);
}

/** Signs a canonical payload (decision, start, operation) with an SSH key file or the agent behind it. */
export function signWithKey(payload: string, keyPath: string): SignedClaim {
  let signature: string;
  try {
    signature = signWithSshKey(payload, keyPath);
  } catch (err) {
    // Passphrase-protected keys and agent-held keys go through ssh-keygen (it asks or uses the agent).
    if (!(err instanceof EncryptedSshKeyError)) throw err;
    signature = signWithSshKeygen(payload, keyPath);
  }
  return { payload, signature };
}
