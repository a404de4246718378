// `gantry worker` as its own process, as an operator runs it: for crash tests and metrics scrapes.
// Its data (audit log and key) stays in the stack's temp folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CODEC_KEYS_ENV } from '../../src/codec/codecKeys';
import { PROJECT_ROOT } from '../../src/local/tools';
import type { Stack } from './devServerStack';
import { testPolicyFile } from './pipelineFile';

/** Resolves once the worker polls its task queue; rejects with its output if it exits first. */
export function startWorkerProcess(
  stack: Stack,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawnGantryWorker(
    {
      TEMPORAL_ADDRESS: stack.server.address,
      GANTRY_TASK_QUEUE: stack.taskQueue,
      GANTRY_DATA_DIR: join(stack.dir, 'worker-data'),
      [CODEC_KEYS_ENV]: stack.codecKeys,
      ...env,
    },
    args,
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('gantry worker polling')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited ${code}:\n${output}`)));
  });
}

/** `gantry worker` under the tests' policy, its output piped; the caller decides what to wait for. */
export function spawnGantryWorker(env: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'bin', 'gantry'),
      'worker',
      '--no-register-search-attributes',
      '--policy',
      testPolicyFile(),
      ...args,
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
