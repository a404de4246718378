// Drift detection: does an environment still run the digest Gantry last put there? A Temporal
// Schedule per environment runs the driftCheck workflow (workflows/driftCheck.ts) with this input.
import type { DeployTarget } from '../pipeline/types';

export interface DriftCheckInput {
  app: string;
  environment: string;
  /** The environment's deploy target: what runs is read from it, and healing deploys through it. */
  target: DeployTarget;
  /** Put the last promoted digest back when something else runs. */
  heal: boolean;
  webhookUrl?: string;
  /** The environment's task queue: reading and healing run on a worker inside it; absent: the main queue. */
  taskQueue?: string;
}

export interface LastPromoted {
  /** The digest the last promotion (or rollback, or heal) put into the environment, from the audit log. */
  digest?: string;
  workflowId?: string;
  time?: string;
}

export interface RunningDigest {
  digest?: string;
  /** What was read, for people: the image or the overlay entry. */
  detail: string;
}

export interface DriftReport {
  app: string;
  environment: string;
  /** in-sync: runs the last promoted digest; drifted: runs something else; healed: drifted and put back; unknown: no promotion recorded. */
  state: 'in-sync' | 'drifted' | 'healed' | 'unknown';
  expected?: string;
  running?: string;
  detail: string;
}
