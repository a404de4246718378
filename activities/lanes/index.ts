// The promotion's side of its app's lane (workflows/promotionLane.ts): every event goes by
// signal-with-start, so the first promotion of an app starts the lane and a lane that was
// terminated by hand comes back. Idempotent: the lane ignores an event it has already applied.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { LANE_EVENT_SIGNAL, laneWorkflowId, type LaneEvent } from '../../src/pipeline/promotionLane';

export function signalLaneWith(client: Client) {
  return async function signalLane(request: { app: string; event: LaneEvent }): Promise<void> {
    await client.workflow.signalWithStart('promotionLane', {
      workflowId: laneWorkflowId(request.app),
      // The lane runs where the promotions of this worker run.
      taskQueue: Context.current().info.taskQueue,
      args: [request.app],
      signal: LANE_EVENT_SIGNAL,
      signalArgs: [request.event],
      staticSummary: `order of ${request.app}'s promotions per environment`,
    });
  };
}

export function closedWorkflowsWith(client: Client) {
  /** Which of these runs are no longer running (or no longer exist). */
  return async function closedWorkflows(runs: Array<{ workflowId: string; runId: string }>): Promise<string[]> {
    const closed: string[] = [];
    for (const run of runs) {
      try {
        const d = await client.workflow.getHandle(run.workflowId, run.runId).describe();
        if (d.status.name !== 'RUNNING') closed.push(run.workflowId);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) closed.push(run.workflowId);
        else throw err;
      }
    }
    return closed;
  };
}
