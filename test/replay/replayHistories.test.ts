// Replays every recorded history in test/histories against today's workflow code. A change that
// would break promotions already running in production fails here (wrap it in patched()).
import { DefaultLogger, Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflowsPath } from '../../src/worker/createWorker';

const DIR = join(__dirname, '..', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

test('the reference scenarios are recorded', () => {
  // The first four were recorded before promotion lanes: they replay through patched('promotion-lanes').
  // The canary ones hold a promotion with a canary and, as `.analysis`, its analysis child workflow;
  // waves-rolled-back a production of three targets whose wave 2 fails, with two target children;
  // lane-answers-by-update a lane answering requests by update, and the promotion it queued.
  expect(files.sort()).toEqual([
    'canary-promoted.analysis.json',
    'canary-promoted.json',
    'canary-rolled-back.analysis.json',
    'canary-rolled-back.json',
    'failed-gate.json',
    'lane-answers-by-update.json',
    'lane-answers-by-update.queued.json',
    'lane.json',
    'paused-and-aborted.json',
    'promoted-with-approval.json',
    'rejected.json',
    'rolled-back-on-failure.json',
    'superseded.json',
    'waves-rolled-back.json',
    'waves-rolled-back.w-1.json',
    'waves-rolled-back.w-3.json',
  ]);
});

test('every recorded history replays without non-determinism', async () => {
  // The recorded id where the history has one: a canary's child workflow ids are built from it.
  const histories = files.map((f) => {
    const history = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as {
      events: Array<{ workflowExecutionStartedEventAttributes?: { workflowId?: string } }>;
    };
    const recordedId = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
    return { workflowId: recordedId ?? f, history: history as unknown };
  });
  const results = Worker.runReplayHistories(
    { workflowsPath: workflowsPath(), replayName: 'gantry-replay', logger: new DefaultLogger('WARN') } as Parameters<
      typeof Worker.runReplayHistories
    >[0],
    histories,
  );
  const failures: string[] = [];
  for await (const r of results) if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  expect(failures).toEqual([]);
});
