// Environments whose activities would wait forever: their task queue (environments[].taskQueue)
// has no worker polling it. `gantry status` says so, since the promotion itself only looks stuck.
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { PromotionStatus } from '../pipeline/promotionStatus';
import type { PromotionInput } from '../pipeline/types';

const FINISHED = new Set(['promoted', 'failed', 'rolled-back']);

export interface UnpolledQueue {
  environment: string;
  taskQueue: string;
}

/** For a running promotion: each environment not yet done whose task queue no worker polls. */
export async function unpolledEnvironmentQueues(client: Client, status: PromotionStatus): Promise<UnpolledQueue[]> {
  if (status.outcome !== 'running') return [];
  const input = await promotionInput(client, status.workflowId);
  const done = new Set(status.environments.filter((e) => FINISHED.has(e.state)).map((e) => e.name));
  const queued = (input?.environments ?? []).filter((e) => e.taskQueue && !done.has(e.name));
  const unpolled: UnpolledQueue[] = [];
  for (const env of queued) {
    const taskQueue = env.taskQueue!;
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if (!pollers?.length) unpolled.push({ environment: env.name, taskQueue });
  }
  return unpolled;
}

/** The pinned pipeline, from the first event of the promotion's history (what the run really uses). */
async function promotionInput(client: Client, workflowId: string): Promise<PromotionInput | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) return undefined;
  return decodeFromPayloadsAtIndex<PromotionInput>(client.options.loadedDataConverter, 0, started.input?.payloads);
}
