// Signs an operator's abort, pause, resume, rollback, freeze or unfreeze with their SSH key (listed
// under `operators:` in the worker's policy), so the promotion knows who steered it.
import { randomUUID } from 'node:crypto';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import { operationPayload, type OperationToSign } from '../policy/operationClaim';
import { signWithKey } from './signDecision';

export function signOperation(o: Omit<OperationToSign, 'time' | 'nonce'>, keyPath: string): SignedClaim {
  return signWithKey(operationPayload({ ...o, time: new Date().toISOString(), nonce: randomUUID() }), keyPath);
}
