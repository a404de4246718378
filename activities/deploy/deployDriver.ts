// What a deploy target is: one driver object per kind, in the registry of activities/deploy/index.ts.
import type { RunningDigest } from '../../src/drift/types';
import type { DeployRequest, DeployResult } from '../types';

export interface DeployDriver<Target> {
  /**
   * Put `request.digest` into the environment; looks before it writes, so a retried or re-run
   * deploy is harmless. Rollback depends on two things: the result's `previousDigest` (what a
   * later rollback puts back) and `request.rollback`, which the driver records where people look
   * (e.g. the commit message).
   */
  deploy(request: DeployRequest & { target: Target }): Promise<DeployResult>;
  /** What the environment runs now, for drift detection; `digest` absent when it pins none. */
  readRunning(target: Target): Promise<RunningDigest>;
}
