// The loopback Kubernetes cluster the Kubernetes tests run against starts, schedules and stops.
import { useKubernetesCluster } from '../harness/kubernetesCluster';

const cluster = useKubernetesCluster();

test('the cluster answers with its KWOK node Ready and the Gateway API and Argo CD CRDs installed', async () => {
  const k = cluster();
  expect(k.kubeconfig).toBe(`${k.dir}/kubeconfig`);
  const node = JSON.parse(await k.kubectl(['get', 'node', 'kwok-node-0', '-o', 'json']));
  expect(node.status.conditions).toEqual(
    expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
  );
  const crds = await k.kubectl(['get', 'crd', '-o', 'name']);
  expect(crds).toContain('httproutes.gateway.networking.k8s.io');
  expect(crds).toContain('applications.argoproj.io');
});
