// How a promotion ends early: a PromotionEnded thrown anywhere in the pipeline carries its outcome
// out of the main scope; anything else thrown is a failure, described by failureMessage.
import { ActivityFailure } from '@temporalio/workflow';
import type { Outcome } from '../../src/pipeline/promotionStatus';

export type EndedOutcome = Exclude<Outcome, 'running' | 'promoted'>;

/** Ends the promotion with an outcome other than success; carried out of the main scope. */
export class PromotionEnded extends Error {
  constructor(
    readonly outcome: EndedOutcome,
    message: string,
  ) {
    super(message);
  }
}

/** What went wrong, in the words of the activity that failed rather than Temporal's wrapper. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
