// Stage 1 against a real OCI registry: a pushed digest is verified; one the registry does not
// have fails the promotion before anything is deployed.
import { createConfigRepo } from '../../src/local/configRepo';
import { commitsIn } from '../harness/gitInspect';
import { startStack, type Stack } from '../harness/devServerStack';
import { startRegistry, pushImage, type Registry } from '../harness/ociRegistry';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';

let stack: Stack;
let registry: Registry;
let repo: string;
let yaml: string;

beforeAll(async () => {
  [stack, registry] = await Promise.all([startStack({ taskQueue: 'verify' }), startRegistry()]);
  repo = await createConfigRepo({ dir: stack.dir, apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }], environments: ['dev'] });
  yaml = pipelineYaml(repo, ['web'], [{ name: 'dev' }], `registry:\n  url: ${registry.url}`);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), registry?.stop()]);
});

test('a digest the registry serves is verified and promoted', async () => {
  const digest = await pushImage(registry.url, 'acme/web', 'v1', `layer ${Date.now()}`);
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const verified = history.events?.find((e) => e.activityTaskCompletedEventAttributes)?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  expect(await stack.decode(verified!)).toEqual({ checked: 'registry', detail: `acme/web@${digest} exists in ${registry.url}` });
});

test('a digest the registry does not have fails verification and deploys nothing', async () => {
  const digest = testDigest();
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({ outcome: 'failed', stage: 'verify', reason: `verify failed: acme/web@${digest} not found in registry ${registry.url}` });
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest)).toHaveLength(0);
});
