// What an activity or child workflow failure says, for people and for the analysis: Temporal wraps
// the failure thrown inside in an ActivityFailure or ChildWorkflowFailure, whose own message only
// names the activity. Pure (workflow code). runCanary, canaryAnalysis and promoteArtifact each
// still carry a copy of this; they are to import it from here.
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
