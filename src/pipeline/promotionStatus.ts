// What a promotion reports about itself: returned by the `status` query and as the workflow result.
// Plain JSON so it can travel through queries, history and the CLI's --json output unchanged.

export type Stage = 'verify' | 'approval' | 'deploy' | 'health' | 'gates' | 'soak' | 'done';

export type Outcome = 'running' | 'promoted' | 'failed' | 'rejected' | 'expired' | 'aborted';

export type EnvironmentState = 'pending' | 'awaiting-approval' | 'in-progress' | 'promoted' | 'failed' | 'skipped';

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
}

export interface RefusedMessage {
  kind: string;
  environment?: string;
  by?: string;
  reason: string;
  at: string;
  via: 'signal';
}

export interface EnvironmentStatus {
  name: string;
  state: EnvironmentState;
  commit?: string;
  changed?: boolean;
  previousDigest?: string;
  gates: GateOutcome[];
  approval?: DecisionRecord;
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
  outcome: Outcome;
  stage: Stage;
  environment?: string;
  paused: boolean;
  awaitingApproval?: AwaitingApproval;
  /** One line for people: what the promotion is doing or waiting for right now. */
  waitingFor?: string;
  startedAt: string;
  finishedAt?: string;
  reason?: string;
  environments: EnvironmentStatus[];
  timings: StageTiming[];
  decisions: DecisionRecord[];
  refused: RefusedMessage[];
}

/** The workflow's result; also attached to the failure when a promotion does not succeed. */
export type PromotionResult = PromotionStatus;

export function isFinished(status: Pick<PromotionStatus, 'outcome'>): boolean {
  return status.outcome !== 'running';
}
