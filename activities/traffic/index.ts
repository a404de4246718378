// Traffic routers by kind (the key under `canary.router` in gantry.yaml). Adding one is a new file
// here and a case below: `haproxy` (runtime API), and on Kubernetes `httpRoute` (Gateway API
// HTTPRoute backendRef weights) and `replicaRatio` (scales of a stable and a canary Deployment).
import { ApplicationFailure } from '@temporalio/common';
import type { SetCanaryWeightRequest, SetCanaryWeightResult } from '../../src/canary/types';
import { setHaproxyCanaryWeight } from './haproxy';
import { setHttpRouteCanaryWeight } from './httpRoute';
import { setReplicaRatioCanaryWeight } from './replicaRatio';

/** Activity: give the canary `weight` percent of requests (stable gets the rest); idempotent. */
export async function setCanaryWeight(request: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> {
  switch (request.router.kind) {
    case 'haproxy':
      return setHaproxyCanaryWeight({ ...request, router: request.router });
    case 'httpRoute':
      return setHttpRouteCanaryWeight({ ...request, router: request.router });
    case 'replicaRatio':
      return setReplicaRatioCanaryWeight({ ...request, router: request.router });
    default:
      throw ApplicationFailure.nonRetryable(`unknown router kind "${(request.router as { kind: string }).kind}"`, 'RouterConfigError');
  }
}
