// Stage 1 against a real OCI registry: a pushed digest is verified; one the registry does not
// have, or one the worker may not read, fails the promotion before anything is deployed.
import { createConfigRepo } from '../../src/local/configRepo';
import { commitsIn } from '../harness/gitInspect';
import { startStack, type Stack } from '../harness/devServerStack';
import { startRegistry, pushImage, type Registry } from '../harness/ociRegistry';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';

let stack: Stack;
let registry: Registry;
let tokenRegistry: Registry;
let repo: string;
let yaml: string;

beforeAll(async () => {
  [stack, registry, tokenRegistry] = await Promise.all([
    startStack({ taskQueue: 'verify' }),
    startRegistry(),
    startRegistry({ kind: 'token', users: { ci: 's3cret' }, publicPrefixes: ['public/'] }),
  ]);
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev'],
  });
  yaml = pipelineYaml(repo, ['web'], [{ name: 'dev' }], { registry: { url: registry.url } });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), registry?.stop(), tokenRegistry?.stop()]);
});

test('a digest the registry serves is verified and promoted', async () => {
  const digest = await pushImage(registry.url, 'acme/web', 'v1', `layer ${Date.now()}`);
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('promoted');
  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const verified = history.events?.find((e) => e.activityTaskCompletedEventAttributes)
    ?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  expect(await stack.decode(verified!)).toEqual({
    checked: 'registry',
    detail: `acme/web@${digest} exists in ${registry.url} (image)`,
  });
});

test('a digest the registry does not have fails verification and deploys nothing', async () => {
  const digest = testDigest();
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: not found: acme/web@${digest} is not in registry ${registry.url}`,
  });
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest)).toHaveLength(0);
});

test('a private repository the worker has no credentials for fails at once as unauthorised, and deploys nothing', async () => {
  const digest = await pushImage(tokenRegistry, 'acme/web', 'v1', `private ${Date.now()}`);
  const privateYaml = pipelineYaml(repo, ['web'], [{ name: 'dev' }], { registry: { url: tokenRegistry.url } });
  await stack.gantry.start(promotionInput(privateYaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: unauthorised: ${tokenRegistry.url} refused anonymous access for repository:acme/web:pull (401 after authenticating)`,
  });
  // Not retried: one attempt, one token request.
  expect(tokenRegistry.issuer!.requests.filter((r) => r.scope === 'repository:acme/web:pull')).toHaveLength(1);
  expect(commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest)).toHaveLength(0);
});
