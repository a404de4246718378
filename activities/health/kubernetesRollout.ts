// Health check `kubernetesRollout`: wait until the Deployment runs the digest and its rollout is
// complete, reading the Deployment through the Kubernetes API.
import { apiStatus, appsApi } from '../../src/kubernetes/kubeClient';
import { rolloutStatus } from '../../src/kubernetes/rolloutStatus';
import type { KubernetesRolloutCheck } from '../../src/pipeline/types';
import { pollUntil } from './pollUntil';

export async function checkKubernetesRollout(
  check: KubernetesRolloutCheck,
  digest: string,
  environment: string,
): Promise<string> {
  const apps = await appsApi(check);
  const what = `${environment} deployment ${check.namespace}/${check.deployment}`;
  return pollUntil(what, check.timeoutMs, check.intervalMs, async () => {
    let deployment;
    try {
      deployment = await apps.readNamespacedDeployment({ name: check.deployment, namespace: check.namespace });
    } catch (err) {
      if (apiStatus(err) === 404) {
        return { state: 'failed', reason: `deployment ${check.namespace}/${check.deployment} not found` };
      }
      throw err;
    }
    const rollout = rolloutStatus(deployment, digest);
    return rollout.state === 'ready'
      ? { state: 'ready', value: rollout.message }
      : rollout.state === 'failed'
        ? { state: 'failed', reason: rollout.message }
        : { state: 'waiting', observation: rollout.message };
  });
}
