// Gate `command`: runs a command (integration tests, a smoke script) against the environment.
// Exit 0 passes. It sees only a minimal environment (gateEnvironment.ts) with the environment's
// URL and the artifact; a relative cwd is resolved on this worker. The output's tail is kept for
// `gantry status`. The whole process group is killed on timeout or cancellation.
import { Context } from '@temporalio/activity';
import { spawn } from 'node:child_process';
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import type { CommandGate } from '../../src/pipeline/types';
import { formatDuration } from '../../src/pipeline/duration';
import { resolveOnWorker } from '../../src/config/workerPaths';
import type { GateRequest } from '../types';
import { commandGateEnvironment, GateEnvironmentError } from './gateEnvironment';

const OUTPUT_TAIL_CHARS = 4000;

export async function runCommandGate(gate: CommandGate, request: GateRequest): Promise<GateOutcome> {
  const ctx = Context.current();
  let env: Record<string, string>;
  try {
    env = commandGateEnvironment(gate, request);
  } catch (err) {
    if (err instanceof GateEnvironmentError) return { name: gate.name, passed: false, detail: err.message };
    throw err;
  }
  const child = spawn('/bin/sh', ['-c', gate.run], {
    cwd: resolveOnWorker(gate.cwd ?? '.'),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, gate.timeoutMs);
  const beat = setInterval(() => ctx.heartbeat(), 5_000);
  ctx.cancellationSignal.addEventListener('abort', killGroup);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c));
    });
    const tail = output.trim();
    if (timedOut)
      return {
        name: gate.name,
        passed: false,
        detail: `timed out after ${formatDuration(gate.timeoutMs)}\n${tail}`.trim(),
      };
    ctx.cancellationSignal.throwIfAborted();
    return code === 0
      ? { name: gate.name, passed: true, detail: tail || 'exit 0' }
      : { name: gate.name, passed: false, detail: `exit ${code}\n${tail}`.trim() };
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    ctx.cancellationSignal.removeEventListener('abort', killGroup);
  }
}
