/**
 * Append-only JSON-lines audit file: `<dataDir>/audit.jsonl`, one canonical JSON record per line.
 *
 * Concurrency: appends within a process are serialised by a promise chain per file; across
 * processes by an exclusive lock file (`audit.jsonl.lock`, see fileLock.ts). Under the lock the
 * store re-reads whatever other processes appended since it last looked, so seq/prevHash always
 * continue the file's real tail.
 *
 * Idempotency: an append whose id is already in the file returns the existing record.
 *
 * Group commit: appends that arrive while a write is under way are written together by the next one
 * (one lock, one write, one fdatasync for the batch), so a busy worker pays the disk's sync latency
 * once per batch rather than per record (bench/RESULTS.md, scale).
 *
 * Crash safety: a batch of records is written with a single O_APPEND write (then fdatasync). A process killed
 * mid-write can leave only an incomplete last line (no trailing newline). Under the lock nobody else
 * is writing, so such a tail is torn by definition: it is cut off (and kept in `audit.jsonl.torn`
 * for forensics) before anything else is appended, and a retried append then writes the record once.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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
import { acquireFileLock, sweepLockLeftovers } from './fileLock';

export const AUDIT_FILE_NAME = 'audit.jsonl';

export interface FileAuditStoreOptions {
  /** Folder holding the audit file (created if missing). */
  dataDir: string;
  signingKey: AuditSigningKey;
  fileName?: string;
  /** fdatasync after each append (default true). */
  fsync?: boolean;
  /** How long an append waits for another process's lock (default 60 s). */
  lockTimeoutMs?: number;
  /** A lock older than this is broken even if its owner looks alive (default 30 s). */
  staleLockMs?: number;
  clock?: () => Date;
  /** Called when a torn last line is cut off. */
  onRepair?: (repair: AuditRepair) => void;
}

export interface AuditRepair {
  path: string;
  /** Byte offset the file was truncated to. */
  offset: number;
  /** The incomplete bytes that were removed (also appended, base64, to `<file>.torn`). */
  removed: Buffer;
}

interface TailState {
  dev: number;
  ino: number;
  /** Bytes of the file already read; always just after a newline. */
  size: number;
  tip: { seq: number; hash: string } | null;
  byId: Map<string, AuditRecord>;
}

/** Per-file promise chains serialising appends inside this process (across store instances). */
const queues = new Map<string, Promise<void>>();

/** Records per write: bounds one lock hold and one write when thousands arrive at once. */
const MAX_BATCH = 256;

interface PendingAppend {
  entry: ReturnType<typeof normaliseAuditEntry>;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

export class FileAuditStore implements AuditStore {
  readonly path: string;
  readonly lockPath: string;
  private state: TailState | null = null;
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly fsync: boolean;
  private readonly clock: () => Date;

  private constructor(private readonly options: FileAuditStoreOptions) {
    this.path = resolve(options.dataDir, options.fileName ?? AUDIT_FILE_NAME);
    this.lockPath = `${this.path}.lock`;
    this.fsync = options.fsync ?? true;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Opens (creating if needed) the audit file, repairing a torn last line left by a crash. */
  static async open(options: FileAuditStoreOptions): Promise<FileAuditStore> {
    await fsp.mkdir(options.dataDir, { recursive: true });
    const store = new FileAuditStore(options);
    await sweepLockLeftovers(store.lockPath);
    await store.withFile(async () => undefined);
    const dir = await fsp.open(resolve(options.dataDir), 'r');
    try {
      await dir.sync(); // make the file's directory entry durable
    } catch {
      // not supported on every filesystem
    } finally {
      await dir.close();
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

  /** Writes what is pending, batch after batch, until nothing is. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          const records = await this.withFile((fh, state) =>
            this.writeBatch(
              fh,
              state,
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

  /** Seals the batch onto the tail (an id already written returns its record) and writes it at once. */
  private async writeBatch(
    fh: FileHandle,
    state: TailState,
    entries: PendingAppend['entry'][],
  ): Promise<AuditRecord[]> {
    let tip = state.tip;
    const sealed = new Map<string, AuditRecord>();
    const records = entries.map((e) => {
      const existing = state.byId.get(e.id) ?? sealed.get(e.id);
      if (existing) return existing;
      const record = sealNextAuditRecord(e, tip, this.options.signingKey, this.clock);
      tip = { seq: record.seq, hash: record.hash };
      sealed.set(record.id, record);
      return record;
    });
    if (!sealed.size) return records;
    const data = Buffer.from([...sealed.values()].map((r) => `${auditRecordLine(r)}\n`).join(''), 'utf8');
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await fh.write(data, written, data.length - written, null);
        written += bytesWritten;
      }
      if (this.fsync) await fh.datasync();
    } catch (err) {
      this.state = null; // unknown tail: re-read (and repair) under the lock next time
      throw err;
    }
    state.size += data.length;
    state.tip = tip;
    for (const r of sealed.values()) state.byId.set(r.id, r);
    return records;
  }

  /** All complete, parseable records in file order (use verifyAuditFile to check integrity). */
  async readAll(): Promise<AuditRecord[]> {
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: AuditRecord[] = [];
    for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
      const record = parseLine(line);
      if (record) out.push(record);
    }
    return out;
  }

  /** Runs fn with the file open for append, under both locks, after catching up with the tail. */
  private async withFile<T>(fn: (fh: FileHandle, state: TailState) => Promise<T>): Promise<T> {
    const previous = queues.get(this.path) ?? Promise.resolve();
    let done!: () => void;
    const gate = new Promise<void>((r) => (done = r));
    const current = previous.then(() => gate);
    queues.set(this.path, current);
    await previous;
    try {
      const release = await acquireFileLock(this.lockPath, {
        timeoutMs: this.options.lockTimeoutMs ?? 60_000,
        staleMs: this.options.staleLockMs ?? 30_000,
      });
      try {
        const fh = await fsp.open(this.path, 'a+', 0o644);
        try {
          const state = await this.catchUp(fh);
          return await fn(fh, state);
        } finally {
          await fh.close();
        }
      } finally {
        await release();
      }
    } finally {
      done();
      if (queues.get(this.path) === current) queues.delete(this.path);
    }
  }

  /** Reads what was appended since we last looked; cuts off a torn last line. Caller holds the lock. */
  private async catchUp(fh: FileHandle): Promise<TailState> {
    const st = await fh.stat();
    let state = this.state;
    if (!state || state.dev !== st.dev || state.ino !== st.ino || st.size < state.size) {
      state = { dev: st.dev, ino: st.ino, size: 0, tip: null, byId: new Map() };
      this.state = null;
    }
    if (st.size > state.size) {
      const buf = Buffer.alloc(st.size - state.size);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, state.size + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const complete = buf.subarray(0, got).lastIndexOf(0x0a) + 1;
      if (complete < got) await this.repairTornTail(fh, state.size + complete, buf.subarray(complete, got));
      for (const line of buf.subarray(0, complete).toString('utf8').split('\n')) {
        const record = parseLine(line);
        if (!record) continue; // malformed lines stay as evidence; verifyAuditLog reports them
        if (!state.byId.has(record.id)) state.byId.set(record.id, record);
        state.tip = { seq: record.seq, hash: record.hash };
      }
      state.size += complete;
    }
    this.state = state;
    return state;
  }

  private async repairTornTail(fh: FileHandle, offset: number, removed: Buffer): Promise<void> {
    await fsp.appendFile(
      `${this.path}.torn`,
      `${JSON.stringify({ repairedAt: this.clock().toISOString(), offset, bytes: removed.toString('base64') })}\n`,
      { mode: 0o644 },
    );
    await fh.truncate(offset);
    if (this.fsync) await fh.sync();
    this.options.onRepair?.({ path: this.path, offset, removed: Buffer.from(removed) });
  }
}

function parseLine(line: string): AuditRecord | null {
  if (!line.trim()) return null;
  try {
    const parsed = parseAuditRecord(JSON.parse(line));
    return typeof parsed === 'string' ? null : parsed;
  } catch {
    return null;
  }
}

/** Convenience: `<dataDir>/audit.jsonl` path for a data folder. */
export function auditFilePath(dataDir: string, fileName = AUDIT_FILE_NAME): string {
  return join(dataDir, fileName);
}
