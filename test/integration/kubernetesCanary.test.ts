// Canary routers on a real Kubernetes API: `httpRoute` moves the weights of a Gateway API
// HTTPRoute's backendRefs step by step during a promotion; `replicaRatio` scales a stable and a
// canary Deployment in proportion. (No Gateway controller runs here: the route is what is checked.)
import { join } from 'node:path';
import { setCanaryWeight } from '../../activities/traffic';
import { replicaSplit } from '../../activities/traffic/replicaRatio';
import type { HttpRouteRouter, ReplicaRatioRouter } from '../../src/canary/types';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { startStack, type Stack } from '../harness/devServerStack';
import { useKubernetesCluster } from '../harness/kubernetesCluster';
import { pipelineText, testDigest, writePipeline } from '../harness/pipelineFile';

const IMAGE = 'registry.example.com/acme/web';
const cluster = useKubernetesCluster();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'kubernetes-canary' });
  const k = cluster();
  await k.kubectl(['create', 'namespace', 'shop']);
  const deployment = (name: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web', track: name } },
      template: {
        metadata: { labels: { app: 'web', track: name } },
        spec: { containers: [{ name: 'app', image: `${IMAGE}@${testDigest()}` }] },
      },
    },
  });
  const service = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { selector: { track: name }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      parentRefs: [{ name: 'public' }],
      hostnames: ['shop.example.com'],
      // Only stable so far: the router adds the canary ref next to it.
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'web-stable', port: 80 }] },
      ],
    },
  };
  const items = [
    deployment('web-stable', 4),
    deployment('web-canary', 1),
    service('web-stable'),
    service('web-canary'),
    route,
  ];
  await k.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}, 240_000);
afterAll(async () => {
  await stack?.stop();
});

async function routeWeights(): Promise<string> {
  const route = JSON.parse(await cluster().kubectl(['-n', 'shop', 'get', 'httproute', 'web', '-o', 'json'])) as {
    spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] };
  };
  return route.spec.rules[0].backendRefs.map((r) => `${r.name}=${r.weight ?? 'unset'}`).join(',');
}

test('a promotion with canary steps moves the HTTPRoute weights step by step', async () => {
  const kubeconfig = cluster().kubeconfig;
  const yaml = pipelineText({
    apps: { web: { image: IMAGE } },
    environments: [
      {
        name: 'production',
        deploy: { kubernetes: { namespace: 'shop', deployment: 'web-canary', kubeconfig } },
        health: {
          kubernetesRollout: {
            namespace: 'shop',
            deployment: 'web-canary',
            kubeconfig,
            interval: '200ms',
            timeout: '1m',
          },
        },
        canary: {
          router: {
            httpRoute: {
              namespace: 'shop',
              route: 'web',
              stableService: 'web-stable',
              canaryService: 'web-canary',
              kubeconfig,
            },
          },
          steps: [{ setWeight: 10 }, { pause: '1500ms' }, { setWeight: 50 }, { pause: '1500ms' }, { setWeight: 100 }],
        },
      },
    ],
  });
  const file = join(stack.dir, 'canary.yaml');
  writePipeline(file, yaml);
  const digest = testDigest();
  const input = resolvePromotion(parseConfig(yaml, file, stack.dir), { app: 'web', digest, requestedBy: 'ci' });

  const seen: string[] = [await routeWeights()];
  let done = false;
  const watching = (async () => {
    while (!done) {
      const now = await routeWeights();
      if (now !== seen[seen.length - 1]) seen.push(now);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const started = Date.now();
  await stack.gantry.start(input);
  const result = await stack.gantry.result('web', digest);
  done = true;
  await watching;
  const last = await routeWeights();
  if (last !== seen[seen.length - 1]) seen.push(last);

  expect(result).toMatchObject({ outcome: 'promoted' });
  expect(result.environments[0].canary?.weight).toBe(100);
  expect(seen).toEqual([
    'web-stable=1',
    'web-stable=90,web-canary=10',
    'web-stable=50,web-canary=50',
    'web-stable=0,web-canary=100',
  ]);
  console.log(`httpRoute canary 10% -> 50% -> 100% promoted in ${Date.now() - started} ms`);

  // Setting what is already there writes nothing.
  const router: HttpRouteRouter = input.environments[0].canary!.router as HttpRouteRouter;
  expect(await setCanaryWeight({ router, weight: 100, app: 'web', environment: 'production' })).toMatchObject({
    changed: false,
    previous: 100,
  });
  expect(await setCanaryWeight({ router, weight: 0, app: 'web', environment: 'production' })).toMatchObject({
    changed: true,
    previous: 100,
  });
  expect(await routeWeights()).toBe('web-stable=100,web-canary=0');
  await expect(
    setCanaryWeight({ router: { ...router, route: 'nope' }, weight: 5, app: 'web', environment: 'production' }),
  ).rejects.toThrow('HTTPRoute shop/nope not found');
});

test('a completed httpRoute canary leaves the stable Deployment on the new digest and all traffic on stable', async () => {
  const kubeconfig = cluster().kubeconfig;
  const yaml = pipelineText({
    apps: { web: { image: IMAGE } },
    environments: [
      {
        name: 'production',
        deploy: { kubernetes: { namespace: 'shop', deployment: 'web-canary', kubeconfig } },
        canary: {
          stable: { kubernetes: { namespace: 'shop', deployment: 'web-stable', kubeconfig } },
          router: {
            httpRoute: {
              namespace: 'shop',
              route: 'web',
              stableService: 'web-stable',
              canaryService: 'web-canary',
              kubeconfig,
            },
          },
          steps: [{ setWeight: 25 }, { pause: '500ms' }, { setWeight: 100 }],
        },
      },
    ],
  });
  const file = join(stack.dir, 'canary-stable.yaml');
  writePipeline(file, yaml);
  const digest = testDigest();
  await stack.gantry.start(
    resolvePromotion(parseConfig(yaml, file, stack.dir), { app: 'web', digest, requestedBy: 'ci' }),
  );
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  expect(await routeWeights()).toBe('web-stable=100,web-canary=0');
  const images = JSON.parse(
    await cluster().kubectl(['-n', 'shop', 'get', 'deployment', 'web-stable', 'web-canary', '-o', 'json']),
  ) as { items: { metadata: { name: string }; spec: { template: { spec: { containers: { image: string }[] } } } }[] };
  expect(
    Object.fromEntries(images.items.map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image])),
  ).toEqual({ 'web-stable': `${IMAGE}@${digest}`, 'web-canary': `${IMAGE}@${digest}` });
  expect(result.environments[0].stableSide).toMatchObject({ at: expect.any(String) });
});

test('replicaRatio scales the stable and canary Deployments in proportion', async () => {
  const router: ReplicaRatioRouter = {
    kind: 'replicaRatio',
    namespace: 'shop',
    stableDeployment: 'web-stable',
    canaryDeployment: 'web-canary',
    replicas: 4,
    kubeconfig: cluster().kubeconfig,
  };
  const scales = async () => {
    const out = await cluster().kubectl([
      '-n',
      'shop',
      'get',
      'deployment',
      'web-stable',
      'web-canary',
      '-o',
      'jsonpath={.items[*].spec.replicas}',
    ]);
    return out.trim();
  };
  const set = (weight: number) => setCanaryWeight({ router, weight, app: 'web', environment: 'production' });
  expect(await set(25)).toMatchObject({ changed: true, previous: 20 }); // was 4 and 1
  expect(await scales()).toBe('3 1');
  expect(await set(25)).toMatchObject({ changed: false, previous: 25 });
  expect(await set(50)).toMatchObject({ changed: true });
  expect(await scales()).toBe('2 2');
  expect(await set(100)).toMatchObject({ changed: true });
  expect(await scales()).toBe('0 4');
  expect(await set(0)).toMatchObject({ changed: true, previous: 100 });
  expect(await scales()).toBe('4 0');
  await expect(
    setCanaryWeight({
      router: { ...router, canaryDeployment: 'nope' },
      weight: 5,
      app: 'web',
      environment: 'production',
    }),
  ).rejects.toThrow('deployment shop/nope not found');
  expect([1, 5, 10, 50, 99].map((w) => replicaSplit(4, w))).toEqual([
    { stable: 3, canary: 1 },
    { stable: 3, canary: 1 },
    { stable: 3, canary: 1 },
    { stable: 2, canary: 2 },
    { stable: 1, canary: 3 },
  ]);
});
