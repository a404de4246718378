// Signs a start with the starter's SSH key (the CI's key, listed under `starters:` in the worker's
// policy), so the promotion knows who started it instead of taking --requested-by on trust.
import { randomUUID } from 'node:crypto';
import { EncryptedSshKeyError, signWithSshKey, signWithSshKeygen } from '../approvals/signing';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import { startPayload } from '../policy/startClaim';

export function signStart(s: { workflowId: string; app: string; digest: string; commit?: string; starter: string }, keyPath: string): SignedClaim {
  const payload = startPayload({ ...s, time: new Date().toISOString(), nonce: randomUUID() });
  let signature: string;
  try {
    signature = signWithSshKey(payload, keyPath);
  } catch (err) {
    // Passphrase-protected and agent-held keys go through ssh-keygen, as for approvals.
    if (!(err instanceof EncryptedSshKeyError)) throw err;
    signature = signWithSshKeygen(payload, keyPath);
  }
  return { payload, signature };
}
