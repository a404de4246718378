// The example pipeline a user copies must load as it is.
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { PROJECT_ROOT } from '../../src/local/tools';

test('examples/gantry.yaml is valid and resolves for each app', () => {
  const config = loadConfig(join(PROJECT_ROOT, 'examples', 'gantry.yaml'));
  for (const app of Object.keys(config.apps)) {
    const input = resolvePromotion(config, { app, digest: `sha256:${'e'.repeat(64)}`, requestedBy: 'ci' });
    expect(input.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production']);
    expect(input.environments[0].deploy).toMatchObject({
      repoUrl: 'git@github.com:acme/config-repo.git',
      path: `apps/${app}/environments/dev`,
    });
    expect(input.environments[0].health).toMatchObject({ url: `https://${app}.dev.acme.example` });
    expect(input.environments[2].health).toMatchObject({ namespace: 'production', deployment: app });
  }
});

test('examples/kubernetes.gantry.yaml is valid and resolves', () => {
  const config = loadConfig(join(PROJECT_ROOT, 'examples', 'kubernetes.gantry.yaml'));
  const input = resolvePromotion(config, { app: 'web', digest: `sha256:${'e'.repeat(64)}`, requestedBy: 'ci' });
  expect(input.environments.map((e) => [e.name, e.deploy.kind, e.health?.kind])).toEqual([
    ['dev', 'kubernetes', 'kubernetesRollout'],
    ['staging', 'kubernetes', 'kubernetesRollout'],
    ['production', 'gitops', 'argocd'],
  ]);
  expect(input.environments[0].deploy).toEqual({
    kind: 'kubernetes',
    namespace: 'dev',
    deployment: 'web',
    container: 'app',
    image: 'ghcr.io/acme/web',
    context: 'dev-cluster',
  });
  expect(input.environments[2].canary?.router).toMatchObject({
    kind: 'httpRoute',
    route: 'web',
    stableService: 'web-stable',
  });
  expect(input.environments[2].gates[0]).toMatchObject({
    kind: 'parity',
    minRatio: 1,
    maxRatio: 4,
    reference: { namespace: 'staging', deployment: 'web', context: 'prod-cluster' },
  });
});

test('examples/multi-region.yaml is valid and resolves into waves of regions', () => {
  const config = loadConfig(join(PROJECT_ROOT, 'examples', 'multi-region.yaml'));
  const input = resolvePromotion(config, { app: 'web', digest: `sha256:${'e'.repeat(64)}`, requestedBy: 'ci' });
  const rollout = input.environments[1].rollout!;
  expect(rollout.waves).toEqual([['prod-eu-1'], ['prod-eu-2', 'prod-us-1'], ['prod-us-2', 'prod-ap-1']]);
  expect(rollout).toMatchObject({ bakeMs: 3_600_000, maxFailures: 0, concurrency: 2 });
  expect(rollout.targets.map((t) => [t.name, t.deploy.kind, t.taskQueue])).toEqual([
    ['prod-eu-1', 'gitops', undefined],
    ['prod-eu-2', 'gitops', undefined],
    ['prod-us-1', 'kubernetes', 'gantry-prod-us-1'],
    ['prod-us-2', 'gitops', undefined],
    ['prod-ap-1', 'gitops', undefined],
  ]);
  expect(rollout.targets[0].deploy).toMatchObject({ path: 'apps/web/environments/prod-eu-1' });
  expect(rollout.targets[4].gates).toEqual([
    expect.objectContaining({ url: 'https://web.prod-ap-1.acme.example/smoke' }),
  ]);
});
