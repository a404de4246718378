// Deploy targets by kind (the key under `deploy:` in gantry.yaml), one DeployDriver each
// (deployDriver.ts). Adding one: its driver file here and its line in `deployDrivers` below; its
// block in schema/gantry.schema.json and configTypes.ts, its case in src/config/resolvePromotion.ts
// (resolveDeploy), and its type in the DeployTarget union of src/pipeline/types.ts.
import type { DeployTarget } from '../../src/pipeline/types';
import type { DeployRequest, DeployResult } from '../types';
import type { DeployDriver } from './deployDriver';
import { gitopsDriver } from './gitops';
import { kubernetesDriver } from './kubernetes';

/** Typed by DeployTarget, so a target kind without a driver does not compile. */
export const deployDrivers: { [K in DeployTarget['kind']]: DeployDriver<Extract<DeployTarget, { kind: K }>> } = {
  gitops: gitopsDriver,
  kubernetes: kubernetesDriver,
};

export function deployDriver<T extends DeployTarget>(target: T): DeployDriver<T> {
  // Each driver only ever gets its own kind's target: the lookup is by that kind.
  return deployDrivers[target.kind] as DeployDriver<DeployTarget> as DeployDriver<T>;
}

/** Activity: put the digest into the environment through its target's driver. */
export async function deploy(request: DeployRequest): Promise<DeployResult> {
  return deployDriver(request.target).deploy(request);
}
