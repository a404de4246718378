// What approve, reject and override-freeze check on the caller's machine before they contact
// Temporal: the signing key can be read, and the pipeline has the environment named. A typo then
// exits 2 at once instead of becoming a refusal in the promotion's history.
import { readFileSync } from 'node:fs';
import type { GantryConfig } from '../config/configTypes';
import { CliError, EXIT } from './exitCodes';

export function requireSigningKey(path: string | undefined): void {
  if (path === undefined) return;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`--key ${path}: cannot read the key file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.badInput);
  }
  if (!/-----BEGIN (OPENSSH PRIVATE|PRIVATE|ENCRYPTED PRIVATE) KEY-----/.test(text)) {
    throw new CliError(`--key ${path} is not an SSH private key (expected an OpenSSH ed25519 key such as ~/.ssh/id_ed25519)`, EXIT.badInput);
  }
}

export function requireEnvironment(config: GantryConfig, app: string, environment: string): void {
  const known = config.apps[app];
  if (!known) throw new CliError(`unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`, EXIT.badInput);
  const names = (known.environments ?? config.environments ?? []).map((e) => e.name);
  if (!names.includes(environment)) throw new CliError(`${app} has no environment "${environment}" (gantry.yaml defines: ${names.join(', ')})`, EXIT.badInput);
}
