/**
 * SSHSIG signatures (OpenSSH PROTOCOL.sshsig), the format of `ssh-keygen -Y sign` / `-Y verify`.
 *
 *   armored:   -----BEGIN SSH SIGNATURE----- / base64 wrapped at 70 columns / -----END SSH SIGNATURE-----
 *   blob:      byte[6] "SSHSIG" | uint32 version=1 | string publickey | string namespace
 *              | string reserved | string hash_algorithm | string signature
 *   signed:    byte[6] "SSHSIG" | string namespace | string reserved="" | string hash_algorithm
 *              | string H(message)
 *   signature: string "ssh-ed25519" | string ed25519-signature(signed)   (64 bytes)
 *
 * Native signing and verification use node:crypto only. signWithSshKeygen delegates to the real
 * ssh-keygen for keys we do not read ourselves (passphrase-protected keys, keys held by ssh-agent).
 */
import { spawnSync } from 'node:child_process';
import { createHash, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ED25519,
  blobKeyType,
  ed25519PublicKeyObject,
  ed25519RawFromBlob,
  parseSshPublicKey,
  readOpenSshPrivateKeyFile,
  sshFingerprint,
  sshPublicKeyLine,
} from './sshKeys';
import { SshReader, SshWireError, sshString, u32 } from './sshWire';

export const DEFAULT_SIGNATURE_NAMESPACE = 'gantry-approval';
export const SSHSIG_BEGIN = '-----BEGIN SSH SIGNATURE-----';
export const SSHSIG_END = '-----END SSH SIGNATURE-----';
const MAGIC = Buffer.from('SSHSIG', 'latin1');
const SIG_VERSION = 1;
/** Hash algorithms PROTOCOL.sshsig allows; ssh-keygen signs with sha512 by default. */
const HASH_ALGORITHMS = ['sha512', 'sha256'] as const;
type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export type SshVerifyResult = { ok: true; publicKey: string; fingerprint: string } | { ok: false; reason: string };

export interface ParsedSshSignature {
  version: number;
  publicKeyBlob: Buffer;
  publicKeyType: string;
  namespace: string;
  hashAlgorithm: string;
  signatureType: string;
  signature: Buffer;
}

export class MalformedSshSignatureError extends Error {}

function toBytes(message: string | Uint8Array): Buffer {
  return typeof message === 'string' ? Buffer.from(message, 'utf8') : Buffer.from(message);
}

function checkNamespace(namespace: string): void {
  if (!namespace) throw new Error('SSH signature namespace must not be empty');
}

/** The blob that is actually signed: magic, namespace, reserved, hash algorithm, H(message). */
export function sshsigSignedData(
  message: string | Uint8Array,
  namespace: string,
  hashAlgorithm: HashAlgorithm = 'sha512',
): Buffer {
  const digest = createHash(hashAlgorithm).update(toBytes(message)).digest();
  return Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(hashAlgorithm), sshString(digest)]);
}

export function armorSshSignature(blob: Buffer): string {
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `${SSHSIG_BEGIN}\n${lines.join('\n')}\n${SSHSIG_END}\n`;
}

/** Decodes the armor and parses the SSHSIG blob. Throws MalformedSshSignatureError. */
export function parseSshSignature(armored: string): ParsedSshSignature {
  const text = armored.replace(/\r\n/g, '\n').trim();
  if (!text.startsWith(SSHSIG_BEGIN)) throw new MalformedSshSignatureError(`missing "${SSHSIG_BEGIN}" header`);
  const endAt = text.indexOf(SSHSIG_END);
  if (endAt < 0) throw new MalformedSshSignatureError(`missing "${SSHSIG_END}" footer`);
  if (text.slice(endAt + SSHSIG_END.length).trim() !== '')
    throw new MalformedSshSignatureError('unexpected text after the signature footer');
  const b64 = text.slice(SSHSIG_BEGIN.length, endAt).replace(/\s+/g, '');
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new MalformedSshSignatureError('armor does not contain valid base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) throw new MalformedSshSignatureError('armor does not contain valid base64');
  try {
    const r = new SshReader(blob, 'SSHSIG');
    const magic = r.bytes(MAGIC.length);
    if (!magic.equals(MAGIC)) throw new MalformedSshSignatureError('bad magic preamble (expected "SSHSIG")');
    const version = r.u32();
    const publicKeyBlob = r.string();
    const namespace = r.text();
    r.string(); // reserved: ignored, as OpenSSH does
    const hashAlgorithm = r.text();
    const sigBlob = r.string();
    r.expectEnd();
    const publicKeyType = blobKeyType(publicKeyBlob);
    const s = new SshReader(sigBlob, 'SSHSIG signature');
    const signatureType = s.text();
    const signature = s.string();
    s.expectEnd();
    return { version, publicKeyBlob, publicKeyType, namespace, hashAlgorithm, signatureType, signature };
  } catch (err) {
    if (err instanceof SshWireError) throw new MalformedSshSignatureError(err.message);
    throw err;
  }
}

function encodeSshsig(publicKeyBlob: Buffer, namespace: string, hashAlgorithm: string, signatureBlob: Buffer): Buffer {
  return Buffer.concat([
    MAGIC,
    u32(SIG_VERSION),
    sshString(publicKeyBlob),
    sshString(namespace),
    sshString(''),
    sshString(hashAlgorithm),
    sshString(signatureBlob),
  ]);
}

/**
 * Signs `message` with an unencrypted OpenSSH ed25519 private key file, natively (no process spawn).
 * The output is byte-identical to `ssh-keygen -Y sign -n <namespace> -f <key>` (Ed25519 is deterministic).
 */
export function signWithSshKey(
  message: string | Uint8Array,
  privateKeyPath: string,
  namespace = DEFAULT_SIGNATURE_NAMESPACE,
): string {
  checkNamespace(namespace);
  const key = readOpenSshPrivateKeyFile(privateKeyPath);
  const signature = cryptoSign(null, sshsigSignedData(message, namespace, 'sha512'), key.privateKey);
  const signatureBlob = Buffer.concat([sshString(ED25519), sshString(signature)]);
  return armorSshSignature(encodeSshsig(key.publicBlob, namespace, 'sha512', signatureBlob));
}

export interface SshKeygenSignOptions {
  /** Passphrase for an encrypted private key; handed to ssh-keygen through a one-shot SSH_ASKPASS helper
   *  (the passphrase travels in that child's environment only). */
  passphrase?: string;
  /** Defaults to "ssh-keygen" on PATH. */
  sshKeygenPath?: string;
  /** Environment for ssh-keygen (e.g. SSH_AUTH_SOCK to sign with a key held by ssh-agent); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Signs by delegating to `ssh-keygen -Y sign -n <namespace> -f <keyPath> <file>`. `keyPath` may be
 * a private key (encrypted ones need `passphrase`, or a terminal to prompt on) or, with SSH_AUTH_SOCK
 * in `env`, the public key of a key held by ssh-agent. The message goes through a private temporary
 * file, so stdin stays free and a passphrase prompt can never swallow the message.
 */
export function signWithSshKeygen(
  message: string | Uint8Array,
  keyPath: string,
  namespace = DEFAULT_SIGNATURE_NAMESPACE,
  options: SshKeygenSignOptions = {},
): string {
  checkNamespace(namespace);
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  const dir = mkdtempSync(join(tmpdir(), 'gantry-sshsig-'));
  try {
    const messageFile = join(dir, 'message');
    writeFileSync(messageFile, toBytes(message), { mode: 0o600 });
    if (options.passphrase !== undefined) {
      const script = join(dir, 'askpass.sh');
      writeFileSync(script, '#!/bin/sh\nprintf \'%s\\n\' "$GANTRY_SSH_KEY_PASSPHRASE"\n', { mode: 0o700 });
      chmodSync(script, 0o700);
      env.SSH_ASKPASS = script;
      env.SSH_ASKPASS_REQUIRE = 'force';
      env.GANTRY_SSH_KEY_PASSPHRASE = options.passphrase;
    }
    const result = spawnSync(
      options.sshKeygenPath ?? 'ssh-keygen',
      ['-Y', 'sign', '-n', namespace, '-f', keyPath, messageFile],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 30_000,
      },
    );
    if (result.error) throw new Error(`ssh-keygen -Y sign failed to run: ${result.error.message}`);
    let signature = '';
    try {
      signature = readFileSync(`${messageFile}.sig`, 'utf8');
    } catch {
      // reported below
    }
    if (result.status !== 0 || !signature.includes(SSHSIG_BEGIN)) {
      const stderr = result.stderr
        .toString('utf8')
        .replace(/^Signing file .*$/m, '')
        .trim();
      throw new Error(
        `ssh-keygen -Y sign exited with ${result.status ?? result.signal}: ${stderr || 'no signature produced'}`,
      );
    }
    return signature;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Verifies an armored SSHSIG over `message`, natively (node:crypto only, no process spawn).
 * `allowedPublicKeys` are public key lines ("ssh-ed25519 AAAA... comment"); only ssh-ed25519 keys
 * are accepted, other key types are ignored and named in the failure reason.
 */
export function verifySshSignature(
  message: string | Uint8Array,
  armoredSignature: string,
  allowedPublicKeys: readonly string[],
  namespace = DEFAULT_SIGNATURE_NAMESPACE,
): SshVerifyResult {
  let sig: ParsedSshSignature;
  try {
    sig = parseSshSignature(armoredSignature);
  } catch (err) {
    return { ok: false, reason: `malformed signature: ${(err as Error).message}` };
  }
  if (sig.version !== SIG_VERSION) {
    return {
      ok: false,
      reason: `malformed signature: unsupported SSHSIG version ${sig.version} (expected ${SIG_VERSION})`,
    };
  }
  if (sig.namespace !== namespace) {
    return {
      ok: false,
      reason: `namespace mismatch: signature is for namespace "${sig.namespace}", expected "${namespace}"`,
    };
  }
  if (!(HASH_ALGORITHMS as readonly string[]).includes(sig.hashAlgorithm)) {
    return {
      ok: false,
      reason: `unsupported hash algorithm "${sig.hashAlgorithm}" (expected ${HASH_ALGORITHMS.join(' or ')})`,
    };
  }
  const fingerprint = sshFingerprint(sig.publicKeyBlob);

  const usable: string[] = [];
  const ignored: string[] = [];
  let allowed = false;
  for (const line of allowedPublicKeys) {
    let key;
    try {
      key = parseSshPublicKey(line);
    } catch (err) {
      ignored.push(`unparseable key: ${(err as Error).message}`);
      continue;
    }
    if (key.type !== ED25519) {
      ignored.push(`${key.type} ${key.fingerprint}`);
      if (key.blob.equals(sig.publicKeyBlob)) {
        return {
          ok: false,
          reason: `signed with a ${key.type} key (${fingerprint}); only ${ED25519} keys are supported for approvals`,
        };
      }
      continue;
    }
    usable.push(key.fingerprint);
    if (key.blob.equals(sig.publicKeyBlob)) allowed = true;
  }
  if (!allowed) {
    const notes = [usable.length ? `allowed: ${usable.join(', ')}` : `no ${ED25519} key is allowed`];
    if (ignored.length) notes.push(`ignored ${ignored.length} unsupported allowed key(s): ${ignored.join('; ')}`);
    return { ok: false, reason: `signed by a key not allowed for this approver (${fingerprint}); ${notes.join('; ')}` };
  }
  if (sig.publicKeyType !== ED25519) {
    return {
      ok: false,
      reason: `signed with a ${sig.publicKeyType} key (${fingerprint}); only ${ED25519} keys are supported`,
    };
  }
  if (sig.signatureType !== ED25519 || sig.signature.length !== 64) {
    return {
      ok: false,
      reason: `malformed signature: ${sig.signatureType} signature of ${sig.signature.length} bytes for an ${ED25519} key`,
    };
  }
  let good: boolean;
  try {
    const publicKey = ed25519PublicKeyObject(ed25519RawFromBlob(sig.publicKeyBlob));
    good = cryptoVerify(
      null,
      sshsigSignedData(message, namespace, sig.hashAlgorithm as HashAlgorithm),
      publicKey,
      sig.signature,
    );
  } catch (err) {
    return { ok: false, reason: `malformed signature: ${(err as Error).message}` };
  }
  if (!good)
    return { ok: false, reason: `signature does not verify: message or signature was altered (key ${fingerprint})` };
  return { ok: true, publicKey: sshPublicKeyLine(sig.publicKeyBlob), fingerprint };
}
