// Waves with a metric-gated canary on real parts: a production of three gitops targets in three
// waves, where the wave-2 target runs a canary through HAProxy (a bounded load loop to stable and
// canary instances, Prometheus scraping both). Its canary answers 5% errors against stable's 1%:
// the sequential test fails it, the failure budget (0) is spent, every target changed so far goes
// back to the digest it ran before, traffic goes back to stable, and wave 3 is never touched.
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { startCanaryRig, type CanaryRig } from '../harness/canary/canaryRig';
import { startLoad, type LoadLoop } from '../harness/canary/loadLoop';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { pipelineText, promotionInput, testDigest } from '../harness/pipelineFile';

jest.setTimeout(300_000);
const IMAGE = 'registry.example.com/acme/web';
let rig: CanaryRig;
let load: LoadLoop | undefined;
let repo: string;

beforeAll(async () => {
  rig = await startCanaryRig({
    taskQueue: 'wave-canary',
    errorRates: { stable: 0.01, canary: 0.05 },
    seeds: { stable: 31, canary: 32 },
  });
  repo = await createConfigRepo({
    dir: rig.stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['eu-1', 'us-1', 'eu-2'],
  });
});
afterAll(async () => {
  await load?.stop();
  await rig?.stop();
});

/** us-1 runs a canary (when asked) through the real HAProxy; the others deploy and go on. */
function pipeline(withCanary: boolean): string {
  const usCanary = rig.canaryConfig();
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
  await rig.stack.gantry.start(promotionInput(pipeline(false), 'web', good));
  expect((await rig.stack.gantry.result('web', good)).outcome).toBe('promoted');

  load = startLoad({ url: rig.haproxy.url, ratePerSecond: 200, maxRequests: 200 * 120, maxSeconds: 120 });
  await rig.stack.gantry.start(promotionInput(pipeline(true), 'web', bad));
  const result = await rig.stack.gantry.result('web', bad);
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
  expect((await readHaproxyCanaryWeight(rig.haproxy.router)).percent).toBe(0);
  expect(['eu-1', 'us-1', 'eu-2'].map(digestOf)).toEqual([good, good, good]);
  const ofBad = commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === bad);
  expect(ofBad.map((c) => c.trailers['Gantry-Environment']).sort()).toEqual(['production/eu-1', 'production/us-1']);
  const reverts = commitsIn(repo).filter((c) => c.trailers['Gantry-Rollback-Of'] === bad);
  expect(reverts.map((c) => c.trailers['Gantry-Environment']).sort()).toEqual(['production/eu-1', 'production/us-1']);
  // The analysis that failed, in the target's own child workflow.
  const child = await rig.stack.gantry.client.workflow.getHandle(`${result.workflowId}/production/us-1`).result();
  expect(child).toMatchObject({ target: 'us-1', outcome: 'failed', changed: true, previousDigest: good });
  expect((child as { canary?: { analyses: Array<{ decision: string }> } }).canary?.analyses[0]).toMatchObject({
    decision: 'Failed',
  });
});
