// Follows a promotion live (`start --wait`, `watch`): prints each stage as it starts and ends,
// and the approve command when it waits for a human. Reads the status query; writes nothing.
import type { GantryClient } from '../client/gantryClient';
import type { PromotionStatus } from '../pipeline/promotionStatus';
import { approveCommand, formatTiming } from './formatStatus';

const POLL_MS = 250;

export async function followPromotion(
  gantry: GantryClient,
  workflowId: string,
  print: (line: string) => void,
): Promise<PromotionStatus> {
  const printed = new Map<number, string>();
  let lastWait: string | undefined;
  for (;;) {
    const status = await gantry.statusById(workflowId);
    status.timings.forEach((t, i) => {
      const line = formatTiming(t);
      if (printed.get(i) !== line) {
        // A stage prints when it starts and again when it ends.
        if (t.finishedAt || !printed.has(i)) print(line);
        printed.set(i, line);
      }
    });
    const a = status.awaitingApproval;
    const wait = a
      ? `awaiting approval for ${a.environment} until ${a.expiresAt}; to approve:\n  ${approveCommand(status.app, status.digest, a.environment)}`
      : status.paused
        ? `${status.waitingFor ?? 'paused'}; resume with: gantry resume ${status.app} ${status.digest} --as <you>`
        : status.frozen
          ? status.waitingFor
          : undefined;
    if (wait && wait !== lastWait) print(wait);
    lastWait = wait;
    if (status.outcome !== 'running') return status;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
