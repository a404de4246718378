// A real Temporal dev server (SQLite file in a temp folder) with an in-process Gantry worker and a
// client, for integration tests. Every test file gets its own, on free loopback ports.
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryClient } from '../../src/client/gantryClient';
import { startDevServer, type DevServer } from '../../src/local/temporalDevServer';
import { PROJECT_ROOT } from '../../src/local/tools';
import type { PolicySource } from '../../src/policy/policySource';
import { createWorker } from '../../src/worker/createWorker';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { testPolicy } from './pipelineFile';

export interface Stack {
  server: DevServer;
  gantry: GantryClient;
  taskQueue: string;
  dir: string;
  startWorker(): Promise<{ stop(): Promise<void> }>;
  /** Stops the server (SIGKILL when crash is set) and starts it again on the same port and SQLite file. */
  restartServer(crash?: boolean): Promise<void>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startStack(options: { taskQueue?: string; worker?: boolean; policy?: PolicySource } = {}): Promise<Stack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gantry-it-'));
  const taskQueue = options.taskQueue ?? 'gantry-it';
  const [server, bundle] = await Promise.all([startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') }), sharedBundle()]);
  const gantry = await GantryClient.connect({ connectionOptions: { address: server.address }, namespace: 'default', taskQueue });
  const workers: Array<{ stop(): Promise<void> }> = [];
  const startWorker = async () => {
    const connection = await NativeConnection.connect({ address: server.address });
    const worker: Worker = await createWorker({ connection, namespace: 'default', taskQueue, workflowBundle: bundle, dataDir: dir, policy: options.policy ?? testPolicy });
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
    startWorker,
    async restartServer(crash = false) {
      await stack.server.stop(crash);
      stack.server = await startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log'), port: stack.server.port });
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
  return { TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default', GANTRY_TASK_QUEUE: stack.taskQueue };
}
