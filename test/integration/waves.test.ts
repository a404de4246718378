// A production made of three targets on a real Temporal dev server: two gitops overlays in a real
// git config repo and one Kubernetes namespace on the loopback cluster (docs/kubernetes-cluster.md),
// rolled out in waves with one approval; then a failing target that spends the failure budget.
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { fileAt } from '../harness/gitInspect';
import { useKubernetesCluster } from '../harness/kubernetesCluster';
import { pipelineText, promotionInput, testDigest } from '../harness/pipelineFile';
import { until } from '../harness/until';

jest.setTimeout(120_000);

const IMAGE = 'registry.example.com/acme/web';
const cluster = useKubernetesCluster();
let stack: Stack;
let repo: string;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'waves-it' });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['prod-eu-1', 'prod-eu-2'],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** The Deployment of prod-us-1, on the given digest, as the platform team applies it. */
async function createDeployment(digest: string) {
  const k = cluster();
  await k.kubectl(['create', 'namespace', 'prod-us-1']).catch((err: Error) => {
    if (!/AlreadyExists/.test(err.message)) throw err;
  });
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'prod-us-1' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: `${IMAGE}@${digest}` }] },
      },
    },
  };
  await k.kubectl(['apply', '--server-side', '--field-manager=platform', '-f', '-'], JSON.stringify(manifest));
}

async function usImage(): Promise<string> {
  const d = JSON.parse(await cluster().kubectl(['-n', 'prod-us-1', 'get', 'deployment', 'web', '-o', 'json'])) as {
    spec: { template: { spec: { containers: { image: string }[] } } };
  };
  return d.spec.template.spec.containers[0].image;
}

const overlayDigest = (target: string) =>
  readKustomizeDigest(fileAt(repo, `environments/${target}/kustomization.yaml`), IMAGE);

function pipeline(waves: string[][], usGate?: Record<string, unknown>): string {
  const kubeconfig = cluster().kubeconfig;
  return pipelineText({
    configRepo: { url: repo },
    apps: { web: { image: IMAGE } },
    environments: [
      {
        name: 'production',
        approval: { signatures: 'optional' },
        deploy: { gitops: { path: 'environments/{target}' } },
        targets: [
          'prod-eu-1',
          'prod-eu-2',
          {
            name: 'prod-us-1',
            deploy: { kubernetes: { namespace: '{target}', deployment: '{app}', kubeconfig } },
            health: {
              kubernetesRollout: { namespace: '{target}', deployment: '{app}', kubeconfig, interval: '200ms' },
            },
            ...(usGate ? { gates: [usGate] } : {}),
          },
        ],
        waves,
        bakeTime: '1s',
      },
    ],
  });
}

async function promote(yaml: string, digest = testDigest()): Promise<PromotionStatus> {
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  await until('the approval wait', async () => {
    const s = await stack.gantry.status('web', digest).catch(() => undefined);
    return s?.awaitingApproval ? s : undefined;
  });
  await stack.gantry.decide('approve', 'web', digest, { environment: 'production', by: 'alice' });
  return stack.gantry.result('web', digest);
}

let good: string;

test('two overlays and a Kubernetes namespace, in two waves after one approval, all on the digest', async () => {
  const before = testDigest();
  await createDeployment(before);
  good = testDigest();
  const result = await promote(pipeline([['prod-eu-1'], ['prod-eu-2', 'prod-us-1']]), good);
  expect(result.outcome).toBe('promoted');
  expect(result.decisions).toHaveLength(1);
  expect(result.environments[0].targets!.map((t) => [t.name, t.wave, t.state, t.digest])).toEqual([
    ['prod-eu-1', 1, 'promoted', good],
    ['prod-eu-2', 2, 'promoted', good],
    ['prod-us-1', 2, 'promoted', good],
  ]);
  expect(result.environments[0].targets![2].previousDigest).toBe(before);
  expect(overlayDigest('prod-eu-1')).toBe(good);
  expect(overlayDigest('prod-eu-2')).toBe(good);
  expect(await usImage()).toBe(`${IMAGE}@${good}`);
  const stages = result.timings.map((t) => t.stage);
  expect(stages.slice(stages.indexOf('approval'))).toEqual(['approval', 'queued', 'deploy', 'bake', 'deploy']);

  // gantry status and gantry watch show the targets as a table.
  const short = good.slice(0, 19);
  const table = [
    'target     wave  state     digest               canary',
    `prod-eu-1  1     promoted  ${short}  -`,
    `prod-eu-2  2     promoted  ${short}  -`,
    `prod-us-1  2     promoted  ${short}  -`,
  ];
  const status = await runCli(['status', 'web', good], cliEnv(stack));
  expect(status.stdout.split('\n')).toEqual(expect.arrayContaining(table.map((l) => `        ${l}`)));
  const watch = await runCli(['watch', 'web', good], cliEnv(stack));
  expect(watch.code).toBe(0);
  expect(watch.stdout).toContain(['production:', ...table.map((l) => `  ${l}`)].join('\n'));
});

test('a failing target in wave 2 stops the rollout: wave 1 and 2 go back to the digest before, wave 3 is untouched', async () => {
  expect(good).toBeDefined();
  const bad = testDigest();
  const result = await promote(
    pipeline([['prod-eu-1'], ['prod-us-1'], ['prod-eu-2']], {
      // Nothing listens on port 9: the smoke test cannot reach prod-us-1.
      http: { name: 'smoke', url: 'http://127.0.0.1:9/smoke', timeout: '1s' },
    }),
    bad,
  );
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(
    /^prod-us-1 in production failed \(gate smoke failed: GET http:\/\/127.0.0.1:9\/smoke failed/,
  );
  expect(result.environments[0].targets!.map((t) => [t.name, t.wave, t.state, t.digest])).toEqual([
    ['prod-eu-1', 1, 'rolled-back', good],
    ['prod-us-1', 2, 'rolled-back', good],
    ['prod-eu-2', 3, 'pending', undefined],
  ]);
  expect(overlayDigest('prod-eu-1')).toBe(good);
  expect(overlayDigest('prod-eu-2')).toBe(good);
  expect(await usImage()).toBe(`${IMAGE}@${good}`);
});
