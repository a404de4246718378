// Kubernetes API clients for Gantry's activities: one kubeconfig (a file, or the default loading
// rules: KUBECONFIG, ~/.kube/config, in-cluster) and an optional context, as gantry.yaml names them.
import type * as k8s from '@kubernetes/client-node';
import { resolveOnWorker } from '../config/workerPaths';

export interface KubeAccess {
  /** Kubeconfig file; the default loading rules apply when absent. */
  kubeconfig?: string;
  context?: string;
}

/**
 * client-node, loaded on first use: it adds ~65 MB to a worker's memory (node with the Temporal SDK,
 * git, yaml and ajv loaded: 91 MB RSS; with client-node too: 156 MB), and a worker whose pipelines
 * never touch Kubernetes should not pay for it.
 */
export function kubernetesClient(): Promise<typeof k8s> {
  return import('@kubernetes/client-node');
}

async function loadKubeConfig(access: KubeAccess): Promise<k8s.KubeConfig> {
  const { KubeConfig } = await kubernetesClient();
  const kc = new KubeConfig();
  // A relative kubeconfig is relative to this worker ($GANTRY_WORKDIR or its cwd), not to CI's checkout.
  if (access.kubeconfig) kc.loadFromFile(resolveOnWorker(access.kubeconfig));
  else kc.loadFromDefault();
  if (access.context) kc.setCurrentContext(access.context);
  return kc;
}

/** The apps/v1 API (Deployments) for a kubeconfig and context. */
export async function appsApi(access: KubeAccess): Promise<k8s.AppsV1Api> {
  const { AppsV1Api } = await kubernetesClient();
  return (await loadKubeConfig(access)).makeApiClient(AppsV1Api);
}

/** The custom objects API (HTTPRoutes, Argo CD Applications) for a kubeconfig and context. */
export async function customObjectsApi(access: KubeAccess): Promise<k8s.CustomObjectsApi> {
  const { CustomObjectsApi } = await kubernetesClient();
  return (await loadKubeConfig(access)).makeApiClient(CustomObjectsApi);
}

/** Request options that send a PATCH as the given strategy (server-side apply, merge patch). */
export async function patchAs(
  strategy: 'ServerSideApply' | 'MergePatch',
): Promise<ReturnType<typeof k8s.setHeaderOptions>> {
  const { PatchStrategy, setHeaderOptions } = await kubernetesClient();
  return setHeaderOptions('Content-Type', PatchStrategy[strategy]);
}

/** The HTTP status of a failed API call (client-node's ApiException), if it was one. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short reason from a failed API call: the Status message the apiserver sent, when there is one. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not JSON
    }
  }
  return (err as Error)?.message ?? String(err);
}

/** The digest an image reference pins (`repo@sha256:…`), if it pins one. */
export function imageDigest(image: string | undefined): string | undefined {
  return image ? /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1] : undefined;
}
