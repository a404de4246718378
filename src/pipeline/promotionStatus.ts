import type { TrustFindings } from '../artifactTrust/types';
import type { CanaryEvidence } from '../canary/types';
import type { MigrationGateStatus } from '../migrations/types';
import type { PolicyVersion, StartedBy } from '../policy/policyTypes';

// What a promotion reports about itself: returned by the `status` query and as the workflow result.
// Plain JSON so it can travel through queries, history and the CLI's --json output unchanged.

export type Stage =
  | 'verify'
  | 'approval'
  | 'queued'
  | 'freeze'
  | 'migrations'
  | 'deploy'
  | 'health'
  | 'canary'
  | 'gates'
  | 'soak'
  | 'bake'
  | 'rollback'
  | 'done';

export type Outcome =
  'running' | 'promoted' | 'failed' | 'rejected' | 'expired' | 'aborted' | 'rolled-back' | 'superseded' | 'refused';

export type EnvironmentState = 'pending' | 'awaiting-approval' | 'in-progress' | 'promoted' | 'failed' | 'rolled-back';

export interface StageTiming {
  stage: Stage;
  environment?: string;
  startedAt: string;
  finishedAt?: string;
  result?: 'ok' | 'failed' | 'cancelled';
  detail?: string;
}

export interface GateOutcome {
  name: string;
  passed: boolean;
  detail: string;
}

export interface DecisionRecord {
  kind: 'approve' | 'reject';
  environment: string;
  by: string;
  comment?: string;
  at: string;
  via: 'update' | 'signal';
  /** SHA256 fingerprint of the SSH key that signed it; absent when unsigned. */
  signer?: string;
}

export interface RefusedMessage {
  kind: string;
  environment?: string;
  by?: string;
  reason: string;
  at: string;
  via: 'update' | 'signal';
}

export interface FreezeWait {
  environment: string;
  /** The deny window's name, or "manual" for gantry freeze. */
  window: string;
  /** When the window closes; absent for a manual freeze (it lasts until gantry unfreeze). */
  until?: string;
  reason?: string;
}

export interface EnvironmentStatus {
  name: string;
  state: EnvironmentState;
  commit?: string;
  changed?: boolean;
  /** When this promotion's deploy into the environment finished (any deploy target). */
  deployedAt?: string;
  /** The digest promoted into the environment before this one (the lane's record): what a rollback returns to. */
  previousDigest?: string;
  gates: GateOutcome[];
  /** Every accepted vote, in order. */
  votes: DecisionRecord[];
  /** The decision the votes added up to. */
  approval?: DecisionRecord;
  /** Canary steps and analyses (decision, counts, log-likelihood ratio, thresholds, requests to decision). */
  canary?: CanaryEvidence;
  /** Set when the environment was put back on the digest it ran before. */
  rolledBackTo?: string;
  /** The canary's stable side, once the last step passed: it runs this digest and takes all traffic. */
  stableSide?: { commit?: string; previousDigest?: string; at: string };
  /** What the migrations gate found and decided. */
  migrations?: MigrationGateStatus;
  /** One row per target, in wave order, when the environment is made of targets (waves). */
  targets?: TargetStatus[];
  /** The wave being deployed or baked (1-based), while the environment's rollout runs. */
  wave?: number;
}

export type TargetState =
  'pending' | 'frozen' | 'in-progress' | 'deployed' | 'paused' | 'promoted' | 'failed' | 'rolled-back';

/** One target of an environment rolled out in waves. */
export interface TargetStatus {
  name: string;
  /** 1-based. */
  wave: number;
  state: TargetState;
  /** The digest the target runs now, as far as this promotion knows (absent: not touched). */
  digest?: string;
  /** What the target ran before this promotion's deploy: where a rollback takes it. */
  previousDigest?: string;
  changed?: boolean;
  commit?: string;
  /** The canary's traffic weight on the target when its canary last moved. */
  canaryWeight?: number;
  /** The canary's stable side, once the target's last canary step passed: it runs this digest and takes all traffic. */
  stableSide?: { commit?: string; previousDigest?: string };
  /** Why it failed, why it was rolled back, or what its paused canary waits for. */
  reason?: string;
}

export interface AwaitingApproval {
  environment: string;
  since: string;
  expiresAt: string;
}

export interface PromotionStatus {
  workflowId: string;
  app: string;
  digest: string;
  requestedBy: string;
  /** Who started it and how that is known (signed start, or the starter's claim); absent on promotions from before policies. */
  startedBy?: StartedBy;
  /** The worker's policy version the promotion runs under (recorded when it started). */
  policy?: PolicyVersion;
  outcome: Outcome;
  stage: Stage;
  environment?: string;
  paused: boolean;
  awaitingApproval?: AwaitingApproval;
  /** Set while the promotion waits for a freeze to end. */
  frozen?: FreezeWait;
  /** Environments a signed override lets this promotion into despite a manual freeze. */
  freezeOverrides: string[];
  /** One line for people: what the promotion is doing or waiting for right now. */
  waitingFor?: string;
  startedAt: string;
  finishedAt?: string;
  reason?: string;
  environments: EnvironmentStatus[];
  timings: StageTiming[];
  decisions: DecisionRecord[];
  refused: RefusedMessage[];
  /** Who signed the image and what built it, when the app's verify: policy asked (stage verify). */
  trust?: TrustFindings;
}

/** The workflow's result; also attached to the failure when a promotion does not succeed. */
export type PromotionResult = PromotionStatus;
