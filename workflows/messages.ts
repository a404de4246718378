// The messages a running promotion understands. Updates answer the sender (accepted, or refused
// with a reason before anything enters history); signals carry the same decisions for senders
// that cannot wait for an answer, such as the Temporal UI. Both end in the same handler.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, FreezeOverride, OperatorRequest, RollbackRequest } from '../src/pipeline/decisions';
import type { PromotionStatus } from '../src/pipeline/promotionStatus';

/** Refusals about who decided or what was signed are answered here (and recorded); refusals that
 * depend only on the promotion's state are rejected by the update validator before history. */
export interface MessageAnswer {
  accepted: boolean;
  reason?: string;
  status: PromotionStatus;
}

export const approveUpdate = defineUpdate<MessageAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<MessageAnswer, [ApprovalDecision]>('reject');
export const abortUpdate = defineUpdate<MessageAnswer, [OperatorRequest]>('abort');
export const pauseUpdate = defineUpdate<MessageAnswer, [OperatorRequest]>('pause');
export const resumeUpdate = defineUpdate<MessageAnswer, [OperatorRequest]>('resume');

export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
export const rejectSignal = defineSignal<[ApprovalDecision]>('reject');
export const abortSignal = defineSignal<[OperatorRequest]>('abort');
export const pauseSignal = defineSignal<[OperatorRequest]>('pause');
export const resumeSignal = defineSignal<[OperatorRequest]>('resume');

export const rollbackUpdate = defineUpdate<MessageAnswer, [RollbackRequest]>('rollback');
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
export const overrideFreezeUpdate = defineUpdate<MessageAnswer, [FreezeOverride]>('overrideFreeze');
/** Sent by `gantry unfreeze` to promotions waiting on a manual freeze: look again now. */
export const freezeLiftedSignal = defineSignal<[]>('freezeLifted');

export const statusQuery = defineQuery<PromotionStatus>('status');

/** A target's child workflow (workflows/deployTarget.ts) tells its promotion the deploy landed. */
export interface TargetDeployed {
  environment: string;
  target: string;
  changed: boolean;
  previousDigest?: string;
  commit?: string;
  /** Set once the target's canary completed: its stable side runs the digest too (a rollback puts it back). */
  stableSide?: { commit?: string; previousDigest?: string };
}
export const targetDeployedSignal = defineSignal<[TargetDeployed]>('targetDeployed');

/** A target's canary waits for a person: the promotion shows it paused and accepts `gantry resume`. */
export interface TargetPaused {
  environment: string;
  target: string;
  /** What it waits for, e.g. `canary in production/prod-eu-2 paused at 25% (step 2 of 3) until resumed`. */
  reason: string;
  canaryWeight: number;
}
export const targetPausedSignal = defineSignal<[TargetPaused]>('targetPaused');
/** The promotion was resumed: a paused target's child goes on with its canary. */
export const targetResumeSignal = defineSignal<[]>('targetResume');

/** A freeze holds a target's canary (reason set), or no longer does (reason absent). */
export interface TargetFrozen {
  environment: string;
  target: string;
  reason?: string;
}
export const targetFrozenSignal = defineSignal<[TargetFrozen]>('targetFrozen');
/** `gantry unfreeze` reached the promotion: a target's child held by a freeze looks again at once. */
export const targetFreezeLiftedSignal = defineSignal<[]>('targetFreezeLifted');
/** A freeze override was granted for the environment: a running target's child goes through freezes. */
export const targetFreezeOverriddenSignal = defineSignal<[]>('targetFreezeOverridden');
