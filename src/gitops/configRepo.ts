// A temporary clone of a GitOps target's config repo branch, removed after use. Deploys clone the
// whole branch (they commit, fetch and reset); reads need only the tip.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { GitOpsTarget } from '../pipeline/types';

/** The overlay's kustomization.yaml, relative to the repo's root. */
export function overlayFile(target: Pick<GitOpsTarget, 'path'>): string {
  return join(target.path, 'kustomization.yaml');
}

export async function withConfigRepoClone<T>(
  target: GitOpsTarget,
  options: { tipOnly: boolean },
  use: (git: SimpleGit, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-gitops-'));
  try {
    const git = simpleGit({
      baseDir: dir,
      config: [`user.name=${target.author.name}`, `user.email=${target.author.email}`],
    });
    await git.clone(target.repoUrl, dir, [
      ...(options.tipOnly ? ['--depth', '1'] : []),
      '--branch',
      target.branch,
      '--single-branch',
      '--no-tags',
    ]);
    return await use(git, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
