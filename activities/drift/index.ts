// Drift detection activities: what Gantry last put into an environment (its audit log), and what
// the environment runs now (the Deployment's image, or the digest the GitOps overlay pins).
import { ApplicationFailure } from '@temporalio/common';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import type { AuditStore } from '../../src/audit';
import type { LastPromoted, RunningDigest } from '../../src/drift/types';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { apiMessage, apiStatus, appsApi, imageDigest } from '../../src/kubernetes/kubeClient';
import type { DeployTarget } from '../../src/pipeline/types';

/** Events that put a digest into an environment, and which digest. */
function placedDigest(record: { event: string; digest: string; details: unknown }): string | undefined {
  if (record.event === 'deployed' || record.event === 'drift-healed') return record.digest;
  if (record.event === 'rollback') {
    const to = (record.details as { to?: unknown } | null)?.to;
    return typeof to === 'string' ? to : undefined;
  }
  return undefined;
}

export function lastPromotedDigestWith(audit: AuditStore) {
  return async function lastPromotedDigest(request: { app: string; environment: string }): Promise<LastPromoted> {
    const records = await audit.readAll();
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i];
      if (r.app !== request.app || r.environment !== request.environment) continue;
      const digest = placedDigest(r);
      if (digest) return { digest, workflowId: r.workflowId, time: r.time };
    }
    return {};
  };
}

export async function readRunningDigest(request: { target: DeployTarget }): Promise<RunningDigest> {
  const { target } = request;
  if (target.kind === 'kubernetes') {
    const where = `deployment ${target.namespace}/${target.deployment}`;
    try {
      const d = await (await appsApi(target)).readNamespacedDeployment({ name: target.deployment, namespace: target.namespace });
      const containers = d.spec?.template?.spec?.containers ?? [];
      const c = target.container ? containers.find((x) => x.name === target.container) : containers[0];
      if (!c) return { detail: `${where} has no container ${target.container ?? ''}`.trim() };
      return { digest: imageDigest(c.image), detail: `${where} container ${c.name} runs ${c.image}` };
    } catch (err) {
      if (apiStatus(err) === 404) return { detail: `${where} not found` };
      throw ApplicationFailure.retryable(`reading ${where}: ${apiMessage(err)}`, 'DriftReadFailed');
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'gantry-drift-'));
  try {
    await simpleGit().clone(target.repoUrl, dir, ['--depth', '1', '--branch', target.branch, '--single-branch', '--no-tags']);
    const file = join(target.path, 'kustomization.yaml');
    const text = await readFile(join(dir, file), 'utf8').catch(() => undefined);
    if (text === undefined) return { detail: `${file} not found in ${target.repoUrl} (branch ${target.branch})` };
    const digest = readKustomizeDigest(text, target.imageName);
    return { digest, detail: `${file} pins ${digest ?? 'no digest'} for ${target.imageName}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
