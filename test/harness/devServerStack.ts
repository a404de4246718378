// A real Temporal dev server (SQLite file in a temp folder) with an in-process Gantry worker and a
// client, for integration tests. Every test file gets its own, on free loopback ports.
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryClient } from '../../src/client/gantryClient';
import { CODEC_KEYS_ENV, generateCodecKeyEntry, parseCodecKeys } from '../../src/codec/codecKeys';
import { gantryDataConverter } from '../../src/codec/dataConverter';
import { EncryptionCodec } from '../../src/codec/encryptionCodec';
import { startDevServer, type DevServer } from '../../src/local/temporalDevServer';
import { PROJECT_ROOT } from '../../src/local/tools';
import type { PolicySource } from '../../src/policy/policySource';
import { createWorker } from '../../src/worker/createWorker';
import type { WorkerDeployment } from '../../src/worker/workerDeployment';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { testPolicy } from './pipelineFile';

export interface Stack {
  server: DevServer;
  gantry: GantryClient;
  taskQueue: string;
  dir: string;
  /** The payload keys ($GANTRY_CODEC_KEYS form) the stack's worker, client and CLI encrypt with. */
  /** Empty for an unencrypted stack (recording the plain reference histories). */
  codecKeys: string;
  /** A payload from raw history as the client sees it: decrypted and converted back to a value. */
  decode(payload: Payload): Promise<unknown>;
  /** A worker in this process; codecKeys overrides the stack's keys (key rotation tests); deployment and bundle make a versioned build (upgrade tests). */
  startWorker(options?: WorkerChoice): Promise<{ stop(): Promise<void> }>;
  /** Stops the server (SIGKILL when crash is set) and starts it again on the same port and SQLite file. */
  restartServer(crash?: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerChoice {
  codecKeys?: string;
  deployment?: WorkerDeployment;
  workflowBundle?: WorkflowBundleWithSourceMap;
}

let runtimeInstalled = false;

/** Every stack encrypts its payloads, as an installation with a key does; codecKeys picks the keys, '' turns encryption off. */
export async function startStack(
  options: { taskQueue?: string; worker?: boolean; policy?: PolicySource; codecKeys?: string } = {},
): Promise<Stack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gantry-it-'));
  const taskQueue = options.taskQueue ?? 'gantry-it';
  const [server, bundle] = await Promise.all([
    startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') }),
    sharedBundle(),
  ]);
  const codecKeys = options.codecKeys ?? generateCodecKeyEntry('test-key');
  const keyring = codecKeys ? parseCodecKeys(codecKeys, 'test keys') : undefined;
  const dataConverter = gantryDataConverter(keyring);
  const gantry = await GantryClient.connect({
    connectionOptions: { address: server.address },
    namespace: 'default',
    taskQueue,
    dataConverter,
  });
  const workers: Array<{ stop(): Promise<void> }> = [];
  const startWorker = async (workerOptions: WorkerChoice = {}) => {
    const connection = await NativeConnection.connect({ address: server.address });
    const workerConverter = workerOptions.codecKeys
      ? gantryDataConverter(parseCodecKeys(workerOptions.codecKeys, 'test keys'))
      : dataConverter;
    const worker: Worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      workflowBundle: workerOptions.workflowBundle ?? bundle,
      dataDir: dir,
      dataConverter: workerConverter,
      policy: options.policy ?? testPolicy,
      deployment: workerOptions.deployment,
    });
    const running = worker.run();
    const handle = {
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await connection.close();
      },
    };
    workers.push(handle);
    return handle;
  };
  if (options.worker !== false) await startWorker();
  const stack: Stack = {
    server,
    gantry,
    taskQueue,
    dir,
    codecKeys,
    async decode(payload) {
      const [plain] = keyring ? await new EncryptionCodec(keyring).decode([payload]) : [payload];
      return defaultPayloadConverter.fromPayload(plain);
    },
    startWorker,
    async restartServer(crash = false) {
      await stack.server.stop(crash);
      stack.server = await startDevServer({
        dbFile: join(dir, 'temporal.db'),
        logFile: join(dir, 'temporal.log'),
        port: stack.server.port,
      });
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      await gantry.close();
      await stack.server.stop();
    },
  };
  return stack;
}

let bundlePromise: Promise<WorkflowBundleWithSourceMap> | undefined;
function sharedBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundlePromise ??= bundleGantryWorkflows(); // the bundle `gantry worker` runs
  return bundlePromise;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `gantry` CLI as a user would, against the stack's server. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = PROJECT_ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'gantry'), ...args],
      { cwd, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export function cliEnv(stack: Stack): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: stack.server.address,
    TEMPORAL_NAMESPACE: 'default',
    GANTRY_TASK_QUEUE: stack.taskQueue,
    [CODEC_KEYS_ENV]: stack.codecKeys,
  };
}
