// Gate `parity`: the target environment's Deployment (say production) against the reference one
// (staging): the same digest (the one being promoted), the same environment variable names, and
// resources within a ratio of each other. Reads both through the Kubernetes API; the two may live
// in different clusters (each side has its own kubeconfig and context).
import type { V1Deployment } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { apiMessage, apiStatus, appsApi } from '../../src/kubernetes/kubeClient';
import { compareParity, pickContainer } from '../../src/kubernetes/parity';
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import type { DeploymentRef, ParityGate } from '../../src/pipeline/types';

async function read(ref: DeploymentRef): Promise<V1Deployment | string> {
  try {
    return await (await appsApi(ref)).readNamespacedDeployment({ name: ref.deployment, namespace: ref.namespace });
  } catch (err) {
    if (apiStatus(err) === 404) return `deployment ${ref.namespace}/${ref.deployment} not found`;
    // The gate could not run (API unreachable, refused): retried, then the stage fails with this.
    throw ApplicationFailure.retryable(
      `reading deployment ${ref.namespace}/${ref.deployment}: ${apiMessage(err)}`,
      'GateUnavailable',
    );
  }
}

export async function runParityGate(gate: ParityGate, digest: string): Promise<GateOutcome> {
  const [reference, target] = await Promise.all([read(gate.reference), read(gate.target)]);
  const missing = [reference, target].filter((d): d is string => typeof d === 'string');
  if (missing.length > 0) return { name: gate.name, passed: false, detail: missing.join('; ') };
  const side = (ref: DeploymentRef, d: V1Deployment) => {
    const container = pickContainer(d, gate.container);
    return container
      ? { label: `${ref.namespace}/${ref.deployment}`, container }
      : `${ref.namespace}/${ref.deployment} has no container ${gate.container ?? ''}`.trim();
  };
  const r = side(gate.reference, reference as V1Deployment);
  const t = side(gate.target, target as V1Deployment);
  if (typeof r === 'string' || typeof t === 'string')
    return { name: gate.name, passed: false, detail: [r, t].filter((x) => typeof x === 'string').join('; ') };
  const report = compareParity(r, t, digest, { minRatio: gate.minRatio, maxRatio: gate.maxRatio });
  return {
    name: gate.name,
    passed: report.passed,
    detail: (report.passed ? report.checked : report.problems).join('\n'),
  };
}
