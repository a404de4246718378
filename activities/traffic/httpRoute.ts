// Router `httpRoute`: a Gateway API HTTPRoute splits requests between a stable and a canary
// Service by the weights of its backendRefs (canary = w, stable = 100 - w). Every rule of the route
// that sends to the stable Service gets both refs with those weights (a missing canary ref is added
// next to the stable one, on the same port). Looks before it writes: weights already in place are
// not written again. The write is a replace carrying the resourceVersion that was read, so a
// concurrent change to the route is never overwritten (a conflict is read again and retried).
import { ApplicationFailure } from '@temporalio/common';
import { RouterError } from '../../src/canary/errorTypes';
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';
import { apiMessage, apiStatus, customObjectsApi } from '../../src/kubernetes/kubeClient';
import { canaryPercent, type TrafficRouter } from './trafficRouter';

/** Gateway API: the weights of an HTTPRoute's backendRefs to the stable and the canary Service. */
export interface HttpRouteRouter {
  kind: 'httpRoute';
  namespace: string;
  /** The HTTPRoute's name. */
  route: string;
  stableService: string;
  canaryService: string;
  kubeconfig?: string;
  context?: string;
}

const GROUP = 'gateway.networking.k8s.io';
const VERSION = 'v1';
const MAX_CONFLICTS = 5;

interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}
interface HttpRoute {
  metadata: { resourceVersion?: string; [key: string]: unknown };
  spec?: { rules?: Array<{ backendRefs?: BackendRef[]; [key: string]: unknown }> };
  [key: string]: unknown;
}

const isService = (ref: BackendRef, name: string) =>
  ref.name === name && (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '';

/** The canary's share of the first rule that sends to the stable Service, in percent. */
export function httpRouteCanaryPercent(
  route: HttpRoute,
  router: Pick<HttpRouteRouter, 'stableService' | 'canaryService'>,
): number | undefined {
  for (const rule of route.spec?.rules ?? []) {
    const refs = rule.backendRefs ?? [];
    const stable = refs.find((r) => isService(r, router.stableService));
    if (!stable) continue;
    const canary = refs.find((r) => isService(r, router.canaryService));
    return canaryPercent(stable.weight ?? 1, canary ? (canary.weight ?? 1) : 0);
  }
  return undefined;
}

/** `router.httpRoute` in gantry.yaml (schema/canary.schema.json#/definitions/httpRouteRouter). */
type HttpRouteBlock = Omit<HttpRouteRouter, 'kind'>;

export const httpRouteRouter: TrafficRouter<HttpRouteRouter, HttpRouteBlock> = {
  readConfig(c: CanaryReader, block: HttpRouteBlock, at: PathSegment[], baseDir?: string): HttpRouteRouter {
    const { namespace, route, stableService, canaryService } = block;
    if (stableService === canaryService)
      c.add([...at, 'canaryService'], `must differ from stableService ("${stableService}")`);
    return { kind: 'httpRoute', namespace, route, stableService, canaryService, ...c.kubeAccess(block, baseDir) };
  },
  setWeight: setHttpRouteWeights,
};

async function setHttpRouteWeights(
  router: HttpRouteRouter,
  weight: number,
): ReturnType<TrafficRouter<HttpRouteRouter, HttpRouteBlock>['setWeight']> {
  const api = await customObjectsApi(router);
  const where = `HTTPRoute ${router.namespace}/${router.route}`;
  const key = { group: GROUP, version: VERSION, namespace: router.namespace, plural: 'httproutes', name: router.route };
  for (let attempt = 1; ; attempt++) {
    let route: HttpRoute;
    try {
      route = (await api.getNamespacedCustomObject(key)) as HttpRoute;
    } catch (err) {
      if (apiStatus(err) === 404) throw ApplicationFailure.nonRetryable(`${where} not found`, RouterError.ConfigError);
      throw ApplicationFailure.retryable(`reading ${where}: ${apiMessage(err)}`, RouterError.Unreachable);
    }
    const previous = httpRouteCanaryPercent(route, router);
    if (previous === undefined) {
      throw ApplicationFailure.nonRetryable(
        `${where} has no rule with a backendRef to Service ${router.stableService}`,
        RouterError.ConfigError,
      );
    }
    let changed = false;
    for (const rule of route.spec?.rules ?? []) {
      const refs = rule.backendRefs ?? [];
      const stable = refs.find((r) => isService(r, router.stableService));
      if (!stable) continue;
      let canary = refs.find((r) => isService(r, router.canaryService));
      if (!canary) {
        canary = { name: router.canaryService, ...(stable.port !== undefined ? { port: stable.port } : {}), weight: 0 };
        refs.splice(refs.indexOf(stable) + 1, 0, canary);
        rule.backendRefs = refs;
        changed = true;
      }
      if (stable.weight !== 100 - weight || canary.weight !== weight) {
        stable.weight = 100 - weight;
        canary.weight = weight;
        changed = true;
      }
    }
    const detail = `${where} (${router.stableService} ${100 - weight}, ${router.canaryService} ${weight})`;
    if (!changed) return { previous, changed: false, detail: `${detail} already set` };
    try {
      await api.replaceNamespacedCustomObject({ ...key, body: route });
      return { previous, changed: true, detail: `${detail}, was canary ${previous}%` };
    } catch (err) {
      const code = apiStatus(err);
      if (code === 409 && attempt < MAX_CONFLICTS) continue; // changed since read: read again
      if (code === 404)
        throw ApplicationFailure.nonRetryable(
          `${where} was deleted while Gantry set its weights`,
          RouterError.ConfigError,
        );
      if (code === 422 || code === 403)
        throw ApplicationFailure.nonRetryable(
          `setting the weights of ${where} was refused (${code}): ${apiMessage(err)}`,
          RouterError.ConfigError,
        );
      throw ApplicationFailure.retryable(
        `setting the weights of ${where}: ${apiMessage(err)}`,
        RouterError.Unreachable,
      );
    }
  }
}
