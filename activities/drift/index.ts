// Drift detection activities: what Gantry last put into an environment (its audit log), and what
// the environment runs now (each deploy driver reads it: the Deployment's image, the overlay's pin).
import type { AuditStore } from '../../src/audit';
import type { LastPromoted, RunningDigest } from '../../src/drift/types';
import type { DeployTarget } from '../../src/pipeline/types';
import { deployDriver } from '../deploy';

/** Events that put a digest into an environment, and which digest. */
function placedDigest(record: { event: string; digest: string; details: unknown }): string | undefined {
  if (record.event === 'deployed' || record.event === 'drift-healed') return record.digest;
  if (record.event === 'rollback') {
    const to = (record.details as { to?: unknown } | null)?.to;
    return typeof to === 'string' ? to : undefined;
  }
  return undefined;
}

export function lastPromotedDigestWith(audit: AuditStore) {
  return async function lastPromotedDigest(request: { app: string; environment: string }): Promise<LastPromoted> {
    const records = await audit.readAll();
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i];
      if (r.app !== request.app || r.environment !== request.environment) continue;
      const digest = placedDigest(r);
      if (digest) return { digest, workflowId: r.workflowId, time: r.time };
    }
    return {};
  };
}

/** Activity: what the environment runs now, as its deploy target's driver reads it. */
export async function readRunningDigest(request: { target: DeployTarget }): Promise<RunningDigest> {
  return deployDriver(request.target).readRunning(request.target);
}
