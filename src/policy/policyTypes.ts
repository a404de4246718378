// What a worker's policy says for one app, and what a starter may send. The policy is read by the
// worker when a promotion starts and recorded in its history; the starter's input never replaces it.
import type { SignedClaim } from '../pipeline/approvalPolicy';
import type { EnvironmentPlan, PromotionInput } from '../pipeline/types';

/** Everything in a promotion's input that is not the starter's to choose, besides the environments. */
export type PolicySettings = Omit<
  PromotionInput,
  'app' | 'digest' | 'commit' | 'requestedBy' | 'environments' | 'rollback'
>;

/** The policy version a promotion runs under: where the worker read it, and the sha256 of its bytes. */
export interface PolicyVersion {
  source: string;
  digest: string;
}

export interface AppPolicy extends PolicyVersion {
  /** The pipeline's other settings for the app (image, registry, ...): the policy's, whatever is sent. */
  settings: PolicySettings;
  /** The app's environments as the policy resolves them: approvals, keys, freezes, gates, targets. */
  environments: EnvironmentPlan[];
  /** Who may start promotions and with which keys; `optional` lets unsigned starts in (as a claim). */
  starts: { signatures: 'required' | 'optional'; keys: Record<string, string[]> };
  /** Who may abort, pause, resume and roll back, and what may be done unsigned. */
  operations: OperatorPolicy;
}

export type OperationKind = 'abort' | 'pause' | 'resume' | 'rollback' | 'freeze' | 'unfreeze';

export interface OperatorPolicy {
  /** Operators and their SSH keys (`operators:` in the policy). */
  keys: Record<string, string[]>;
  /** Actions allowed unsigned, per environment name or "*" for any. */
  unsigned: Partial<Record<OperationKind, string[]>>;
}

export type PolicyRead = { found: true; policy: AppPolicy } | { found: false; reason: string };

/** What a starter sends: the pipeline it believes in, and optionally its start signed with its key. */
export interface StartRequestInput extends PromotionInput {
  signedStart?: SignedClaim;
}

/** Who started a promotion, and how that is known. */
export interface StartedBy {
  name: string;
  /** signature: a key the policy lists for `name` signed this start; claim: the starter's own words. */
  proof: 'signature' | 'claim';
  fingerprint?: string;
  /** What the starter said (--requested-by), kept beside the proven name. */
  claimed: string;
}
