// The requests and answers that cross between the workflow and its activities.
import type { ArtifactTrustPolicy, TrustFindings } from '../src/artifactTrust/types';
import type { DeployTarget, GateSpec, HealthCheck, RegistryRef } from '../src/pipeline/types';

export interface ArtifactRef {
  app: string;
  digest: string;
  image: string;
  registry?: RegistryRef;
  /** Signatures and provenance the image must carry (the app's verify: policy). */
  trust?: ArtifactTrustPolicy;
}

export interface VerifyResult {
  /** What was checked: only the digest's form, or its presence in the registry too. */
  checked: 'format' | 'registry';
  detail: string;
  /** Who signed it and what built it, when the app's policy asks. */
  trust?: TrustFindings;
}

export interface DeployRequest {
  target: DeployTarget;
  app: string;
  digest: string;
  environment: string;
  workflowId: string;
  /** Set when this deploy puts the environment back on an earlier digest. */
  rollback?: { from: string; reason: string };
}

export interface DeployResult {
  /** False when the environment already ran this digest: nothing was written. */
  changed: boolean;
  /** The config repo commit that names the digest (new, or the one found). */
  commit?: string;
  /** The digest the environment named before, for rollbacks. */
  previousDigest?: string;
  detail: string;
}

export interface HealthRequest {
  check: HealthCheck;
  digest: string;
  environment: string;
  /** The config repo commit the deploy produced; given to the checks that look for it (argocd). */
  commit?: string;
}

export interface GateRequest {
  gate: GateSpec;
  app: string;
  digest: string;
  environment: string;
  /** The target of the environment this gate runs for (waves): the policy check allows that target's commands only. */
  target?: string;
  /** The source commit the promotion was started with (the policy check resolves the pipeline with it). */
  commit?: string;
}
