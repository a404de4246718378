// Signs a start with the starter's SSH key (the CI's key, listed under `starters:` in the worker's
// policy), so the promotion knows who started it instead of taking --requested-by on trust.
import { randomUUID } from 'node:crypto';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import { startPayload } from '../policy/startClaim';
import { signWithKey } from './signDecision';

export function signStart(
  s: { workflowId: string; app: string; digest: string; commit?: string; starter: string },
  keyPath: string,
): SignedClaim {
  return signWithKey(startPayload({ ...s, time: new Date().toISOString(), nonce: randomUUID() }), keyPath);
}
