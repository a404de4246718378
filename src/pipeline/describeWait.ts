// The one line a promotion shows people about what it is doing or waiting for (status.waitingFor,
// and the workflow's current details in the Temporal UI). Pure: the status query and the tests
// read the same words.
import { approvers } from './approvalPolicy';
import type { PromotionStatus } from './promotionStatus';
import type { EnvironmentPlan } from './types';

/**
 * What the promotion waits for now, or undefined once it has finished. `pauseReason` is why a
 * canary paused it (absent: an operator's pause).
 */
export function describeWait(
  status: PromotionStatus,
  environments: readonly EnvironmentPlan[],
  pauseReason?: string,
): string | undefined {
  const current = status.environments.find((e) => e.name === status.environment);
  // An environment rolled out in waves says which one: `deploy production (wave 2 of 3)`.
  const wave =
    current?.wave !== undefined && current.targets
      ? ` (wave ${current.wave} of ${Math.max(...current.targets.map((t) => t.wave))})`
      : '';
  const where = status.environment ? ` ${status.environment}${wave}` : '';
  if (status.paused) return pauseReason ?? `paused before the next stage (${status.stage}${where})`;
  const a = status.awaitingApproval;
  if (a) {
    const votes = approvers(status.environments.find((e) => e.name === a.environment)?.votes ?? []).length;
    const required = environments.find((e) => e.name === a.environment)?.approval?.required ?? 1;
    return `approval for ${a.environment} (${votes} of ${required}; expires ${a.expiresAt})`;
  }
  const f = status.frozen;
  if (f)
    return `${f.environment} is frozen (${f.window}${f.until ? ` until ${f.until}` : ''}${f.reason ? `: ${f.reason}` : ''})`;
  if (status.outcome === 'running') return `${status.stage}${where}`;
  return undefined;
}

/** The workflow's current details: what it waits for, or how it ended. */
export function currentDetails(status: PromotionStatus): string {
  return status.waitingFor ?? `${status.outcome}${status.reason ? `: ${status.reason}` : ''}`;
}
