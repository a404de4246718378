// Activities that touch an environment run on that environment's task queue when it has one
// (workers inside it hold its credentials); the workflow itself stays on the main queue.
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * The options, sent to `taskQueue` when one is given. Without one they are returned unchanged, so
 * the commands (and old histories' replay) are exactly what they were before task queues existed.
 */
export function onEnvironmentQueue<T extends ActivityOptions>(options: T, taskQueue: string | undefined): T {
  return taskQueue ? { ...options, taskQueue } : options;
}
