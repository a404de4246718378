// Traffic routers by kind (the key under `canary.router` in gantry.yaml). Adding one is a new file
// here and a case below. Kubernetes routers (Gateway API HTTPRoute backend weights, replica ratio)
// are a later issue: they go here as `gatewayApi.ts` / `replicaRatio.ts`.
import { ApplicationFailure } from '@temporalio/common';
import type { SetCanaryWeightRequest, SetCanaryWeightResult } from '../../src/canary/types';
import { setHaproxyCanaryWeight } from './haproxy';

/** Activity: give the canary `weight` percent of requests (stable gets the rest); idempotent. */
export async function setCanaryWeight(request: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> {
  switch (request.router.kind) {
    case 'haproxy':
      return setHaproxyCanaryWeight({ ...request, router: request.router });
    default:
      throw ApplicationFailure.nonRetryable(`unknown router kind "${(request.router as { kind: string }).kind}"`, 'RouterConfigError');
  }
}
