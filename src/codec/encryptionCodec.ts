// AES-256-GCM payload codec: every payload Gantry writes to Temporal (workflow input with the
// resolved pipeline, activity arguments and results, update and query answers) is stored encrypted.
// The key id travels in the payload's metadata so any key of the keyring can open it; payloads
// without the encrypted encoding (histories recorded before encryption) pass through unchanged.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CodecKeyring } from './codecKeys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PayloadProto = temporal.api.common.v1.Payload;

/** A payload that cannot be decrypted with the keys at hand (unknown key id, tampered or corrupt data). */
export class PayloadDecryptionError extends Error {
  name = 'PayloadDecryptionError';
}

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys.current;
    return payloads.map((payload) => ({
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) },
      data: seal(key, id, PayloadProto.encode(payload).finish()),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = text(payload.metadata?.[KEY_ID_METADATA]);
      const key = this.keys.byId.get(id);
      if (!key)
        throw new PayloadDecryptionError(
          `payload encrypted with key "${id}", which this process does not have (keys: ${[...this.keys.byId.keys()].join(', ')})`,
        );
      return PayloadProto.decode(open(key, id, payload.data ?? new Uint8Array()));
    });
  }
}

/** iv | ciphertext | tag, with the key id as additional data so a payload cannot be relabelled. */
function seal(key: Buffer, id: string, plain: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(id));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, id: string, sealed: Uint8Array): Uint8Array {
  const bytes = Buffer.from(sealed);
  if (bytes.length < IV_BYTES + TAG_BYTES)
    throw new PayloadDecryptionError(`encrypted payload (key "${id}") is too short to be one`);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadDecryptionError(
      `encrypted payload (key "${id}") does not authenticate: wrong key or altered data`,
    );
  }
}

function text(bytes: Uint8Array | null | undefined): string {
  return bytes ? Buffer.from(bytes).toString() : '';
}
