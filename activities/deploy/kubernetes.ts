// Deploy target `kubernetes`: set one container of a Deployment to `<image>@<digest>` with
// server-side apply (field manager `gantry`, forced: Gantry owns the image field of that container
// and takes it over from whoever set it before, e.g. kubectl apply). Looks before it writes: a
// Deployment already at the reference is not touched, so a retried or re-run deploy is harmless.
import type { V1Deployment } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { RunningDigest } from '../../src/drift/types';
import { deploymentContainer } from '../../src/kubernetes/deploymentContainer';
import { apiMessage, apiStatus, appsApi, imageDigest, patchAs } from '../../src/kubernetes/kubeClient';
import { shortDigest } from '../../src/pipeline/digest';
import type { KubernetesDeployTarget } from '../../src/pipeline/types';
import type { DeployRequest, DeployResult } from '../types';
import type { DeployDriver } from './deployDriver';

export const FIELD_MANAGER = 'gantry';

export const kubernetesDriver: DeployDriver<KubernetesDeployTarget> = {
  deploy: deployToKubernetes,
  readRunning: readRunningImage,
};

async function deployToKubernetes(request: DeployRequest & { target: KubernetesDeployTarget }): Promise<DeployResult> {
  const { target, digest } = request;
  const apps = await appsApi(target);
  const where = `deployment ${target.namespace}/${target.deployment}`;
  let current: V1Deployment;
  try {
    current = await apps.readNamespacedDeployment({ name: target.deployment, namespace: target.namespace });
  } catch (err) {
    const code = apiStatus(err);
    if (code === 404)
      throw ApplicationFailure.nonRetryable(
        `${where} not found (Gantry sets the image of an existing Deployment; it does not create one)`,
        'DeployTargetNotFound',
      );
    if (code === 401 || code === 403)
      throw ApplicationFailure.nonRetryable(
        `reading ${where} was refused (${code}): ${apiMessage(err)}`,
        'DeployForbidden',
      );
    throw new Error(`reading ${where}: ${apiMessage(err)}`);
  }
  const { container, containers } = deploymentContainer(current, target.container);
  if (!container) {
    throw ApplicationFailure.nonRetryable(
      `${where} has no container ${target.container ? `"${target.container}" (it has: ${containers.map((c) => c.name).join(', ') || 'none'})` : 'at all'}`,
      'DeployConfigError',
    );
  }
  const image = `${target.image}@${digest}`;
  const previousDigest = imageDigest(container.image);
  if (container.image === image) {
    return {
      changed: false,
      previousDigest,
      detail: `${where} container ${container.name} already at ${shortDigest(digest)}`,
    };
  }
  const apply = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: target.deployment, namespace: target.namespace },
    spec: { template: { spec: { containers: [{ name: container.name, image }] } } },
  };
  let applied: V1Deployment;
  try {
    applied = await apps.patchNamespacedDeployment(
      { name: target.deployment, namespace: target.namespace, body: apply, fieldManager: FIELD_MANAGER, force: true },
      await patchAs('ServerSideApply'),
    );
  } catch (err) {
    const code = apiStatus(err);
    if (code === 404)
      throw ApplicationFailure.nonRetryable(`${where} was deleted while Gantry set its image`, 'DeployTargetNotFound');
    if (code === 401 || code === 403 || code === 422)
      throw ApplicationFailure.nonRetryable(
        `setting the image of ${where} was refused (${code}): ${apiMessage(err)}`,
        'DeployRefused',
      );
    throw new Error(`setting the image of ${where}: ${apiMessage(err)}`);
  }
  return {
    changed: true,
    previousDigest,
    detail: `${where} container ${container.name} set to ${image}${previousDigest ? ` (was ${shortDigest(previousDigest)})` : container.image ? ` (was ${container.image})` : ''}, generation ${applied.metadata?.generation ?? '?'}`,
  };
}

/** The digest the Deployment's container runs (none when its image is a tag, or it is not there). */
async function readRunningImage(target: KubernetesDeployTarget): Promise<RunningDigest> {
  const where = `deployment ${target.namespace}/${target.deployment}`;
  try {
    const deployment = await (
      await appsApi(target)
    ).readNamespacedDeployment({ name: target.deployment, namespace: target.namespace });
    const { container } = deploymentContainer(deployment, target.container);
    if (!container) return { detail: `${where} has no container ${target.container ?? ''}`.trim() };
    return {
      digest: imageDigest(container.image),
      detail: `${where} container ${container.name} runs ${container.image}`,
    };
  } catch (err) {
    if (apiStatus(err) === 404) return { detail: `${where} not found` };
    throw ApplicationFailure.retryable(`reading ${where}: ${apiMessage(err)}`, 'DriftReadFailed');
  }
}
