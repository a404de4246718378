// The Temporal time-skipping test server (pinned binary), for workflow tests with long waits, with
// a Gantry worker and client on it. The server cannot register custom search attributes, so
// promotions there run without them (the dev-server tests cover them).
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryClient } from '../../src/client/gantryClient';
import { generateCodecKeyEntry, parseCodecKeys } from '../../src/codec/codecKeys';
import { gantryDataConverter } from '../../src/codec/dataConverter';
import { toolPath } from '../../src/local/tools';
import { createWorker } from '../../src/worker/createWorker';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { testPolicy } from './pipelineFile';

export function createTimeSkippingEnv(dataConverter?: DataConverter): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
    ...(dataConverter ? { client: { dataConverter } } : {}),
  });
}

export interface TimeSkippingStack {
  env: TestWorkflowEnvironment;
  gantry: GantryClient;
  /** The worker's data folder (audit log and key). */
  dataDir: string;
  stop(): Promise<void>;
}

/** A time-skipping server with a Gantry worker on `taskQueue` and a client for it. */
export async function startTimeSkippingStack(taskQueue: string): Promise<TimeSkippingStack> {
  // The bundle `gantry worker` runs (shared modules, metrics interceptor), not a plainer one.
  // Encrypted payloads, as in an installation with a key.
  const dataConverter = gantryDataConverter(parseCodecKeys(generateCodecKeyEntry('test-key'), 'test keys'));
  const [env, bundle] = await Promise.all([createTimeSkippingEnv(dataConverter), bundleGantryWorkflows()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-ts-'));
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: bundle,
    dataDir,
    dataConverter,
    policy: testPolicy,
  });
  const running = worker.run();
  return {
    env,
    dataDir,
    gantry: new GantryClient(env.client, taskQueue, false),
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
