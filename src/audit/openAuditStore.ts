// Which audit log a worker writes and `gantry audit` reads: the file in the data folder (one
// machine, the default) or the installation's PostgreSQL log when GANTRY_AUDIT_URL is set.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_KEY_FILE, auditSigningKeyFromPem, loadOrCreateAuditKey, type AuditSigningKey } from './auditRecord';
import type { AuditStore } from './auditStore';
import { AUDIT_FILE_NAME, FileAuditStore } from './fileAuditStore';
import { PostgresAuditStore, redactUrl } from './postgresAuditStore';

export type AuditLocation =
  { kind: 'file'; dataDir: string; keyDir: string } | { kind: 'postgres'; url: string; keyDir: string };

/** GANTRY_AUDIT_URL selects PostgreSQL; its key must then be given as GANTRY_AUDIT_KEY_DIR (never the data folder). */
export function auditLocation(dataDir: string, env: NodeJS.ProcessEnv = process.env): AuditLocation {
  const url = env.GANTRY_AUDIT_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url))
      throw new Error(`GANTRY_AUDIT_URL must be a postgres:// URL, got "${redactUrl(url)}"`);
    if (!env.GANTRY_AUDIT_KEY_DIR) {
      throw new Error(
        'GANTRY_AUDIT_URL is set, so GANTRY_AUDIT_KEY_DIR must name the folder holding the audit key (a mounted secret, not the data folder); create the key with `gantry audit keygen --key-dir DIR`',
      );
    }
    return { kind: 'postgres', url, keyDir: env.GANTRY_AUDIT_KEY_DIR };
  }
  return { kind: 'file', dataDir, keyDir: env.GANTRY_AUDIT_KEY_DIR ?? join(dataDir, 'keys') };
}

export function describeAuditLocation(location: AuditLocation): string {
  return location.kind === 'postgres'
    ? `PostgreSQL ${redactUrl(location.url)}`
    : join(location.dataDir, 'audit', AUDIT_FILE_NAME);
}

/** The signing store. The file store creates its key on first use; the PostgreSQL one requires it (every worker shares it). */
export async function openAuditStore(location: AuditLocation): Promise<AuditStore & { close?(): Promise<void> }> {
  if (location.kind === 'file') {
    const signingKey = await loadOrCreateAuditKey(location.keyDir);
    return FileAuditStore.open({ dataDir: join(location.dataDir, 'audit'), signingKey });
  }
  return PostgresAuditStore.open({
    url: location.url,
    signingKey: await loadAuditKey(location.keyDir),
    pool: { allowExitOnIdle: true },
  });
}

export async function loadAuditKey(keyDir: string): Promise<AuditSigningKey> {
  const path = join(keyDir, AUDIT_KEY_FILE);
  let pem: Buffer;
  try {
    pem = await fsp.readFile(path);
  } catch {
    throw new Error(
      `no audit key at ${path}: create it with \`gantry audit keygen --key-dir ${keyDir}\` and give every worker the same one`,
    );
  }
  return auditSigningKeyFromPem(pem);
}
