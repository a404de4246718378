// Deploy targets by name (the key under `deploy:` in gantry.yaml). Adding one is a new file here.
import type { DeployRequest, DeployResult } from '../types';
import { deployToGitOps } from './gitops';
import { deployToKubernetes } from './kubernetes';

export async function deploy(request: DeployRequest): Promise<DeployResult> {
  switch (request.target.kind) {
    case 'gitops':
      return deployToGitOps({ ...request, target: request.target });
    case 'kubernetes':
      return deployToKubernetes({ ...request, target: request.target });
  }
}
