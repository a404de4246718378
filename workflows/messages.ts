// The messages a running promotion understands. Updates answer the sender (accepted, or refused
// with a reason before anything enters history); signals carry the same decisions for senders
// that cannot wait for an answer, such as the Temporal UI. Both end in the same handler.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, OperatorRequest } from '../src/pipeline/decisions';
import type { PromotionStatus } from '../src/pipeline/promotionStatus';

export interface MessageAnswer {
  accepted: true;
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

export const statusQuery = defineQuery<PromotionStatus>('status');
