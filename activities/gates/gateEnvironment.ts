// The environment a command gate runs with: PATH and HOME, Gantry's own GANTRY_* variables for the
// promotion, and what the pipeline lists, nothing else. The worker's Temporal credentials, codec
// keys and every other variable stay with the worker; a secret the gate needs is named in the
// pipeline (`env: { TOKEN: { fromEnv: STAGING_TOKEN } }`) and read here, on the worker.
import type { CommandGate } from '../../src/pipeline/types';
import type { GateRequest } from '../types';

const INHERITED = ['PATH', 'HOME'];

/** A `fromEnv` reference the worker cannot satisfy; the gate fails with this message. */
export class GateEnvironmentError extends Error {
  name = 'GateEnvironmentError';
}

export function commandGateEnvironment(
  gate: CommandGate,
  request: GateRequest,
  workerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = workerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(gate.env)) {
    if (typeof value === 'string') {
      env[name] = value;
      continue;
    }
    const fromWorker = workerEnv[value.fromEnv];
    if (fromWorker === undefined)
      throw new GateEnvironmentError(
        `env ${name}: ${value.fromEnv} is not set on this worker (the pipeline reads it with fromEnv)`,
      );
    env[name] = fromWorker;
  }
  return {
    ...env,
    GANTRY_APP: request.app,
    GANTRY_DIGEST: request.digest,
    GANTRY_ENVIRONMENT: request.environment,
    ...(gate.environmentUrl ? { GANTRY_ENV_URL: gate.environmentUrl } : {}),
  };
}
