// Waves with a metric-gated canary on real parts: a production of three gitops targets in three
// waves, where the wave-2 target runs a canary through HAProxy (a bounded load loop to stable and
// canary instances, Prometheus scraping both). Its canary answers 5% errors against stable's 1%:
// the sequential test fails it, the failure budget (0) is spent, every target changed so far goes
// back to the digest it ran before, traffic goes back to stable, and wave 3 is never touched.
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { startApp, type CanaryApp } from '../harness/canary/app';
import { startHaproxy, type Haproxy } from '../harness/canary/haproxy';
import { startLoad, type LoadLoop } from '../harness/canary/loadLoop';
import { startPrometheus, type PrometheusServer } from '../harness/canary/prometheus';
import { startStack, type Stack } from '../harness/devServerStack';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { pipelineText, promotionInput, testDigest } from '../harness/pipelineFile';

jest.setTimeout(300_000);
const IMAGE = 'registry.example.com/acme/web';
let stack: Stack;
let stable: CanaryApp;
let canary: CanaryApp;
let haproxy: Haproxy;
let prometheus: PrometheusServer;
let load: LoadLoop | undefined;
let repo: string;

beforeAll(async () => {
  stable = await startApp('stable', { errorRate: 0.01, latencyMs: 0 }, 31);
  canary = await startApp('canary', { errorRate: 0.05, latencyMs: 0 }, 32);
  [stack, haproxy, prometheus] = await Promise.all([
    startStack({ taskQueue: 'wave-canary' }),
    startHaproxy({ stablePort: stable.port, canaryPort: canary.port }),
    startPrometheus([
      { port: stable.port, labels: { track: 'stable' } },
      { port: canary.port, labels: { track: 'canary' } },
    ]),
  ]);
  await prometheus.targetsUp();
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['eu-1', 'us-1', 'eu-2'],
  });
});
afterAll(async () => {
  await load?.stop();
  await stack?.stop();
  await Promise.all([haproxy?.stop(), prometheus?.stop()]);
  await Promise.all([stable?.stop(), canary?.stop()]);
});

const errorRate = (track: string) => ({
  errors: `sum(app_errors_total{track="${track}"})`,
  total: `sum(app_requests_total{track="${track}"})`,
});

/** us-1 runs a canary (when asked) through the real HAProxy; the others deploy and go on. */
function pipeline(withCanary: boolean): string {
  const usCanary = {
    router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend } },
    metrics: { prometheus: { url: prometheus.url, timeout: '5s' } },
    onInconclusive: 'abort',
    steps: [
      { setWeight: 25 },
      {
        analysis: {
          errorRate: { canary: errorRate('canary'), stable: errorRate('stable') },
          interval: '1s',
          maxDuration: '2m',
        },
      },
      { setWeight: 100 },
    ],
  };
  return pipelineText({
    configRepo: { url: repo },
    apps: { web: { image: IMAGE } },
    environments: [
      {
        name: 'production',
        deploy: { gitops: { path: 'environments/{target}' } },
        targets: ['eu-1', withCanary ? { name: 'us-1', canary: usCanary } : 'us-1', 'eu-2'],
        waves: [['eu-1'], ['us-1'], ['eu-2']],
        bakeTime: '1s',
      },
    ],
  });
}

const digestOf = (target: string) =>
  readKustomizeDigest(fileAt(repo, `environments/${target}/kustomization.yaml`), IMAGE);

test("a target's canary failing on real metrics in wave 2 rolls waves 1 and 2 back; wave 3 is never touched", async () => {
  const [good, bad] = [testDigest(), testDigest()];
  await stack.gantry.start(promotionInput(pipeline(false), 'web', good));
  expect((await stack.gantry.result('web', good)).outcome).toBe('promoted');

  load = startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 200 * 120, maxSeconds: 120 });
  await stack.gantry.start(promotionInput(pipeline(true), 'web', bad));
  const result = await stack.gantry.result('web', bad);
  await load.stop();

  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(/^us-1 in production failed \(canary failed: .*\); 1 failed of 3, budget 0/);
  const rows = result.environments[0].targets!;
  expect(rows.map((t) => [t.name, t.wave, t.state, t.digest])).toEqual([
    ['eu-1', 1, 'rolled-back', good],
    ['us-1', 2, 'rolled-back', good],
    ['eu-2', 3, 'pending', undefined],
  ]);
  expect(rows[1].canaryWeight).toBe(0);
  // Traffic is back on stable; every overlay runs the digest before, eu-2 never got a commit of `bad`.
  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
  expect(['eu-1', 'us-1', 'eu-2'].map(digestOf)).toEqual([good, good, good]);
  const ofBad = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === bad);
  expect(ofBad.map((c) => c.trailers['Gantry-Environment']).sort()).toEqual(['production/eu-1', 'production/us-1']);
  const reverts = commitsIn(repo).filter((c) => c.trailers['Gantry-Rollback-Of'] === bad);
  expect(reverts.map((c) => c.trailers['Gantry-Environment']).sort()).toEqual(['production/eu-1', 'production/us-1']);
  // The analysis that failed, in the target's own child workflow.
  const child = await stack.gantry.client.workflow.getHandle(`${result.workflowId}/production/us-1`).result();
  expect(child).toMatchObject({ target: 'us-1', outcome: 'failed', changed: true, previousDigest: good });
  expect((child as { canary?: { analyses: Array<{ decision: string }> } }).canary?.analyses[0]).toMatchObject({
    decision: 'Failed',
  });
});
