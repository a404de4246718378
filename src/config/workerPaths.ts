// Relative paths in gantry.yaml (a command gate's cwd, kubeconfigs) are resolved where the activity
// runs, on the worker, not where `gantry start` ran: CI's checkout and a worker's disk differ.
import { isAbsolute, resolve } from 'node:path';

/** The folder a worker resolves relative paths against: $GANTRY_WORKDIR, else its working directory. */
export const WORKDIR_ENV = 'GANTRY_WORKDIR';

export function workerBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[WORKDIR_ENV] || process.cwd();
}

export function resolveOnWorker(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return isAbsolute(path) ? path : resolve(workerBaseDir(env), path);
}
