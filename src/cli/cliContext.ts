// What every command shares: where gantry.yaml is, how to reach Temporal, how to print.
// The Temporal client and the config loader (Ajv, yaml) are imported when a command first needs
// them: loaded up front they cost every `gantry --help` a few hundred milliseconds.
import { readFileSync } from 'node:fs';
import type { GantryClient } from '../client/gantryClient';
import type { ConnectionSettings } from '../client/connectionSettings';
import type { GantryConfig } from '../config/configTypes';
import { CliError, EXIT } from './exitCodes';

export interface GlobalOptions {
  config: string;
}

export async function readConfig(options: GlobalOptions): Promise<GantryConfig> {
  const [{ loadConfig }, { ConfigError }] = await Promise.all([
    import('../config/loadConfig.js'),
    import('../config/configError.js'),
  ]);
  try {
    return loadConfig(options.config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.badInput);
    throw err;
  }
}

export async function withClient<T>(run: (gantry: GantryClient) => Promise<T>): Promise<T> {
  let gantry: GantryClient;
  const settings = await cliConnectionSettings();
  const { GantryClient } = await import('../client/gantryClient.js');
  try {
    gantry = await GantryClient.connect(settings);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.unavailable);
  }
  try {
    return await run(gantry);
  } finally {
    await gantry.close();
  }
}

/** Where Temporal is and which payload keys to use; a broken key configuration is bad input. */
export async function cliConnectionSettings(): Promise<ConnectionSettings> {
  const [{ connectionSettings }, { CodecKeyError }] = await Promise.all([
    import('../client/connectionSettings.js'),
    import('../codec/codecKeys.js'),
  ]);
  try {
    return connectionSettings();
  } catch (err) {
    if (err instanceof CodecKeyError) throw new CliError(err.message, EXIT.badInput);
    throw err;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A key file given with --key must be a readable SSH private key before anything is sent. */
export function readableKey(path: string, flag: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the key given with ${flag}: ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.badInput,
    );
  }
  if (!/-----BEGIN (OPENSSH PRIVATE|PRIVATE|ENCRYPTED PRIVATE) KEY-----/.test(text)) {
    throw new CliError(
      `the key given with ${flag} is not an SSH private key: ${path} (expected an OpenSSH ed25519 key such as ~/.ssh/id_ed25519)`,
      EXIT.badInput,
    );
  }
}

/** A required option that commander checked for presence but not for content. */
export function requireText(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new CliError(`${flag} must not be empty`, EXIT.badInput);
  return value.trim();
}
