// A Gantry worker: the promotion workflow plus every activity, on one task queue.
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { join } from 'node:path';
import { createActivities } from '../../activities';
import { FileAuditStore, loadOrCreateAuditKey, type AuditStore } from '../audit';
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
  /** Where the audit log lives (default $GANTRY_DATA_DIR or ~/.gantry); its key in $GANTRY_AUDIT_KEY_DIR or <dataDir>/keys. */
  dataDir?: string;
  /** An audit store to use instead of the file in dataDir. */
  auditStore?: AuditStore;
  /** Promotions kept in memory between their workflow tasks (default {@link DEFAULT_MAX_CACHED_WORKFLOWS}). */
  maxCachedWorkflows?: number;
  /** Replace some activities by name (the benchmarks register instant deploy, health, gates). */
  activityOverrides?: Record<string, (...args: never[]) => Promise<unknown>>;
  /** Payload encryption; default: the keys in $GANTRY_CODEC_KEYS_FILE or $GANTRY_CODEC_KEYS, none without them. */
  dataConverter?: DataConverter;
  /** Register as this Worker Deployment version, promotions pinned to it; unversioned without. */
  deployment?: WorkerDeployment;
}

export async function createWorker(options: GantryWorkerOptions): Promise<Worker> {
  const audit = options.auditStore ?? (await openAuditStore(options.dataDir ?? defaultDataDir()));
  const dataConverter = 'dataConverter' in options ? options.dataConverter : dataConverterFromEnv();
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    dataConverter,
    taskQueue: options.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: { ...createActivities({ audit, client }), ...options.activityOverrides },
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(options.deployment ? versioningOptions(options.deployment) : {}),
  });
}

export function workflowsPath(): string {
  return require.resolve('../../workflows');
}

/** The audit log of this worker: <dataDir>/audit/audit.jsonl, signed with the worker's audit key. */
export async function openAuditStore(dataDir: string): Promise<AuditStore> {
  const signingKey = await loadOrCreateAuditKey(process.env.GANTRY_AUDIT_KEY_DIR ?? join(dataDir, 'keys'));
  return FileAuditStore.open({ dataDir: join(dataDir, 'audit'), signingKey });
}
