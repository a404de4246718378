// Promotions into a real Kubernetes API (loopback control plane with KWOK nodes, see
// docs/kubernetes-cluster.md): the `kubernetes` deploy target sets each Deployment's image by
// server-side apply, and the `kubernetesRollout` health check waits until the rollout completes.
import { join } from 'node:path';
import { deploy } from '../../activities/deploy';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import type { KubernetesDeployTarget } from '../../src/pipeline/types';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { useKubernetesCluster } from '../harness/kubernetesCluster';
import { pipelineText, testDigest, writePipeline } from '../harness/pipelineFile';

const IMAGE = 'registry.example.com/acme/web';
const cluster = useKubernetesCluster();
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'kubernetes' });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

interface Env {
  name: string;
  namespace: string;
  deployment?: string;
  gates?: Record<string, unknown>[];
}

/** gantry.yaml with one environment per entry: kubernetes deploy, kubernetesRollout health. */
function pipeline(envs: Env[], healthTimeout = '1m'): string {
  const kubeconfig = cluster().kubeconfig;
  return pipelineText({
    apps: { web: { image: IMAGE } },
    environments: envs.map((e) => ({
      name: e.name,
      deploy: { kubernetes: { namespace: e.namespace, deployment: e.deployment ?? '{app}', kubeconfig } },
      health: {
        kubernetesRollout: {
          namespace: e.namespace,
          deployment: e.deployment ?? '{app}',
          kubeconfig,
          interval: '200ms',
          timeout: healthTimeout,
        },
      },
      ...(e.gates ? { gates: e.gates } : {}),
    })),
  });
}

async function promote(yaml: string, digest = testDigest()) {
  const file = join(stack.dir, `gantry-${digest.slice(7, 19)}.yaml`);
  writePipeline(file, yaml);
  const input = resolvePromotion(parseConfig(yaml, file, stack.dir), { app: 'web', digest, requestedBy: 'ci' });
  await stack.gantry.start(input);
  return { digest, input, result: await stack.gantry.result('web', digest) };
}

/** A Deployment as a platform team would apply it (its own field manager), on the given digest. */
async function createDeployment(
  namespace: string,
  digest: string,
  extra: { progressDeadlineSeconds?: number; nodeSelector?: Record<string, string> } = {},
) {
  const k = cluster();
  await k.kubectl(['create', 'namespace', namespace]).catch((err: Error) => {
    if (!/AlreadyExists/.test(err.message)) throw err;
  });
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      replicas: 2,
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
          containers: [
            { name: 'app', image: `${IMAGE}@${digest}`, ports: [{ containerPort: 8080 }] },
            { name: 'sidecar', image: 'registry.example.com/acme/proxy:1.0' },
          ],
        },
      },
    },
  };
  await k.kubectl(['apply', '--server-side', '--field-manager=platform', '-f', '-'], JSON.stringify(manifest));
}

async function getDeployment(namespace: string) {
  return JSON.parse(
    await cluster().kubectl(['-n', namespace, 'get', 'deployment', 'web', '--show-managed-fields', '-o', 'json']),
  ) as {
    metadata: {
      generation: number;
      resourceVersion: string;
      managedFields: { manager: string; operation: string; fieldsV1?: unknown }[];
    };
    spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    status: {
      conditions?: { type: string; status: string; reason?: string; message?: string }[];
      availableReplicas?: number;
      updatedReplicas?: number;
    };
  };
}

test('a promotion through dev, staging and production sets each Deployment to the digest and waits until it is Available', async () => {
  const old = testDigest();
  for (const ns of ['dev', 'staging', 'production']) await createDeployment(ns, old);
  const started = Date.now();
  const { digest, result } = await promote(
    pipeline([
      { name: 'dev', namespace: 'dev' },
      { name: 'staging', namespace: 'staging' },
      { name: 'production', namespace: 'production' },
    ]),
  );
  expect(result).toMatchObject({ outcome: 'promoted', stage: 'done' });
  expect(result.environments.map((e) => [e.name, e.state, e.changed, e.previousDigest])).toEqual([
    ['dev', 'promoted', true, old],
    ['staging', 'promoted', true, old],
    ['production', 'promoted', true, old],
  ]);
  for (const ns of ['dev', 'staging', 'production']) {
    const d = await getDeployment(ns);
    expect(d.spec.template.spec.containers.map((c) => c.image)).toEqual([
      `${IMAGE}@${digest}`,
      'registry.example.com/acme/proxy:1.0',
    ]);
    expect(d.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'True' })]),
    );
    expect(d.status).toMatchObject({ availableReplicas: 2, updatedReplicas: 2 });
    // Gantry owns the image it set (server-side apply); the platform keeps the rest.
    expect(d.metadata.managedFields.map((f) => `${f.manager}/${f.operation}`)).toEqual(
      expect.arrayContaining(['gantry/Apply', 'platform/Apply']),
    );
  }
  console.log(`three Kubernetes environments promoted in ${Date.now() - started} ms`);
});

test('deploying a digest a Deployment already runs writes nothing; a named container is the one set', async () => {
  const current = testDigest();
  await createDeployment('again', current);
  const target = (container?: string): KubernetesDeployTarget => ({
    kind: 'kubernetes',
    namespace: 'again',
    deployment: 'web',
    container,
    image: IMAGE,
    kubeconfig: cluster().kubeconfig,
  });
  const request = { app: 'web', environment: 'again', workflowId: 'test' };
  const before = (await getDeployment('again')).metadata;
  expect(await deploy({ ...request, target: target(), digest: current })).toMatchObject({
    changed: false,
    previousDigest: current,
  });
  const after = (await getDeployment('again')).metadata;
  expect([after.generation, after.managedFields.map((f) => f.manager)]).toEqual([
    before.generation,
    ['platform', 'kube-controller-manager'],
  ]);

  const next = testDigest();
  expect(await deploy({ ...request, target: target('sidecar'), digest: next })).toMatchObject({
    changed: true,
    previousDigest: undefined,
  });
  expect((await getDeployment('again')).spec.template.spec.containers.map((c) => c.image)).toEqual([
    `${IMAGE}@${current}`,
    `${IMAGE}@${next}`,
  ]);
  await expect(deploy({ ...request, target: target('nginx'), digest: next })).rejects.toThrow(
    'deployment again/web has no container "nginx" (it has: app, sidecar)',
  );
});

test("a rollout that never becomes available fails the health stage with the Deployment's own condition message", async () => {
  // No node has this label: the new pods stay Pending and the progress deadline passes.
  await createDeployment('stuck', testDigest(), {
    progressDeadlineSeconds: 2,
    nodeSelector: { 'gantry.test/nowhere': 'true' },
  });
  const { digest, result } = await promote(pipeline([{ name: 'dev', namespace: 'stuck' }]));
  expect(result).toMatchObject({ outcome: 'failed', stage: 'health', environment: 'dev' });
  expect(result.reason).toMatch(
    /^health dev failed: dev deployment stuck\/web: web exceeded its progress deadline: ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/,
  );
  expect(result.environments[0].state).toBe('failed');
  expect((await getDeployment('stuck')).spec.template.spec.containers[0].image).toBe(`${IMAGE}@${digest}`);
});

test('a deleted Deployment fails the deploy stage with a clear error and nothing after it runs', async () => {
  await createDeployment('gone', testDigest());
  await cluster().kubectl(['-n', 'gone', 'delete', 'deployment', 'web', '--wait=true']);
  const { result } = await promote(
    pipeline([
      { name: 'dev', namespace: 'gone' },
      { name: 'staging', namespace: 'staging' },
    ]),
  );
  expect(result).toMatchObject({ outcome: 'failed', stage: 'deploy', environment: 'dev' });
  expect(result.reason).toBe(
    'deploy dev failed: deployment gone/web not found (Gantry sets the image of an existing Deployment; it does not create one)',
  );
  expect(result.environments.map((e) => e.state)).toEqual(['failed', 'pending']);
});

test('the parity gate compares production with staging: digest, env var names, resource ratios', async () => {
  const old = testDigest();
  await createDeployment('parity-staging', old);
  await createDeployment('parity-production', old);
  const k = cluster();
  // Staging has a variable production lacks; production asks for 8 times staging's cpu.
  await k.kubectl([
    '-n',
    'parity-staging',
    'set',
    'env',
    'deployment/web',
    '-c',
    'app',
    'FEATURE_FLAGS=on',
    'LOG_LEVEL=debug',
  ]);
  await k.kubectl(['-n', 'parity-production', 'set', 'env', 'deployment/web', '-c', 'app', 'LOG_LEVEL=info']);
  await k.kubectl([
    '-n',
    'parity-staging',
    'set',
    'resources',
    'deployment/web',
    '-c',
    'app',
    '--requests=cpu=250m,memory=256Mi',
  ]);
  await k.kubectl([
    '-n',
    'parity-production',
    'set',
    'resources',
    'deployment/web',
    '-c',
    'app',
    '--requests=cpu=2,memory=512Mi',
  ]);
  const gate = {
    parity: {
      reference: { namespace: 'parity-staging', deployment: 'web' },
      target: { namespace: 'parity-production', deployment: 'web' },
      container: 'app',
      kubeconfig: k.kubeconfig,
    },
  };
  const yaml = pipeline([
    { name: 'staging', namespace: 'parity-staging' },
    { name: 'production', namespace: 'parity-production', gates: [gate] },
  ]);
  const { result } = await promote(yaml);
  expect(result).toMatchObject({ outcome: 'failed', stage: 'gates', environment: 'production' });
  const detail = [
    'env: missing in parity-production/web: FEATURE_FLAGS',
    'requests.cpu: parity-production/web 2 / parity-staging/web 250m = 8.00, outside 0.5..4',
  ].join('\n');
  expect(result.environments[1].gates).toEqual([{ name: 'parity', passed: false, detail }]);
  expect(result.reason).toBe(`gate parity failed in production: ${detail}`);

  // Fixed: the same promotion goes through, and the gate says what it compared.
  await k.kubectl(['-n', 'parity-production', 'set', 'env', 'deployment/web', '-c', 'app', 'FEATURE_FLAGS=off']);
  await k.kubectl([
    '-n',
    'parity-production',
    'set',
    'resources',
    'deployment/web',
    '-c',
    'app',
    '--requests=cpu=500m,memory=512Mi',
  ]);
  const again = await promote(yaml);
  expect(again.result).toMatchObject({ outcome: 'promoted' });
  expect(again.result.environments[1].gates[0]).toMatchObject({ name: 'parity', passed: true });
  expect(again.result.environments[1].gates[0].detail).toContain(`digest: both run ${again.digest}`);
});

test('gantry rollback puts a kubernetes target back on the digest promoted there before', async () => {
  const platform = testDigest();
  await createDeployment('rollback', platform);
  const yaml = pipeline([{ name: 'rb', namespace: 'rollback' }]);
  const first = await promote(yaml);
  const second = await promote(yaml);
  expect(first.result.environments[0]).toMatchObject({ previousDigest: platform, deployedAt: expect.any(String) });
  expect(second.result.environments[0]).toMatchObject({ previousDigest: first.digest });

  const file = join(stack.dir, 'rollback.yaml');
  writePipeline(file, yaml);
  const run = await runCli(
    ['--config', file, 'rollback', 'web', '--env', 'rb', '--as', 'oncall', '--reason', 'bad pods', '--wait'],
    cliEnv(stack),
  );
  expect(run.stdout).toContain(`accepted: rollback/web/rb/${second.digest} puts rb back on ${first.digest}`);
  expect(run.code).toBe(0);
  const image = (await getDeployment('rollback')).spec.template.spec.containers.find((c) => c.name === 'app')?.image;
  expect(image).toBe(`${IMAGE}@${first.digest}`);
  // The same rollback again is refused: it already happened.
  const again = await runCli(['--config', file, 'rollback', 'web', '--env', 'rb', '--as', 'oncall'], cliEnv(stack));
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^refused: rb was already rolled back/);
});
