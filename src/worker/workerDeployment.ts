// Worker Versioning (Temporal Worker Deployments): every `gantry worker` registers as a version
// <deployment name>/<build id>, and each promotion is pinned to the version that started it, so an
// upgrade takes new promotions while the waiting ones finish on the code that began them.
import type { WorkflowService } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FREEZE_REGISTRY_ID, moveToCurrentBuildSignal } from '../../workflows/freezeRegistry';
import { PROJECT_ROOT } from '../local/tools';

export interface WorkerDeployment {
  name: string;
  buildId: string;
}

export const BUILD_ID_ENV = 'GANTRY_BUILD_ID';

/** The worker options that register a worker as a version, promotions pinned to it. */
export function versioningOptions(deployment: WorkerDeployment): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  return {
    workerDeploymentOptions: {
      version: { deploymentName: deployment.name, buildId: deployment.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

/**
 * The build id of this Gantry: $GANTRY_BUILD_ID, else <package version>+<git commit> of the checkout
 * it runs from (with -dirty when the workflow code differs from the commit), else the version alone.
 */
export function defaultBuildId(env: NodeJS.ProcessEnv = process.env, root = PROJECT_ROOT): string {
  if (env[BUILD_ID_ENV]) return env[BUILD_ID_ENV];
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short=12', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'workflows', 'src') !== '';
    return `${version}+${commit}${dirty ? '-dirty' : ''}`;
  } catch {
    return version; // an installed package or image without .git: set GANTRY_BUILD_ID in its build
  }
}

export type CurrentVersionOutcome = { changed: true; previous?: string } | { changed: false; current: string };

/** The deployment's current build id, or undefined when it has none (or does not exist yet). */
export async function currentBuildId(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
): Promise<string | undefined> {
  try {
    const { workerDeploymentInfo } = await service.describeWorkerDeployment({ namespace, deploymentName });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined; // NOT_FOUND: no worker has polled yet
    throw err;
  }
}

/**
 * Makes deployment/buildId the current version: new promotions start there. With onlyIfNone, a
 * deployment that already has a current version keeps it (an upgrade is an operator's decision).
 * Waits until the version is registered (its first poll reached the server).
 */
export async function makeCurrent(
  service: WorkflowService,
  namespace: string,
  deployment: WorkerDeployment,
  options: { onlyIfNone: boolean; identity: string; timeoutMs?: number },
): Promise<CurrentVersionOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const current = await currentBuildId(service, namespace, deployment.name);
    if (current === deployment.buildId || (current && options.onlyIfNone)) return { changed: false, current };
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: deployment.name,
        buildId: deployment.buildId,
        identity: options.identity,
      });
      return { changed: true, previous: current };
    } catch (err) {
      // NOT_FOUND until the version's first poll is recorded; FAILED_PRECONDITION while another
      // worker of the same build sets it at the same moment. Both settle within seconds.
      const code = (err as { code?: number }).code;
      if ((code !== 5 && code !== 9) || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

/**
 * Gives the workflows that never end (the freeze registry) a workflow task, so they leave the old
 * build for the current one now rather than at their next change; without it, the old build could
 * never be stopped. Nothing to do when they do not exist.
 */
export async function moveLongRunningWorkflows(
  service: WorkflowService,
  namespace: string,
  identity: string,
): Promise<void> {
  try {
    await service.signalWorkflowExecution({
      namespace,
      workflowExecution: { workflowId: FREEZE_REGISTRY_ID },
      signalName: moveToCurrentBuildSignal.name,
      identity,
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 5) throw err; // NOT_FOUND: no freeze registry yet
  }
}
