// What approve, reject and override-freeze check on the caller's machine before they contact
// Temporal (besides the key, cliContext's readableKey): the pipeline has the environment named.
// A typo then exits 2 at once instead of becoming a refusal in the promotion's history.
import { existsSync } from 'node:fs';
import type { GantryConfig } from '../config/configTypes';
import { readConfig, type GlobalOptions } from './cliContext';
import { CliError, EXIT } from './exitCodes';

/**
 * The pipeline to check the environment against: the one named with -c or GANTRY_CONFIG (which
 * must then be readable), or ./gantry.yaml where there is one. An approver without a pipeline
 * file at hand is not stopped; the promotion still refuses an unknown environment.
 */
export async function pipelineForChecks(options: GlobalOptions): Promise<GantryConfig | undefined> {
  const named = options.config !== 'gantry.yaml' || process.env.GANTRY_CONFIG !== undefined;
  return named || existsSync(options.config) ? readConfig(options) : undefined;
}

export function requireEnvironment(config: GantryConfig | undefined, app: string, environment: string): void {
  if (!config) return;
  const known = config.apps[app];
  if (!known)
    throw new CliError(
      `unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
      EXIT.badInput,
    );
  const names = (known.environments ?? config.environments ?? []).map((e) => e.name);
  if (!names.includes(environment))
    throw new CliError(
      `${app} has no environment "${environment}" (gantry.yaml defines: ${names.join(', ')})`,
      EXIT.badInput,
    );
}
