// What an activity or child workflow failure says, for people and for the analysis: Temporal wraps
// the failure thrown inside in an ActivityFailure or ChildWorkflowFailure, whose own message only
// names the activity. Pure (workflow code): runCanary and canaryAnalysis use it. The promotion's
// own failureMessage (workflows/promotion/promotionEnded.ts) unwraps activity failures only, so a
// canary's child-workflow failure keeps the words it has in recorded outcomes.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import type { ReadFailure } from './analysisState';

/** The message of the failure inside an activity or child workflow failure, else the error's own. */
export function failureMessage(err: unknown): string {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** A failed metrics read as the analysis folds it in: the ApplicationFailure's type, when it has one. */
export function readFailure(err: unknown): ReadFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { message: cause instanceof Error ? cause.message : String(cause) };
}
