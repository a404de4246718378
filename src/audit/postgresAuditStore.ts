/**
 * The installation's audit log in PostgreSQL: one hash chain shared by every worker.
 *
 * Records are the same signed, hash-chained records as the file store's (auditRecord.ts); each row
 * keeps the canonical JSON line, so `gantry audit verify` checks exactly what the file store would.
 *
 * Serialisation: an append batch runs in one transaction holding a transaction-scoped advisory
 * lock, so seq/prevHash always continue the committed tail whichever worker writes. A writer killed
 * mid-transaction leaves nothing (PostgreSQL rolls it back), so there is no gap and no torn record.
 *
 * Idempotency: `id` is unique; an append whose id is already in the table (a retried activity, on
 * this worker or another) returns the stored record and writes nothing.
 *
 * Group commit: appends arriving while a batch is in flight are written together by the next one.
 */
import { Client, Pool, type PoolClient, type PoolConfig } from 'pg';
import {
  auditRecordLine,
  normaliseAuditEntry,
  parseAuditRecord,
  sealNextAuditRecord,
  type AuditEntry,
  type AuditRecord,
  type AuditSigningKey,
} from './auditRecord';
import type { AuditStore } from './auditStore';

export interface PostgresAuditStoreOptions {
  /** postgres://user:password@host:port/database (GANTRY_AUDIT_URL). */
  url: string;
  signingKey: AuditSigningKey;
  /** Table name (default gantry_audit); letters, digits and underscores. */
  table?: string;
  clock?: () => Date;
  /** Extra pg pool settings (size, TLS). */
  pool?: Omit<PoolConfig, 'connectionString'>;
}

/** Tries of one batch when the connection under it was lost (each on a fresh connection). */
const RECONNECT_ATTEMPTS = 3;
/** Records per transaction: bounds one lock hold when thousands arrive at once. */
const MAX_BATCH = 256;
/** Any constant shared by every Gantry process; the lock key is derived from it and the table name. */
const LOCK_NAMESPACE = 'gantry-audit:';

interface PendingAppend {
  entry: AuditEntry;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

export class PostgresAuditStore implements AuditStore {
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly clock: () => Date;
  private readonly lockName: string;

  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
    private readonly signingKey: AuditSigningKey,
    clock: (() => Date) | undefined,
  ) {
    this.clock = clock ?? (() => new Date());
    this.lockName = LOCK_NAMESPACE + table;
  }

  /** Connects and creates the table when missing (safe when several workers start at once). */
  static async open(options: PostgresAuditStoreOptions): Promise<PostgresAuditStore> {
    const table = options.table ?? 'gantry_audit';
    if (!/^[a-z_][a-z0-9_]*$/.test(table))
      throw new Error(`audit table name must be lower-case letters, digits and _, got "${table}"`);
    const pool = new Pool({ max: 4, ...options.pool, connectionString: options.url });
    // An idle client losing its server (restart, network) must not crash the worker; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresAuditStore(pool, table, options.signingKey, options.clock);
    try {
      await store.transaction(async (db) => {
        await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [store.lockName]);
        await db.query(
          `CREATE TABLE IF NOT EXISTS ${table} (
             seq bigint PRIMARY KEY,
             id text NOT NULL UNIQUE,
             hash char(64) NOT NULL,
             line text NOT NULL
           )`,
        );
      });
    } catch (err) {
      await pool.end();
      throw new Error(`cannot open the audit log in PostgreSQL (${redactUrl(options.url)}): ${(err as Error).message}`);
    }
    return store;
  }

  append(entry: AuditEntry): Promise<AuditRecord> {
    const e = normaliseAuditEntry(entry);
    return new Promise<AuditRecord>((resolve, reject) => {
      this.pending.push({ entry: e, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Every record in seq order (verify with verifyAuditLog(auditLogText(records), ...)). */
  async readAll(): Promise<AuditRecord[]> {
    const { rows } = await this.pool.query<{ line: string }>(`SELECT line FROM ${this.table} ORDER BY seq`);
    return rows.map((r) => parseStoredLine(r.line)).filter((r): r is AuditRecord => r !== null);
  }

  /** The log as JSON lines, exactly as stored (what `gantry audit verify` checks). */
  async readText(): Promise<string> {
    const { rows } = await this.pool.query<{ line: string }>(`SELECT line FROM ${this.table} ORDER BY seq`);
    return rows.map((r) => `${r.line}\n`).join('');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          const records = await this.transactionWithReconnect((db) =>
            this.writeBatch(
              db,
              batch.map((b) => b.entry),
            ),
          );
          batch.forEach((b, i) => b.resolve(records[i]));
        } catch (err) {
          batch.forEach((b) => b.reject(err));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Under the lock: ids already stored return their record; the rest are sealed onto the tail. */
  private async writeBatch(db: PoolClient, entries: AuditEntry[]): Promise<AuditRecord[]> {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
    const ids = [...new Set(entries.map((e) => e.id))];
    const stored = await db.query<{ id: string; line: string }>(
      `SELECT id, line FROM ${this.table} WHERE id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map<string, AuditRecord>();
    for (const r of stored.rows) {
      const record = parseStoredLine(r.line);
      if (!record) throw new Error(`audit record ${r.id} is malformed in the table; run gantry audit verify`);
      byId.set(r.id, record);
    }
    const tipRow = await db.query<{ seq: string; hash: string }>(
      `SELECT seq, hash FROM ${this.table} ORDER BY seq DESC LIMIT 1`,
    );
    let tip = tipRow.rows.length ? { seq: Number(tipRow.rows[0].seq), hash: tipRow.rows[0].hash } : null;
    const fresh: AuditRecord[] = [];
    const records = entries.map((e) => {
      const existing = byId.get(e.id);
      if (existing) return existing;
      const record = sealNextAuditRecord(e, tip, this.signingKey, this.clock);
      tip = { seq: record.seq, hash: record.hash };
      byId.set(record.id, record);
      fresh.push(record);
      return record;
    });
    if (fresh.length) {
      await db.query(
        `INSERT INTO ${this.table} (seq, id, hash, line)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`,
        [
          fresh.map((r) => r.seq),
          fresh.map((r) => r.id),
          fresh.map((r) => r.hash),
          fresh.map((r) => auditRecordLine(r)),
        ],
      );
    }
    return records;
  }

  /**
   * A connection the server dropped (restart, failover, idle timeout) fails the transaction before
   * anything was committed; running it again on a fresh connection is safe (ids are idempotent).
   */
  private async transactionWithReconnect<T>(fn: (db: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(fn);
      } catch (err) {
        if (attempt >= RECONNECT_ATTEMPTS || !isConnectionLost(err)) throw err;
      }
    }
  }

  private async transaction<T>(fn: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    let broken = false;
    // A checked-out client whose server goes away emits 'error' (unhandled, it would end the
    // process); its next query then fails, and transactionWithReconnect runs the batch again.
    const onLost = () => {
      broken = true;
    };
    db.on('error', onLost);
    try {
      await db.query('BEGIN');
      const result = await fn(db);
      await db.query('COMMIT');
      return result;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      db.off('error', onLost);
      db.release(broken);
    }
  }
}

/** The log as JSON lines in seq order, read without a signing key (for `gantry audit verify/export`); '' when there is no table yet. */
export async function readPostgresAuditText(url: string, table = 'gantry_audit'): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table))
    throw new Error(`audit table name must be lower-case letters, digits and _, got "${table}"`);
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ line: string }>(`SELECT line FROM ${table} ORDER BY seq`);
    return rows.map((r) => `${r.line}\n`).join('');
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return ''; // undefined_table: nothing written yet
    throw new Error(`cannot read the audit log in PostgreSQL (${redactUrl(url)}): ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Admin shutdown / crash / cannot connect now (SQLSTATE 57P0x), connection exceptions (08xxx), or a socket closed under the client. */
function isConnectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (
    typeof code === 'string' &&
    (/^57P0[123]$/.test(code) || code.startsWith('08') || code === 'ECONNRESET' || code === 'EPIPE')
  )
    return true;
  return /Connection terminated|Client has encountered a connection error|not queryable/i.test(
    String((err as Error)?.message ?? ''),
  );
}

/** Malformed rows stay as evidence (verify reports them); readers skip them like the file store does. */
function parseStoredLine(line: string): AuditRecord | null {
  try {
    const parsed = parseAuditRecord(JSON.parse(line));
    return typeof parsed === 'string' ? null : parsed;
  } catch {
    return null;
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
