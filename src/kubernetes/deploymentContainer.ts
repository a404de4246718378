// The container of a Deployment that Gantry sets and reads: the one named in gantry.yaml, or the first.
import type { V1Container, V1Deployment } from '@kubernetes/client-node';

export function deploymentContainer(
  deployment: V1Deployment,
  name: string | undefined,
): { container?: V1Container; containers: V1Container[] } {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  return { container: name ? containers.find((c) => c.name === name) : containers[0], containers };
}
