// One long-running workflow per app, `gantry/lane/<app>`: the order of the app's promotions per
// environment (src/pipeline/promotionLane.ts decides; this file keeps the state durable and
// delivers the answers). Promotions reach it by signal-with-start from a local activity, and it
// answers each one with a signal to that promotion's run: granted, or superseded.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import {
  applyLaneEvent,
  emptyLane,
  LANE_EVENT_SIGNAL,
  type LaneEffect,
  type LaneEvent,
  type LaneState,
} from '../src/pipeline/promotionLane';
import { activityOptions } from './activityOptions';
import { followCurrentBuild } from './followCurrentBuild';

type Activities = ReturnType<typeof activities.createActivities>;
const acts = proxyActivities<Activities>(activityOptions.laneLiveness);

export const laneEventSignal = defineSignal<[LaneEvent]>(LANE_EVENT_SIGNAL);
export const laneQuery = defineQuery<LaneState>('lane');
/**
 * A promotion's request for an environment, answered at once: granted (with the digest promoted
 * there before), or not yet (the grant then comes later by laneGranted). It saves the promotion the
 * wait for a signal and its own workflow task when the environment is free.
 */
export const laneRequestUpdate = defineUpdate<{ granted: boolean; previousDigest?: string }, [LaneEvent]>(
  'laneRequest',
);
/** To a promotion: it may deploy into the environment now. */
export const laneGrantedSignal = defineSignal<[{ environment: string; previousDigest?: string }]>('laneGranted');
/** To a promotion: a newer digest took its place; it ends before its next deploy. */
export const supersededSignal =
  defineSignal<[{ by: { workflowId: string; digest: string }; reason: string }]>('superseded');

// A promotion that was terminated from outside never says it finished; the lane looks for such
// members this often while it has any, and lets go of what they held.
const LIVENESS_CHECK_MS = 60 * 60 * 1000;
// Keeps the lane's history short; its whole state goes to the next run.
const EVENTS_PER_RUN = 2000;

// A lane outlives every build of Gantry: it moves to the current build at its next task (the
// next promotion's event).
followCurrentBuild(promotionLane);

export async function promotionLane(app: string, carried?: LaneState): Promise<void> {
  const lane = carried ?? emptyLane(app);
  const outbox: LaneEffect[] = [];
  let events = 0;
  setHandler(laneEventSignal, (event) => {
    outbox.push(...applyLaneEvent(lane, event));
    events++;
  });
  setHandler(laneRequestUpdate, (event) => {
    events++;
    const effects = applyLaneEvent(lane, event);
    const mine =
      event.type === 'request'
        ? effects.find(
            (e) => e.type === 'grant' && e.workflowId === event.workflowId && e.environment === event.environment,
          )
        : undefined;
    outbox.push(...effects.filter((e) => e !== mine));
    return mine?.type === 'grant' ? { granted: true, previousDigest: mine.previousDigest } : { granted: false };
  });
  setHandler(laneQuery, () => lane);

  for (;;) {
    const woke = await condition(
      () => outbox.length > 0 || events >= EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested,
      lane.members.length > 0 ? LIVENESS_CHECK_MS : undefined,
    );
    if (woke === false) await forgetClosedMembers(); // the timer ran out (no timeout: condition resolves undefined)
    while (outbox.length > 0) await Promise.all(outbox.splice(0).map(deliver));
    if (events >= EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (outbox.length === 0) await continueAsNew<typeof promotionLane>(app, lane);
    }
  }

  async function deliver(effect: LaneEffect): Promise<void> {
    const promotion = getExternalWorkflowHandle(effect.workflowId, effect.runId);
    try {
      if (effect.type === 'grant')
        await promotion.signal(laneGrantedSignal, {
          environment: effect.environment,
          previousDigest: effect.previousDigest,
        });
      else await promotion.signal(supersededSignal, { by: effect.by, reason: effect.reason });
    } catch {
      // That run has closed: it holds nothing any more.
      outbox.push(...applyLaneEvent(lane, { type: 'finish', workflowId: effect.workflowId }));
    }
  }

  async function forgetClosedMembers(): Promise<void> {
    const closed = await acts.closedWorkflows(lane.members.map((m) => ({ workflowId: m.workflowId, runId: m.runId })));
    for (const workflowId of closed) outbox.push(...applyLaneEvent(lane, { type: 'finish', workflowId }));
  }
}
