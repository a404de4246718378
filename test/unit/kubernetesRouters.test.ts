// The Kubernetes canary routers as gantry.yaml writes them.
import { canaryProblems, resolveCanary } from '../../src/config/resolveCanary';

const ctx = { app: 'web', environment: 'staging', baseDir: '/etc/gantry' };
const steps = [{ setWeight: 10 }, { setWeight: 100 }];

test('httpRoute resolves with {app} and {environment} filled in and a kubeconfig relative to the file', () => {
  const plan = resolveCanary(
    {
      router: {
        httpRoute: {
          namespace: '{environment}',
          route: '{app}',
          stableService: '{app}-stable',
          canaryService: '{app}-canary',
          kubeconfig: 'kube/config',
        },
      },
      steps,
    },
    ctx,
  );
  expect(plan?.router).toEqual({
    kind: 'httpRoute',
    namespace: 'staging',
    route: 'web',
    stableService: 'web-stable',
    canaryService: 'web-canary',
    kubeconfig: '/etc/gantry/kube/config',
  });
});

test('replicaRatio resolves; its replicas must be a positive integer and the Deployments must differ', () => {
  const plan = resolveCanary(
    {
      router: {
        replicaRatio: {
          namespace: 'shop',
          stableDeployment: 'a',
          canaryDeployment: 'b',
          replicas: 10,
          context: 'prod',
        },
      },
      steps,
    },
    ctx,
  );
  expect(plan?.router).toEqual({
    kind: 'replicaRatio',
    namespace: 'shop',
    stableDeployment: 'a',
    canaryDeployment: 'b',
    replicas: 10,
    context: 'prod',
  });
  const problems = canaryProblems(
    {
      router: { replicaRatio: { namespace: 'shop', stableDeployment: 'a', canaryDeployment: 'a', replicas: 0 } },
      steps,
    },
    ctx,
  );
  expect(problems.map((p) => `${p.segments.join('.')}: ${p.message}`)).toEqual([
    'router.replicaRatio.canaryDeployment: must differ from stableDeployment ("a")',
    'router.replicaRatio.replicas: must be an integer from 1 to 1000, got 0',
  ]);
});

test('a router names exactly one kind', () => {
  const problems = canaryProblems({ router: { httpRoute: {}, haproxy: {} }, steps }, ctx);
  expect(problems.map((p) => p.message)).toContain('must name exactly one of: haproxy, httpRoute, replicaRatio');
});
