// Drift detection activities: what Gantry last put into an environment (its audit log), and what
// the environment runs now (each deploy driver reads it: the Deployment's image, the overlay's pin).
import type { AuditStore } from '../../src/audit';
import type { LastPromoted, RunningDigest } from '../../src/drift/types';
import type { DeployTarget } from '../../src/pipeline/types';
import { deployDriver } from '../deploy';

interface PlacingRecord {
  event: string;
  digest: string;
  environment?: string;
  details: unknown;
}

/**
 * The digest a record put into `place` (an environment, or `environment/target`), if it put one.
 * A promotion audits a target's deploy and rollback under its environment, naming the target in
 * the details; a failed target's deploy placed the digest only when it changed the target.
 */
function placedDigest(record: PlacingRecord, place: string): string | undefined {
  const details = (record.details ?? {}) as { target?: unknown; to?: unknown; outcome?: unknown; changed?: unknown };
  const target = typeof details.target === 'string' ? details.target : undefined;
  const at = target ? `${record.environment}/${target}` : record.environment;
  if (at !== place) return undefined;
  if (record.event === 'drift-healed') return record.digest;
  if (record.event === 'deployed')
    return !target || details.outcome !== 'failed' || details.changed === true ? record.digest : undefined;
  if (record.event === 'rollback') return typeof details.to === 'string' ? details.to : undefined;
  return undefined;
}

export function lastPromotedDigestWith(audit: AuditStore) {
  return async function lastPromotedDigest(request: { app: string; environment: string }): Promise<LastPromoted> {
    const records = await audit.readAll();
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i];
      if (r.app !== request.app) continue;
      const digest = placedDigest(r, request.environment);
      if (digest) return { digest, workflowId: r.workflowId, time: r.time };
    }
    return {};
  };
}

/** Activity: what the environment runs now, as its deploy target's driver reads it. */
export async function readRunningDigest(request: { target: DeployTarget }): Promise<RunningDigest> {
  return deployDriver(request.target).readRunning(request.target);
}
