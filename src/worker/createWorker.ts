// A Gantry worker: the promotion workflow plus every activity, on one task queue.
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { AuditStore } from '../audit';
import { auditLocation, openAuditStore } from '../audit/openAuditStore';
import type { PolicySource } from '../policy/policySource';
import { dataConverterFromEnv } from '../codec/dataConverter';
import { defaultDataDir } from './dataDir';
import { versioningOptions, type WorkerDeployment } from './workerDeployment';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from './workerTuning';

export interface GantryWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (bundleWorkflowCode), so many workers in one process bundle once. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Where the audit log lives (default $GANTRY_DATA_DIR or ~/.gantry, or $GANTRY_AUDIT_URL); its key in $GANTRY_AUDIT_KEY_DIR or <dataDir>/keys. */
  dataDir?: string;
  /** An audit store to use instead of the file in dataDir. */
  auditStore?: AuditStore;
  /** Promotions kept in memory between their workflow tasks (default {@link DEFAULT_MAX_CACHED_WORKFLOWS}). */
  maxCachedWorkflows?: number;
  /** The policy this worker enforces (who approves, keys, freezes, gate commands, starters); without one every promotion is refused. */
  policy?: PolicySource;
  /** On shutdown (SIGTERM), how long running activities may finish before they are cancelled (default 0: at once). */
  shutdownGraceTime?: number;
  /** Replace some activities by name (the benchmarks register instant deploy, health, gates). */
  activityOverrides?: Record<string, (...args: never[]) => Promise<unknown>>;
  /** Payload encryption; default: the keys in $GANTRY_CODEC_KEYS_FILE or $GANTRY_CODEC_KEYS, none without them. */
  dataConverter?: DataConverter;
  /** Register as this Worker Deployment version, promotions pinned to it; unversioned without. */
  deployment?: WorkerDeployment;
}

export async function createWorker(options: GantryWorkerOptions): Promise<Worker> {
  const audit = options.auditStore ?? (await openAuditStore(auditLocation(options.dataDir ?? defaultDataDir())));
  const dataConverter = 'dataConverter' in options ? options.dataConverter : dataConverterFromEnv();
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter,
    taskQueue: options.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: { ...createActivities({ audit, client, policy: options.policy }), ...options.activityOverrides },
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.deployment ? versioningOptions(options.deployment) : {}),
  });
}

export function workflowsPath(): string {
  return require.resolve('../../workflows');
}
