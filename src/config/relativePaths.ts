// The relative paths in gantry.yaml that a worker resolves on its own disk (a command gate's cwd,
// kubeconfigs), for `gantry validate` to point out: CI validates against its checkout, a worker
// elsewhere resolves them against its own folder.
import { formatPath } from './configError';
import type { EnvironmentConfig, GantryConfig } from './configTypes';

export interface RelativePath {
  /** Field path, as in validation errors (environments[1].gates[0].command.cwd). */
  at: string;
  path: string;
}

export function relativeWorkerPaths(config: GantryConfig): RelativePath[] {
  const found: RelativePath[] = [];
  const lists: Array<[Array<string | number>, EnvironmentConfig[] | undefined]> = [
    [['environments'], config.environments],
    ...Object.entries(config.apps).map(([name, app]): [Array<string | number>, EnvironmentConfig[] | undefined] => [
      ['apps', name, 'environments'],
      app.environments,
    ]),
  ];
  for (const [at, envs] of lists) {
    (envs ?? []).forEach((env, i) => {
      const add = (segments: Array<string | number>, path: string | undefined) => {
        if (path !== undefined && !path.startsWith('/')) found.push({ at: formatPath([...at, i, ...segments]), path });
      };
      add(['deploy', 'kubernetes', 'kubeconfig'], env.deploy.kubernetes?.kubeconfig);
      add(['health', 'kubernetesRollout', 'kubeconfig'], env.health?.kubernetesRollout?.kubeconfig);
      add(['health', 'argocd', 'kubeconfig'], env.health?.argocd?.kubeconfig);
      (env.gates ?? []).forEach((gate, g) => {
        add(['gates', g, 'command', 'cwd'], gate.command?.cwd);
        add(['gates', g, 'parity', 'kubeconfig'], gate.parity?.kubeconfig);
        add(['gates', g, 'parity', 'reference', 'kubeconfig'], gate.parity?.reference.kubeconfig);
        add(['gates', g, 'parity', 'target', 'kubeconfig'], gate.parity?.target.kubeconfig);
      });
    });
  }
  return found;
}
