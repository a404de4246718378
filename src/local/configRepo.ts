// A bare git config repo laid out like the seed article's: environments/<env>/kustomization.yaml
// per environment (per app under apps/<app>/ when several apps share the repo). The demo and the
// tests promote into it.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';

export interface ConfigRepoLayout {
  /** Folder for the bare repo; a temp folder when absent. */
  dir?: string;
  apps: { name: string; image: string; overlayPath: (env: string) => string }[];
  environments: string[];
}

export async function createConfigRepo(layout: ConfigRepoLayout): Promise<string> {
  const root = layout.dir ?? mkdtempSync(join(tmpdir(), 'gantry-config-'));
  const bare = join(root, 'config.git');
  const work = join(root, 'seed');
  mkdirSync(work, { recursive: true });
  await simpleGit().init(true, [bare, '--initial-branch=main']);
  const git = simpleGit({ baseDir: work, config: ['user.name=Platform Team', 'user.email=platform@example.com'] });
  await git.init(['--initial-branch=main']);
  for (const app of layout.apps) {
    for (const env of layout.environments) {
      const dir = join(work, app.overlayPath(env));
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          `# ${app.name} in ${env}: Gantry pins the image digest below.`,
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          `namespace: ${env}`,
          'resources:',
          '  - ../../base',
          'images:',
          `  - name: ${app.image}`,
          `    newTag: latest # replaced by a digest on first promotion`,
          '',
        ].join('\n'),
      );
    }
  }
  await git.add('.');
  await git.commit('initial overlays');
  await git.addRemote('origin', bare);
  await git.push('origin', 'main');
  return bare;
}
