// Health checks by name (the key under `health:` in gantry.yaml). Adding one is a new file here.
import type { HealthRequest } from '../types';
import { checkArgoCdApplication } from './argocd';
import { checkHttpHealth } from './http';
import { checkKubernetesRollout } from './kubernetesRollout';

export async function checkHealth(request: HealthRequest): Promise<string> {
  const { check, digest, environment, commit } = request;
  switch (check.kind) {
    case 'http':
      return checkHttpHealth(check, digest, environment);
    case 'kubernetesRollout':
      return checkKubernetesRollout(check, digest, environment);
    case 'argocd':
      return checkArgoCdApplication(check, digest, environment, commit);
  }
}
