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
    expect(input.environments[0].deploy).toMatchObject({ repoUrl: 'git@github.com:acme/config-repo.git', path: `apps/${app}/environments/dev` });
    expect(input.environments[0].health).toMatchObject({ url: `https://${app}.dev.acme.example` });
    expect(input.environments[2].health).toMatchObject({ namespace: 'production', deployment: app });
  }
});
