// Reads the worker's policy for one app when a promotion starts; the result is recorded in the
// promotion's history, so the promotion runs under that version until it ends.
import { readAppPolicy, readOperatorPolicy, type PolicySource } from '../../src/policy/policySource';
import type { PolicyRead } from '../../src/policy/policyTypes';

export function readPolicyWith(source: PolicySource | undefined) {
  return async function readPolicy(request: { app: string; digest: string; commit?: string }): Promise<PolicyRead> {
    return readAppPolicy(source, request.app, request.digest, request.commit);
  };
}

/** The operators part of the policy, for the freeze registry (freezes are per environment, not per app). */
export function readOperatorPolicyWith(source: PolicySource | undefined) {
  return async function readOperatorPolicyNow(): ReturnType<typeof readOperatorPolicy> {
    return readOperatorPolicy(source);
  };
}
