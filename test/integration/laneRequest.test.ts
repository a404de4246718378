// A promotion asks its app's lane for an environment by an update the lane answers at once
// (activities/lanes). When the lane cannot answer (no worker polls its queue, or the workflow under
// the lane's id has no such update), the request goes by signal instead, as before updates: the
// lane then grants by signal. Real dev server; the activity runs in the SDK's activity test
// environment with the stack's real client.
import { MockActivityEnvironment } from '@temporalio/testing';
import { requestLaneWith, signalLaneWith } from '../../activities/lanes';
import { laneWorkflowId, type LaneEvent } from '../../src/pipeline/promotionLane';
import { startStack, type Stack } from '../harness/devServerStack';

jest.setTimeout(60_000);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ taskQueue: 'lane-request', worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

function requestLane(app: string, event: LaneEvent) {
  const client = stack.gantry.client;
  const activity = requestLaneWith(client, signalLaneWith(client));
  return new MockActivityEnvironment({ taskQueue: stack.taskQueue }).run(activity, { app, event });
}

/** The signals the workflow under the lane's id received, with their first argument. */
async function signalsTo(app: string): Promise<Array<{ name: string; arg: unknown }>> {
  const history = await stack.gantry.client.workflow.getHandle(laneWorkflowId(app)).fetchHistory();
  const signals = (history.events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes ?? []);
  return Promise.all(
    signals.map(async (s) => ({ name: s.signalName ?? '', arg: await stack.decode(s.input!.payloads![0]) })),
  );
}

const request = (environment: string): LaneEvent => ({
  type: 'request',
  workflowId: 'promote/web/sha256:feed',
  environment,
});

test('a lane no worker answers: after 5 s the request goes by signal and the promotion waits for the grant', async () => {
  const t0 = Date.now();
  expect(await requestLane('unanswered', request('production'))).toEqual({ granted: false });
  const waited = Date.now() - t0;
  expect(waited).toBeGreaterThanOrEqual(5_000);
  expect(waited).toBeLessThan(15_000);
  // The update started the lane; the request then arrived as a signal, for the lane to read once a worker polls.
  expect(await signalsTo('unanswered')).toEqual([{ name: 'laneEvent', arg: request('production') }]);
});

test('a workflow under the lane id without the update (an older build): the request goes by signal at once', async () => {
  const worker = await stack.startWorker();
  try {
    // Any workflow without a laneRequest handler stands for a lane of an older build.
    await stack.gantry.client.workflow.start('freezeRegistry', {
      workflowId: laneWorkflowId('older'),
      taskQueue: stack.taskQueue,
      args: [[]],
    });
    const t0 = Date.now();
    expect(await requestLane('older', request('staging'))).toEqual({ granted: false });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await signalsTo('older')).toEqual([{ name: 'laneEvent', arg: request('staging') }]);
  } finally {
    await worker.stop();
  }
});
