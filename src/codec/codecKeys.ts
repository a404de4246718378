// The keys that encrypt Gantry's payloads: read from a file ($GANTRY_CODEC_KEYS_FILE) or from an
// environment variable ($GANTRY_CODEC_KEYS), never from gantry.yaml, so no key reaches history.
// One key per entry, "<id>:<base64 of 32 bytes>"; the first encrypts, all of them decrypt, so
// payloads written under a retired key stay readable after a rotation.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface CodecKeyring {
  /** Encrypts every new payload. */
  current: CodecKey;
  /** Every key by id, the current one included. */
  byId: ReadonlyMap<string, Buffer>;
}

export const CODEC_KEYS_ENV = 'GANTRY_CODEC_KEYS';
export const CODEC_KEYS_FILE_ENV = 'GANTRY_CODEC_KEYS_FILE';

/** A key configuration that cannot be used; says where and what is wrong. */
export class CodecKeyError extends Error {
  name = 'CodecKeyError';
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses "<id>:<base64>" entries separated by newlines or commas; blank lines and # comments are skipped. */
export function parseCodecKeys(text: string, source: string): CodecKeyring {
  const keys: CodecKey[] = [];
  const byId = new Map<string, Buffer>();
  // Comments end at the line's end, so they are cut before lines are split at commas.
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((e) => e.trim())
    .filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon).trim() : '';
    if (!KEY_ID.test(id))
      throw new CodecKeyError(
        `${source}: entry ${i + 1} must be "<key id>:<base64 key>" with an id of letters, digits, ".", "_" or "-"`,
      );
    const material = entry.slice(colon + 1).trim();
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
      throw new CodecKeyError(
        `${source}: key "${id}" must be 32 bytes in base64 (make one with \`openssl rand -base64 32\`)`,
      );
    }
    if (byId.has(id)) throw new CodecKeyError(`${source}: key id "${id}" appears twice`);
    byId.set(id, key);
    keys.push({ id, key });
  }
  if (keys.length === 0)
    throw new CodecKeyError(`${source}: no keys (expected "<key id>:<base64 key>" entries, the first one encrypts)`);
  return { current: keys[0], byId };
}

/** The keyring configured in env, or undefined when none is (payloads are then stored unencrypted). */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeyring | undefined {
  const file = env[CODEC_KEYS_FILE_ENV];
  const inline = env[CODEC_KEYS_ENV];
  if (file && inline) throw new CodecKeyError(`set ${CODEC_KEYS_FILE_ENV} or ${CODEC_KEYS_ENV}, not both`);
  if (inline) return parseCodecKeys(inline, `$${CODEC_KEYS_ENV}`);
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CodecKeyError(`cannot read ${CODEC_KEYS_FILE_ENV} ${file}: ${(err as Error).message}`);
  }
  return parseCodecKeys(text, file);
}

/** A fresh key entry, "<id>:<base64>", for a key file or $GANTRY_CODEC_KEYS. */
export function generateCodecKeyEntry(
  id = `key-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`,
): string {
  if (!KEY_ID.test(id)) throw new CodecKeyError(`key id "${id}" must be letters, digits, ".", "_" or "-" (at most 64)`);
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** The key file at path, made with one fresh key (mode 0600) when it does not exist yet: for the demo. */
export function loadOrCreateCodecKeyFile(path: string): CodecKeyring {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(
      path,
      `# Gantry payload keys: the first encrypts, all decrypt. Keep this file secret.\n${generateCodecKeyEntry()}\n`,
      { flag: 'wx', mode: 0o600 },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return codecKeysFromEnv({ [CODEC_KEYS_FILE_ENV]: path })!;
}
