import { defaultPayloadConverter } from '@temporalio/common';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  codecKeysFromEnv,
  generateCodecKeyEntry,
  loadOrCreateCodecKeyFile,
  parseCodecKeys,
} from '../../../src/codec/codecKeys';
import { EncryptionCodec, PayloadDecryptionError } from '../../../src/codec/encryptionCodec';

const SECRET = { webhook: 'https://hooks.slack.com/services/T000/B000/very-secret', env: { TOKEN: 's3cr3t-token' } };
const oldEntry = generateCodecKeyEntry('2026-01');
const newEntry = generateCodecKeyEntry('2026-07');

test('a payload is encrypted under the current key, names it, and decodes to the same value', async () => {
  const codec = new EncryptionCodec(parseCodecKeys(`${newEntry}\n${oldEntry}`, 'keys'));
  const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(SECRET)]);
  expect(Buffer.from(encrypted.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(Buffer.from(encrypted.metadata!['encryption-key-id']!).toString()).toBe('2026-07');
  const raw = Buffer.from(encrypted.data!).toString('latin1');
  for (const s of ['hooks.slack.com', 's3cr3t-token', 'json/plain']) expect(raw).not.toContain(s);
  const [decoded] = await codec.decode([encrypted]);
  expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(SECRET);
});

test('after a rotation, payloads written under the retired key still decode; without it they do not', async () => {
  const [old] = await new EncryptionCodec(parseCodecKeys(oldEntry, 'old')).encode([
    defaultPayloadConverter.toPayload('written in January'),
  ]);
  const rotated = new EncryptionCodec(parseCodecKeys(`${newEntry},${oldEntry}`, 'rotated'));
  expect(defaultPayloadConverter.fromPayload((await rotated.decode([old]))[0])).toBe('written in January');
  const withoutOld = new EncryptionCodec(parseCodecKeys(newEntry, 'new only'));
  await expect(withoutOld.decode([old])).rejects.toThrow(
    'payload encrypted with key "2026-01", which this process does not have (keys: 2026-07)',
  );
});

test('an altered payload, or one relabelled with another key id, is refused', async () => {
  const keys = parseCodecKeys(`${newEntry}\n${oldEntry}`, 'keys');
  const codec = new EncryptionCodec(keys);
  const [p] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
  const flipped = Buffer.from(p.data!);
  flipped[20] ^= 1;
  await expect(codec.decode([{ ...p, data: flipped }])).rejects.toThrow(PayloadDecryptionError);
  const relabelled = { ...p, metadata: { ...p.metadata, 'encryption-key-id': Buffer.from('2026-01') } };
  await expect(codec.decode([relabelled])).rejects.toThrow('does not authenticate');
});

test('unencrypted payloads (histories recorded before encryption) pass through', async () => {
  const plain = defaultPayloadConverter.toPayload({ app: 'web' });
  const [decoded] = await new EncryptionCodec(parseCodecKeys(newEntry, 'keys')).decode([plain]);
  expect(decoded).toBe(plain);
});

test('keys come from $GANTRY_CODEC_KEYS or the file $GANTRY_CODEC_KEYS_FILE names; none means no encryption', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-keys-'));
  const file = join(dir, 'keys');
  writeFileSync(
    file,
    `# current first, then the retired ones\n${newEntry}\n\n${oldEntry}  # retired in July, kept for old promotions\n`,
  );
  const fromFile = codecKeysFromEnv({ GANTRY_CODEC_KEYS_FILE: file });
  expect(fromFile?.current.id).toBe('2026-07');
  expect([...fromFile!.byId.keys()]).toEqual(['2026-07', '2026-01']);
  expect(codecKeysFromEnv({ GANTRY_CODEC_KEYS: oldEntry })?.current.id).toBe('2026-01');
  expect(codecKeysFromEnv({})).toBeUndefined();
});

test('the demo makes its key file once and reads the same key afterwards', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-keys-')), 'keys', 'codec-keys');
  const first = loadOrCreateCodecKeyFile(file);
  expect(loadOrCreateCodecKeyFile(file).current).toEqual(first.current);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test.each([
  [{ GANTRY_CODEC_KEYS: 'k1:c2hvcnQ=' }, '$GANTRY_CODEC_KEYS: key "k1" must be 32 bytes in base64'],
  [{ GANTRY_CODEC_KEYS: 'no-id-here' }, '$GANTRY_CODEC_KEYS: entry 1 must be "<key id>:<base64 key>"'],
  [{ GANTRY_CODEC_KEYS: ' # only a comment' }, '$GANTRY_CODEC_KEYS: no keys'],
  [{ GANTRY_CODEC_KEYS: `${oldEntry},${oldEntry}` }, 'key id "2026-01" appears twice'],
  [{ GANTRY_CODEC_KEYS_FILE: '/nonexistent/keys' }, 'cannot read GANTRY_CODEC_KEYS_FILE /nonexistent/keys'],
  [
    { GANTRY_CODEC_KEYS_FILE: '/x', GANTRY_CODEC_KEYS: oldEntry },
    'set GANTRY_CODEC_KEYS_FILE or GANTRY_CODEC_KEYS, not both',
  ],
])('a bad key configuration is refused with a clear error: %j', (env, message) => {
  expect(() => codecKeysFromEnv(env)).toThrow(message);
});
