// Kubernetes API clients for Gantry's activities: one kubeconfig (a file, or the default loading
// rules: KUBECONFIG, ~/.kube/config, in-cluster) and an optional context, as gantry.yaml names them.
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeAccess {
  /** Kubeconfig file; the default loading rules apply when absent. */
  kubeconfig?: string;
  context?: string;
}

export function loadKubeConfig(access: KubeAccess): KubeConfig {
  const kc = new KubeConfig();
  if (access.kubeconfig) kc.loadFromFile(access.kubeconfig);
  else kc.loadFromDefault();
  if (access.context) kc.setCurrentContext(access.context);
  return kc;
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
