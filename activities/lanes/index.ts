// The promotion's side of its app's lane (workflows/promotionLane.ts): every event goes by
// signal-with-start, so the first promotion of an app starts the lane and a lane that was
// terminated by hand comes back. Idempotent: the lane ignores an event it has already applied.
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { LANE_EVENT_SIGNAL, laneWorkflowId, type LaneEvent } from '../../src/pipeline/promotionLane';
import { laneRequestUpdate, type promotionLane } from '../../workflows/promotionLane';

/** How long a request waits for the lane's answer before it goes by signal (the grant then comes by signal too). */
const LANE_ANSWER_WAIT_MS = 5_000;

export function requestLaneWith(client: Client, signalLane: ReturnType<typeof signalLaneWith>) {
  /**
   * Asks the lane for an environment and returns its answer. A lane that cannot answer in time (its
   * workers are busy or gone) or has no such update (a build from before it) gets the request by
   * signal: the lane then grants by signal, as it always did, and the promotion waits for that.
   */
  return async function requestLane(request: {
    app: string;
    event: LaneEvent;
  }): Promise<{ granted: boolean; previousDigest?: string }> {
    const answer = client.workflow.executeUpdateWithStart(laneRequestUpdate, {
      args: [request.event],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof promotionLane>('promotionLane', {
        workflowId: laneWorkflowId(request.app),
        taskQueue: Context.current().info.taskQueue,
        args: [request.app],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `order of ${request.app}'s promotions per environment`,
      }),
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), LANE_ANSWER_WAIT_MS)),
    );
    try {
      const answered = await Promise.race([answer, late]);
      if (answered) return answered;
    } catch {
      // Not answered (no such update in the lane's build, or the lane was closing): ask by signal.
    } finally {
      clearTimeout(timer);
    }
    answer.catch(() => undefined);
    // A request the lane already applied is applied again harmlessly: it grants again what is held.
    await signalLane(request);
    return { granted: false };
  };
}

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
