// Sends an update until the workflow's own code has judged it. Two rejections never reach that
// code: the server's, for an update it handed to a workflow task that completed without answering
// it (seen under load with two workers on one queue), and the SDK's, for an update that arrived
// before the workflow registered its handler (a build whose code awaits something first). Sending
// such an update again is safe: nothing of it was recorded, not even a signed decision's nonce.
import { WorkflowUpdateFailedError } from '@temporalio/client';

const UNDELIVERED = [
  /^Workflow Update is rejected because it wasn't processed by worker/,
  /^No registered handler for update/,
];
/** About a minute of asking again (100 ms doubling to 2 s) before the rejection is the answer. */
const ATTEMPTS = 35;

/** Runs `send` (one executeUpdate) again while the rejection says the workflow never judged it. */
export async function deliverUpdate<R>(send: () => Promise<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof WorkflowUpdateFailedError && isUndelivered(err)) || attempt >= ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)));
    }
  }
}

export function isUndelivered(err: WorkflowUpdateFailedError): boolean {
  const message = err.cause?.message ?? '';
  return UNDELIVERED.some((m) => m.test(message));
}
