// Health check `argocd`: wait until an Argo CD Application reports Synced and Healthy at the
// revision that carries the digest (the config repo commit the deploy step produced, or an image
// in its summary that pins the digest), reading the Application through the Kubernetes API.
import { applicationStatus, type ApplicationLike } from '../../src/kubernetes/argoApplication';
import { apiMessage, apiStatus, customObjectsApi } from '../../src/kubernetes/kubeClient';
import type { ArgoCdHealthCheck } from '../../src/pipeline/types';
import { pollUntil } from './pollUntil';

export async function checkArgoCdApplication(
  check: ArgoCdHealthCheck,
  digest: string,
  environment: string,
  commit: string | undefined,
): Promise<string> {
  const api = await customObjectsApi(check);
  const what = `${environment} Argo CD application ${check.namespace}/${check.application}`;
  return pollUntil(what, check.timeoutMs, check.intervalMs, async () => {
    let app: ApplicationLike;
    try {
      app = (await api.getNamespacedCustomObject({
        group: 'argoproj.io',
        version: 'v1alpha1',
        namespace: check.namespace,
        plural: 'applications',
        name: check.application,
      })) as ApplicationLike;
    } catch (err) {
      if (apiStatus(err) === 404)
        return { state: 'failed', reason: `application ${check.namespace}/${check.application} not found` };
      return { state: 'waiting', observation: apiMessage(err) };
    }
    const s = applicationStatus(app, { digest, commit });
    return s.state === 'ready'
      ? { state: 'ready', value: s.message }
      : s.state === 'failed'
        ? { state: 'failed', reason: s.message }
        : { state: 'waiting', observation: s.message };
  });
}
