// Traffic routers by kind (the key under `canary.router` in gantry.yaml). Adding one is three
// things: its file here (its spec type and one TrafficRouter object: trafficRouter.ts), its
// definition under `router` in schema/canary.schema.json, and its line in `trafficRouters` below.
import { ApplicationFailure } from '@temporalio/common';
import { RouterError } from '../../src/canary/errorTypes';
import { registryEntry } from '../registryEntry';
import type { SetCanaryWeightRequest, SetCanaryWeightResult } from '../../src/canary/types';
import { haproxyRouter } from './haproxy';
import { httpRouteRouter } from './httpRoute';
import { replicaRatioRouter } from './replicaRatio';
import type { TrafficRouter } from './trafficRouter';

export const trafficRouters = {
  haproxy: haproxyRouter,
  httpRoute: httpRouteRouter,
  replicaRatio: replicaRatioRouter,
};

/** The spec of any registered router, as a plan carries it (`kind` names its registry entry). */
export type RouterSpec = {
  [K in keyof typeof trafficRouters]: (typeof trafficRouters)[K] extends TrafficRouter<infer Spec, never>
    ? Spec
    : never;
}[keyof typeof trafficRouters];

export function trafficRouter(kind: string): TrafficRouter<RouterSpec, never> | undefined {
  // Each entry only ever gets its own kind's spec and block: the lookup is by that kind.
  return registryEntry(trafficRouters, kind) as TrafficRouter<RouterSpec, never> | undefined;
}

/** Activity: give the canary `weight` percent of requests (stable gets the rest); idempotent. */
export async function setCanaryWeight(request: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> {
  const { router, weight } = request;
  const implementation = trafficRouter(router.kind);
  if (!implementation)
    throw ApplicationFailure.nonRetryable(
      `unknown router kind "${(router as { kind: string }).kind}"`,
      RouterError.ConfigError,
    );
  if (!(Number.isInteger(weight) && weight >= 0 && weight <= 100)) {
    throw ApplicationFailure.nonRetryable(
      `canary weight must be an integer from 0 to 100, got ${weight}`,
      RouterError.ConfigError,
    );
  }
  return { weight, ...(await implementation.setWeight(router, weight)) };
}
