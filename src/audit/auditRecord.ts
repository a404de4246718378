/**
 * Audit records: one JSON line each, hash-chained and signed.
 *
 *   hash      = sha256 hex of canonicalJson(record without "hash" and "signature")
 *   prevHash  = hash of the record with seq - 1 ("0" x 64 for seq 1)
 *   signature = base64 Ed25519 signature, by the worker's audit key, over the ASCII hex `hash`
 *   keyId     = "SHA256:..." fingerprint of that key (SSH-style: sha256 of its ssh-ed25519 blob)
 *
 * The line written to the file is canonicalJson(record), so the file bytes are reproducible too.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, type JsonValue } from '../approvals/signing/canonicalJson';
import { ed25519BlobFromRaw, ed25519RawFromKeyObject, sshFingerprint } from '../approvals/signing/sshKeys';

export type { JsonValue };

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Event kinds Gantry writes; any other non-empty string is accepted too. */
export type AuditEventKind =
  | 'refused'
  | 'started'
  | 'verified'
  | 'deployed'
  | 'gate'
  | 'approval-accepted'
  | 'approval-refused'
  | 'operation'
  | 'freeze'
  | 'unfreeze'
  | 'freeze-wait'
  | 'freeze-override'
  | 'rollback-during-freeze'
  | 'migrations-planned'
  | 'migrations-applied'
  | 'canary-decision'
  | 'canary-completed'
  | 'rollback'
  | 'superseded'
  | 'drift'
  | 'drift-healed'
  | 'finished'
  | (string & {});

/** What a caller hands to AuditStore.append. */
export interface AuditEntry {
  /** Idempotency key, e.g. `${workflowId}/${runId}/${eventKey}`: appending the same id twice writes once. */
  id: string;
  workflowId: string;
  app: string;
  digest: string;
  environment?: string;
  event: AuditEventKind;
  details?: JsonValue;
  /** ISO-8601; defaults to the store's clock at append time. */
  time?: string;
}

export interface AuditRecord {
  /** 1, 2, 3, ... in file order. */
  seq: number;
  id: string;
  time: string;
  workflowId: string;
  app: string;
  digest: string;
  environment?: string;
  event: AuditEventKind;
  details: JsonValue;
  prevHash: string;
  /** Fingerprint of the audit key that signed this record. */
  keyId: string;
  hash: string;
  signature: string;
}

export type UnsealedAuditRecord = Omit<AuditRecord, 'hash' | 'signature'>;

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** The canonical bytes that `hash` covers: every field except hash and signature. */
export function canonicalAuditRecord(record: UnsealedAuditRecord | AuditRecord): string {
  const rest: Partial<AuditRecord> = { ...record };
  delete rest.hash;
  delete rest.signature;
  return canonicalJson(rest);
}

export function auditRecordHash(record: UnsealedAuditRecord | AuditRecord): string {
  return createHash('sha256').update(canonicalAuditRecord(record), 'utf8').digest('hex');
}

/** The JSON line stored for a record (without the trailing newline). */
export function auditRecordLine(record: AuditRecord): string {
  return canonicalJson(record);
}

export function auditKeyId(key: KeyObject): string {
  return sshFingerprint(ed25519BlobFromRaw(ed25519RawFromKeyObject(key)));
}

export function sealAuditRecord(record: UnsealedAuditRecord, key: AuditSigningKey): AuditRecord {
  if (record.keyId !== key.keyId)
    throw new Error(`record keyId ${record.keyId} does not match signing key ${key.keyId}`);
  const hash = auditRecordHash(record);
  const signature = sign(null, Buffer.from(hash, 'utf8'), key.privateKey).toString('base64');
  return { ...record, hash, signature };
}

/** The record for `entry` after `tip` (null: the first record), sealed with `key`; every store chains records this way. */
export function sealNextAuditRecord(
  entry: AuditEntry,
  tip: { seq: number; hash: string } | null,
  key: AuditSigningKey,
  now: () => Date,
): AuditRecord {
  return sealAuditRecord(
    {
      seq: (tip?.seq ?? 0) + 1,
      id: entry.id,
      time: entry.time ?? now().toISOString(),
      workflowId: entry.workflowId,
      app: entry.app,
      digest: entry.digest,
      ...(entry.environment !== undefined ? { environment: entry.environment } : {}),
      event: entry.event,
      details: entry.details ?? {},
      prevHash: tip?.hash ?? AUDIT_GENESIS_HASH,
      keyId: key.keyId,
    },
    key,
  );
}

export function verifyAuditRecordSignature(record: AuditRecord, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(record.hash, 'utf8'), publicKey, Buffer.from(record.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Validates the entry and makes `details` plain JSON (so what is hashed is exactly what is stored). */
export function normaliseAuditEntry(entry: AuditEntry): AuditEntry {
  for (const field of ['id', 'workflowId', 'app', 'digest', 'event'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '')
      throw new TypeError(`audit entry: "${field}" must be a non-empty string`);
  }
  if (entry.environment !== undefined && typeof entry.environment !== 'string')
    throw new TypeError('audit entry: "environment" must be a string');
  if (entry.time !== undefined && Number.isNaN(Date.parse(entry.time)))
    throw new TypeError(`audit entry: invalid time "${entry.time}"`);
  const details = entry.details === undefined ? {} : (JSON.parse(canonicalJson(entry.details)) as JsonValue);
  return { ...entry, details };
}

/**
 * Structural check of a parsed line; returns the record or a description of what is wrong.
 * (Hash and signature are checked by verifyAuditLog.)
 */
export function parseAuditRecord(value: unknown): AuditRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'missing or invalid "seq"';
  for (const f of ['id', 'time', 'workflowId', 'app', 'digest', 'event', 'prevHash', 'keyId', 'hash', 'signature']) {
    if (typeof r[f] !== 'string' || r[f] === '') return `missing or invalid "${f}"`;
  }
  if (r.environment !== undefined && typeof r.environment !== 'string') return 'invalid "environment"';
  if (!('details' in r)) return 'missing "details"';
  if (!/^[0-9a-f]{64}$/.test(r.hash as string) || !/^[0-9a-f]{64}$/.test(r.prevHash as string))
    return 'hash fields must be 64 hex digits';
  const known = new Set([
    'seq',
    'id',
    'time',
    'workflowId',
    'app',
    'digest',
    'environment',
    'event',
    'details',
    'prevHash',
    'keyId',
    'hash',
    'signature',
  ]);
  const unknown = Object.keys(r).filter((k) => !known.has(k));
  if (unknown.length) return `unexpected field(s) ${unknown.join(', ')}`;
  return r as unknown as AuditRecord;
}

export function generateAuditKey(): AuditSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: auditKeyId(publicKey) };
}

/** Loads an Ed25519 audit key from a PKCS#8 PEM (text or KeyObject). */
export function auditSigningKeyFromPem(pem: string | Buffer): AuditSigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`audit key must be ed25519, got ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: auditKeyId(publicKey) };
}

/** An SPKI PEM public key (for verifyAuditLog). */
export function auditPublicKeyFromPem(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`audit public key must be ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

export const AUDIT_KEY_FILE = 'audit-ed25519.pem';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-ed25519.pub.pem';

/**
 * The worker's audit key from `<dir>/audit-ed25519.pem` (mode 0600), created on first use together
 * with `<dir>/audit-ed25519.pub.pem`. Creation is atomic (link of a complete temp file), so two
 * workers starting at once end up with the same key.
 */
export async function loadOrCreateAuditKey(dir: string): Promise<AuditSigningKey> {
  await fsp.mkdir(dir, { recursive: true });
  const keyPath = join(dir, AUDIT_KEY_FILE);
  const pubPath = join(dir, AUDIT_PUBLIC_KEY_FILE);
  try {
    const key = auditSigningKeyFromPem(await fsp.readFile(keyPath));
    await writeIfMissing(pubPath, key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fresh = generateAuditKey();
  await writeIfMissing(keyPath, fresh.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  const key = auditSigningKeyFromPem(await fsp.readFile(keyPath)); // whoever won the race
  await writeIfMissing(pubPath, key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  return key;
}

async function writeIfMissing(path: string, content: string, mode: number): Promise<void> {
  try {
    await fsp.access(path);
    return;
  } catch {
    // missing: create it below
  }
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await fsp.writeFile(tmp, content, { mode, flag: 'wx' });
  try {
    await fsp.link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fsp.unlink(tmp);
  }
}
