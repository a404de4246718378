// Signs an operator's abort, pause, resume or rollback with their SSH key (listed under
// `operators:` in the worker's policy), so the promotion knows who steered it.
import { randomUUID } from 'node:crypto';
import { EncryptedSshKeyError, signWithSshKey, signWithSshKeygen } from '../approvals/signing';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import { operationPayload, type OperationToSign } from '../policy/operationClaim';

export function signOperation(o: Omit<OperationToSign, 'time' | 'nonce'>, keyPath: string): SignedClaim {
  const payload = operationPayload({ ...o, time: new Date().toISOString(), nonce: randomUUID() });
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
