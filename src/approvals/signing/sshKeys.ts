/**
 * SSH key handling with node:crypto only: public key lines ("ssh-ed25519 AAAA... comment"),
 * SHA256 fingerprints as `ssh-keygen -l` prints them, and unencrypted OpenSSH private key files
 * ("-----BEGIN OPENSSH PRIVATE KEY-----", the openssh-key-v1 format of PROTOCOL.key).
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SshReader, SshWireError, sshString } from './sshWire';

export const ED25519 = 'ssh-ed25519';

export interface SshPublicKey {
  /** Key type from the line, e.g. "ssh-ed25519" or "ssh-rsa". */
  type: string;
  /** The public key blob (the base64-decoded second field). */
  blob: Buffer;
  comment: string;
  /** "SHA256:..." as printed by `ssh-keygen -l`. */
  fingerprint: string;
}

/** "SHA256:<unpadded base64 of sha256(blob)>", identical to `ssh-keygen -l -E sha256`. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob. */
export function blobKeyType(blob: Buffer): string {
  return new SshReader(blob, 'public key').text();
}

/** "type base64 [comment]" for a public key blob. */
export function sshPublicKeyLine(blob: Buffer, comment = ''): string {
  const line = `${blobKeyType(blob)} ${blob.toString('base64')}`;
  return comment ? `${line} ${comment}` : line;
}

/**
 * Parses one public key line: "ssh-ed25519 AAAA... [comment]". Throws on anything that is not a
 * well-formed key of the type it claims (the type inside the blob must match the first field).
 */
export function parseSshPublicKey(line: string): SshPublicKey {
  const trimmed = line.trim();
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(trimmed);
  if (!m) throw new Error(`not an SSH public key line: "${abbreviate(trimmed)}"`);
  const [, type, b64, comment = ''] = m;
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) throw new Error(`invalid base64 in SSH public key "${abbreviate(trimmed)}"`);
  let inner: string;
  try {
    inner = blobKeyType(blob);
  } catch (err) {
    throw new Error(`malformed SSH public key blob: ${(err as Error).message}`);
  }
  if (inner !== type) throw new Error(`SSH public key says "${type}" but its blob is "${inner}"`);
  if (type === ED25519) ed25519RawFromBlob(blob); // validates length and shape
  return { type, blob, comment, fingerprint: sshFingerprint(blob) };
}

/** The 32 raw public key bytes of an ssh-ed25519 blob. */
export function ed25519RawFromBlob(blob: Buffer): Buffer {
  const r = new SshReader(blob, 'ssh-ed25519 public key');
  const type = r.text();
  if (type !== ED25519) throw new SshWireError(`expected ${ED25519} key, got ${type}`);
  const raw = r.string();
  r.expectEnd();
  if (raw.length !== 32) throw new SshWireError(`ssh-ed25519 public key must be 32 bytes, got ${raw.length}`);
  return raw;
}

export function ed25519BlobFromRaw(raw: Buffer): Buffer {
  return Buffer.concat([sshString(ED25519), sshString(raw)]);
}

export function ed25519PublicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The 32 raw bytes of an Ed25519 node:crypto public key. */
export function ed25519RawFromKeyObject(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new Error(`expected an ed25519 key, got ${pub.asymmetricKeyType}`);
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('ed25519 key without public part');
  return Buffer.from(jwk.x, 'base64url');
}

export interface OpenSshPrivateKey {
  type: string;
  /** The SSH public key blob. */
  publicBlob: Buffer;
  privateKey: KeyObject;
  comment: string;
  fingerprint: string;
}

const OPENSSH_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const OPENSSH_END = '-----END OPENSSH PRIVATE KEY-----';
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** Thrown for passphrase-protected keys: sign those with signWithSshKeygen (or through ssh-agent). */
export class EncryptedSshKeyError extends Error {}

export function readOpenSshPrivateKeyFile(path: string): OpenSshPrivateKey {
  return parseOpenSshPrivateKey(readFileSync(path, 'utf8'), path);
}

/** Parses an unencrypted openssh-key-v1 file holding one ssh-ed25519 key. */
export function parseOpenSshPrivateKey(text: string, source = 'private key'): OpenSshPrivateKey {
  const begin = text.indexOf(OPENSSH_BEGIN);
  const end = text.indexOf(OPENSSH_END);
  if (begin < 0 || end < begin) {
    throw new Error(
      `${source}: not an OpenSSH private key (expected "${OPENSSH_BEGIN}"; PEM/PKCS#8 keys are not supported, convert with ssh-keygen -p -o)`,
    );
  }
  const b64 = text.slice(begin + OPENSSH_BEGIN.length, end).replace(/\s+/g, '');
  const raw = Buffer.from(b64, 'base64');
  if (!raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC))
    throw new Error(`${source}: missing openssh-key-v1 magic`);
  try {
    const r = new SshReader(raw.subarray(OPENSSH_MAGIC.length), source);
    const cipher = r.text();
    const kdf = r.text();
    r.string(); // kdf options
    if (cipher !== 'none' || kdf !== 'none') {
      throw new EncryptedSshKeyError(
        `${source} is passphrase-protected (cipher ${cipher}); sign with signWithSshKeygen (passphrase or ssh-agent) instead`,
      );
    }
    const count = r.u32();
    if (count !== 1) throw new Error(`${source}: expected exactly one key, found ${count}`);
    const publicBlob = r.string();
    const priv = new SshReader(r.string(), `${source} private section`);
    r.expectEnd();
    const check1 = priv.u32();
    const check2 = priv.u32();
    if (check1 !== check2) throw new Error(`${source}: check integers differ (corrupt key)`);
    const type = priv.text();
    if (type !== ED25519)
      throw new Error(
        `${source}: key type ${type} is not supported for native signing (only ${ED25519}); use signWithSshKeygen`,
      );
    const pub = priv.string();
    const secret = priv.string();
    const comment = priv.text();
    // The rest is padding 1, 2, 3, ... up to the cipher block size.
    const padding = priv.bytes(priv.remaining);
    if (!padding.every((b, i) => b === i + 1)) throw new Error(`${source}: bad padding in private section`);
    if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub)) {
      throw new Error(`${source}: malformed ed25519 private key`);
    }
    if (!ed25519BlobFromRaw(pub).equals(publicBlob))
      throw new Error(`${source}: public key does not match private section`);
    const privateKey = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: secret.subarray(0, 32).toString('base64url'),
        x: pub.toString('base64url'),
      },
      format: 'jwk',
    });
    if (!ed25519RawFromKeyObject(privateKey).equals(pub))
      throw new Error(`${source}: ed25519 seed does not produce the stored public key`);
    return { type, publicBlob, privateKey, comment, fingerprint: sshFingerprint(publicBlob) };
  } catch (err) {
    if (err instanceof SshWireError) throw new Error(`${source}: malformed OpenSSH private key: ${err.message}`);
    throw err;
  }
}

function abbreviate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
