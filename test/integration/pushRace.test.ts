// The seed article's war story: many promotions writing one config repo at the same moment.
// Every push that loses the race is fetched, re-applied and pushed again; all of them land.
import { createConfigRepo } from '../../src/local/configRepo';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ taskQueue: 'push-race' });
});
afterAll(async () => {
  await stack?.stop();
});

test('12 apps promoted at once into one config repo all land, one commit per app and environment', async () => {
  const apps = Array.from({ length: 12 }, (_, i) => `svc-${i + 1}`);
  const repo = await createConfigRepo({
    dir: stack.dir,
    apps: apps.map((name) => ({
      name,
      image: `registry.example.com/acme/${name}`,
      overlayPath: (env) => `apps/${name}/environments/${env}`,
    })),
    environments: ['dev', 'staging'],
  });
  const yaml = pipelineYaml(repo, apps, [{ name: 'dev' }, { name: 'staging' }]);
  const digests = new Map(apps.map((app) => [app, testDigest()]));

  await Promise.all(apps.map((app) => stack.gantry.start(promotionInput(yaml, app, digests.get(app)!))));
  const results = await Promise.all(apps.map((app) => stack.gantry.result(app, digests.get(app)!)));

  expect(results.map((r) => r.outcome)).toEqual(apps.map(() => 'promoted'));
  const commits = commitsIn(repo);
  for (const app of apps) {
    const digest = digests.get(app)!;
    const mine = commits.filter((c) => c.trailers['Gantry-App'] === app);
    expect(mine.map((c) => [c.trailers['Gantry-Environment'], c.trailers['Gantry-Digest']])).toEqual([
      ['staging', digest],
      ['dev', digest],
    ]);
    for (const env of ['dev', 'staging']) {
      expect(fileAt(repo, `apps/${app}/environments/${env}/kustomization.yaml`)).toContain(`digest: ${digest}`);
    }
  }
  // Nothing but the seed commit and the promotions: no merge commits, nothing resolved by hand.
  expect(commits).toHaveLength(1 + apps.length * 2);
});
