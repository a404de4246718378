// What approve, reject and override-freeze check on the caller's machine before they contact
// Temporal (besides the key, cliContext's readableKey): the pipeline has the environment named.
// A typo then exits 2 at once instead of becoming a refusal in the promotion's history.
import type { GantryConfig } from '../config/configTypes';
import { CliError, EXIT } from './exitCodes';

export function requireEnvironment(config: GantryConfig, app: string, environment: string): void {
  const known = config.apps[app];
  if (!known) throw new CliError(`unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`, EXIT.badInput);
  const names = (known.environments ?? config.environments ?? []).map((e) => e.name);
  if (!names.includes(environment)) throw new CliError(`${app} has no environment "${environment}" (gantry.yaml defines: ${names.join(', ')})`, EXIT.badInput);
}
