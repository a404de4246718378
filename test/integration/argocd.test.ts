// The `argocd` health check against a real Kubernetes API with Argo CD's Application CRD. The test
// plays Argo CD: it writes the Application's status (the CRD has no status subresource, so the
// object itself is patched) the way Argo's controller would after it sees the config repo commit.
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { startStack, type Stack } from '../harness/devServerStack';
import { useKubernetesCluster } from '../harness/kubernetesCluster';
import { pipelineText, promotionInput, testDigest } from '../harness/pipelineFile';
import { until } from '../harness/until';

const IMAGE = 'registry.example.com/acme/web';
const cluster = useKubernetesCluster();
let stack: Stack;
let repo: string;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'argocd' });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'staging'],
  });
  await cluster().kubectl(['create', 'namespace', 'argocd']);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

function pipeline(application: string, timeout = '1m'): string {
  return pipelineText({
    configRepo: { url: repo },
    apps: { web: { image: IMAGE } },
    environments: [
      {
        name: 'dev',
        deploy: { gitops: { path: 'environments/dev' } },
        health: { argocd: { application, kubeconfig: cluster().kubeconfig, interval: '200ms', timeout } },
      },
    ],
  });
}

async function createApplication(name: string, status: object) {
  const app = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: repo, path: 'environments/dev', targetRevision: 'main' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'dev' },
    },
    status,
  };
  await cluster().kubectl(['apply', '-f', '-'], JSON.stringify(app));
  // apply may drop status on create for some clients; write it the way Argo does, on the object.
  await setStatus(name, status);
}

/** What Argo CD's controller does: writes status on the Application object itself. */
async function setStatus(name: string, status: object) {
  await cluster().kubectl([
    '-n',
    'argocd',
    'patch',
    'applications.argoproj.io',
    name,
    '--type',
    'merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** The promotion reached its health check; the commit the deploy pushed. */
const deployedCommit = (digest: string) =>
  until('the health stage', async () => {
    const s: PromotionStatus = await stack.gantry.status('web', digest);
    return s.stage === 'health' && s.environments[0].commit ? s.environments[0].commit : undefined;
  });

const OLD_REVISION = 'f'.repeat(40);

test('waits for Synced and Healthy at the commit the deploy pushed, not at an older revision', async () => {
  await createApplication('web-dev', {
    sync: { status: 'Synced', revision: OLD_REVISION },
    health: { status: 'Healthy' },
  });
  const digest = testDigest();
  const started = Date.now();
  await stack.gantry.start(promotionInput(pipeline('web-dev'), 'web', digest));
  const commit = await deployedCommit(digest);

  // Healthy, but at the old revision: still waiting.
  await new Promise((r) => setTimeout(r, 1000));
  expect(await stack.gantry.status('web', digest)).toMatchObject({ outcome: 'running', stage: 'health' });
  // Argo notices the commit and syncs: at the revision but still progressing.
  await setStatus('web-dev', { sync: { status: 'Synced', revision: commit }, health: { status: 'Progressing' } });
  await new Promise((r) => setTimeout(r, 1000));
  expect(await stack.gantry.status('web', digest)).toMatchObject({ outcome: 'running', stage: 'health' });
  await setStatus('web-dev', { sync: { status: 'Synced', revision: commit }, health: { status: 'Healthy' } });

  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({ outcome: 'promoted', stage: 'done' });
  expect(result.environments[0]).toMatchObject({ state: 'promoted', commit });
  console.log(`argocd health: promoted ${Date.now() - started} ms after start`);
});

test('an Application whose summary images pin the digest counts, whatever its revision', async () => {
  await createApplication('web-images', {
    sync: { status: 'Synced', revision: OLD_REVISION },
    health: { status: 'Healthy' },
  });
  const digest = testDigest();
  await stack.gantry.start(promotionInput(pipeline('web-images'), 'web', digest));
  await deployedCommit(digest);
  await setStatus('web-images', {
    sync: { status: 'Synced', revision: 'e'.repeat(40) },
    health: { status: 'Healthy' },
    summary: { images: [`${IMAGE}@${digest}`] },
  });
  expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });
});

test('a Degraded Application at the promoted revision fails the health stage with its message; a missing one is named', async () => {
  await createApplication('web-degraded', {
    sync: { status: 'Synced', revision: OLD_REVISION },
    health: { status: 'Healthy' },
  });
  const digest = testDigest();
  await stack.gantry.start(promotionInput(pipeline('web-degraded'), 'web', digest));
  const commit = await deployedCommit(digest);
  await setStatus('web-degraded', {
    sync: { status: 'Synced', revision: commit },
    health: { status: 'Degraded', message: 'Deployment "web" exceeded its progress deadline' },
  });
  expect(await stack.gantry.result('web', digest)).toMatchObject({
    outcome: 'failed',
    stage: 'health',
    reason:
      'health dev failed: dev Argo CD application argocd/web-degraded: web-degraded is Degraded at the promoted revision: Deployment "web" exceeded its progress deadline',
  });

  const other = testDigest();
  await stack.gantry.start(promotionInput(pipeline('web-nowhere'), 'web', other));
  expect(await stack.gantry.result('web', other)).toMatchObject({
    outcome: 'failed',
    reason: 'health dev failed: dev Argo CD application argocd/web-nowhere: application argocd/web-nowhere not found',
  });
});
