// Which worker ran each activity of a promotion, read from its history: the proof that an
// environment's activities ran only on workers polling that environment's task queue.
import type { temporal } from '@temporalio/proto';

export interface ActivityRun {
  activityType: string;
  taskQueue: string;
  /** From the activity's input (`environment` field), when it has one. */
  environment?: string;
  /** The worker that started the recorded attempt, and the one that completed it (if it did). */
  startedBy?: string;
  completedBy?: string;
  attempt?: number;
}

export function activityRuns(history: temporal.api.history.v1.IHistory): ActivityRun[] {
  const runs = new Map<string, ActivityRun>();
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      runs.set(id, {
        activityType: scheduled.activityType?.name ?? '',
        taskQueue: scheduled.taskQueue?.name ?? '',
        environment: inputEnvironment(scheduled.input?.payloads?.[0]),
      });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started)
      Object.assign(runs.get(String(started.scheduledEventId)) ?? {}, {
        startedBy: started.identity ?? undefined,
        attempt: started.attempt ?? undefined,
      });
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed)
      Object.assign(runs.get(String(completed.scheduledEventId)) ?? {}, {
        completedBy: completed.identity ?? undefined,
      });
  }
  return [...runs.values()];
}

function inputEnvironment(payload: temporal.api.common.v1.IPayload | undefined): string | undefined {
  if (!payload?.data) return undefined;
  try {
    const value = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { environment?: unknown };
    return typeof value?.environment === 'string' ? value.environment : undefined;
  } catch {
    return undefined;
  }
}
