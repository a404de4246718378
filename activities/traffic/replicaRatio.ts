// Router `replicaRatio`: without a traffic-splitting proxy, a Service that selects the pods of two
// Deployments (stable and canary) sends each about its share of the ready pods. The canary's share
// is set by scaling: canary = round(replicas * w / 100), stable = the rest, each at least 1 while its
// share is above 0. Looks before it writes (scales already in place are not set again) and raises
// before it lowers, so the two never drop below the total in between.
import { ApplicationFailure } from '@temporalio/common';
import { RouterError } from '../../src/canary/errorTypes';
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';
import { apiMessage, apiStatus, appsApi, patchAs } from '../../src/kubernetes/kubeClient';
import { canaryPercent, type TrafficRouter } from './trafficRouter';

/** Replica ratio: the canary's share is its Deployment's share of `replicas` (both behind one Service). */
export interface ReplicaRatioRouter {
  kind: 'replicaRatio';
  namespace: string;
  stableDeployment: string;
  canaryDeployment: string;
  /** Stable plus canary replicas. */
  replicas: number;
  kubeconfig?: string;
  context?: string;
}

/** How many replicas each side runs for a canary share of `weight` percent. */
export function replicaSplit(total: number, weight: number): { stable: number; canary: number } {
  if (weight <= 0) return { stable: total, canary: 0 };
  if (weight >= 100) return { stable: 0, canary: total };
  const canary = Math.min(total - 1, Math.max(1, Math.round((total * weight) / 100)));
  return { stable: total - canary, canary };
}

/** `router.replicaRatio` in gantry.yaml (schema/canary.schema.json#/definitions/replicaRatioRouter). */
type ReplicaRatioBlock = Omit<ReplicaRatioRouter, 'kind'>;

export const replicaRatioRouter: TrafficRouter<ReplicaRatioRouter, ReplicaRatioBlock> = {
  readConfig(c: CanaryReader, block: ReplicaRatioBlock, at: PathSegment[], baseDir?: string): ReplicaRatioRouter {
    const { namespace, stableDeployment, canaryDeployment, replicas } = block;
    if (stableDeployment === canaryDeployment)
      c.add([...at, 'canaryDeployment'], `must differ from stableDeployment ("${stableDeployment}")`);
    return {
      kind: 'replicaRatio',
      namespace,
      stableDeployment,
      canaryDeployment,
      replicas,
      ...c.kubeAccess(block, baseDir),
    };
  },
  setWeight: setReplicaScales,
};

async function setReplicaScales(
  router: ReplicaRatioRouter,
  weight: number,
): ReturnType<TrafficRouter<ReplicaRatioRouter, ReplicaRatioBlock>['setWeight']> {
  const apps = await appsApi(router);
  const namespace = router.namespace;
  const readScale = async (name: string) => {
    try {
      return (await apps.readNamespacedDeploymentScale({ name, namespace })).spec?.replicas ?? 0;
    } catch (err) {
      if (apiStatus(err) === 404)
        throw ApplicationFailure.nonRetryable(`deployment ${namespace}/${name} not found`, RouterError.ConfigError);
      throw ApplicationFailure.retryable(
        `reading the scale of deployment ${namespace}/${name}: ${apiMessage(err)}`,
        RouterError.Unreachable,
      );
    }
  };
  const before = { stable: await readScale(router.stableDeployment), canary: await readScale(router.canaryDeployment) };
  const previous = canaryPercent(before.stable, before.canary);
  const target = replicaSplit(router.replicas, weight);
  const detail = `${namespace}: ${router.stableDeployment} ${target.stable}, ${router.canaryDeployment} ${target.canary} replicas`;
  if (before.stable === target.stable && before.canary === target.canary)
    return { previous, changed: false, detail: `${detail} already` };
  const writes = (
    [
      [router.stableDeployment, before.stable, target.stable],
      [router.canaryDeployment, before.canary, target.canary],
    ] as Array<[string, number, number]>
  ).filter(([, from, to]) => from !== to);
  writes.sort(([, fa, ta], [, fb, tb]) => Number(tb > fb) - Number(ta > fa)); // raise first
  for (const [name, , replicas] of writes) {
    try {
      await apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas } } },
        await patchAs('MergePatch'),
      );
    } catch (err) {
      if (apiStatus(err) === 404)
        throw ApplicationFailure.nonRetryable(`deployment ${namespace}/${name} not found`, RouterError.ConfigError);
      throw ApplicationFailure.retryable(
        `scaling deployment ${namespace}/${name} to ${replicas}: ${apiMessage(err)}`,
        RouterError.Unreachable,
      );
    }
  }
  return { previous, changed: true, detail: `${detail}, was ${before.stable} and ${before.canary}` };
}
