// The activities a promotion calls. Timeouts and retries differ per call (they depend on the
// pipeline), so each call gives its own; audit writes and freeze look-ups are short and local to
// the worker: one marker event each in history.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type * as activities from '../../activities';
import { activityOptions } from '../activityOptions';

type Activities = ReturnType<typeof activities.createActivities>;

export const acts = proxyActivities<Activities>(activityOptions.perCall);
export const local = proxyLocalActivities<Activities>(activityOptions.local);
