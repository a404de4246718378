/**
 * The exact bytes an approver signs: the decision's fields as canonical JSON (keys sorted, no
 * whitespace, absent optional fields omitted). Only the fields below are included; anything else on
 * the object (a signature, UI state) is ignored, so the payload is stable however it was built.
 */
import { canonicalJson } from './canonicalJson';

export interface ApprovalDecision {
  workflowId: string;
  app: string;
  /** Image digest being promoted, e.g. "sha256:..." */
  digest: string;
  environment: string;
  /** approve/reject an approval wait; override-freeze lets this one promotion through a freeze. */
  decision: 'approve' | 'reject' | 'override-freeze';
  /** Approver principal, as named in the allowed-signers file. */
  approver: string;
  /** ISO-8601 time of the decision. */
  time: string;
  /** Random single-use value; a signature can be presented only once. */
  nonce: string;
  comment?: string;
  reason?: string;
  /** The promotion's first run id: a decision for one run cannot be replayed onto a later run of the same digest. */
  runId?: string;
}

const REQUIRED = ['workflowId', 'app', 'digest', 'environment', 'decision', 'approver', 'time', 'nonce'] as const;
const OPTIONAL = ['comment', 'reason', 'runId'] as const;

export function canonicalDecisionPayload(decision: ApprovalDecision): string {
  const input = decision as unknown as Record<string, unknown>;
  const picked: Record<string, string> = {};
  for (const field of REQUIRED) {
    const value = input[field];
    if (typeof value !== 'string' || value === '')
      throw new TypeError(`approval decision: "${field}" must be a non-empty string`);
    picked[field] = value;
  }
  for (const field of OPTIONAL) {
    const value = input[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new TypeError(`approval decision: "${field}" must be a string`);
    picked[field] = value;
  }
  if (picked.decision !== 'approve' && picked.decision !== 'reject' && picked.decision !== 'override-freeze') {
    throw new TypeError(
      `approval decision: "decision" must be "approve", "reject" or "override-freeze", got "${picked.decision}"`,
    );
  }
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(picked.time) ||
    Number.isNaN(Date.parse(picked.time))
  ) {
    throw new TypeError(`approval decision: "time" must be an ISO-8601 timestamp with zone, got "${picked.time}"`);
  }
  return canonicalJson(picked);
}
