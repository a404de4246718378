// Checks a signed decision's SSH signature against the approver's keys from gantry.yaml.
// The workflow has already checked that the signed payload is for this promotion.
import { verifySshSignature } from '../../src/approvals/signing';

export interface SignatureCheck {
  payload: string;
  signature: string;
  keys: string[];
}

export type SignatureVerdict = { ok: true; fingerprint: string } | { ok: false; reason: string };

export async function verifyDecisionSignature(check: SignatureCheck): Promise<SignatureVerdict> {
  const result = verifySshSignature(check.payload, check.signature, check.keys);
  return result.ok ? { ok: true, fingerprint: result.fingerprint } : { ok: false, reason: result.reason };
}
