// The baseline for the orchestration overhead: a bare Temporal workflow that runs N no-op
// activities one after another, with nothing else (no status, no search attributes, no messages).
// Its own workflows file, bundled on its own.
import { proxyActivities } from '@temporalio/workflow';

export interface BareActivities {
  noop(step: number): Promise<number>;
}

const { noop } = proxyActivities<BareActivities>({ startToCloseTimeout: '1m' });

export async function bareWorkflow(steps: number): Promise<number> {
  let done = 0;
  for (let i = 0; i < steps; i++) done += (await noop(i)) >= 0 ? 1 : 0;
  return done;
}
