import {
  normaliseAuditEntry,
  sealNextAuditRecord,
  type AuditEntry,
  type AuditRecord,
  type AuditSigningKey,
} from './auditRecord';
import type { AuditStore } from './auditStore';

/** In-memory AuditStore with the same chaining, signing and idempotency (tests, demos). */
export class MemoryAuditStore implements AuditStore {
  private readonly records: AuditRecord[] = [];
  private readonly byId = new Map<string, AuditRecord>();

  constructor(
    private readonly signingKey: AuditSigningKey,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async append(entry: AuditEntry): Promise<AuditRecord> {
    const e = normaliseAuditEntry(entry);
    const existing = this.byId.get(e.id);
    if (existing) return existing;
    const last = this.records[this.records.length - 1];
    const record = sealNextAuditRecord(e, last, this.signingKey, this.clock);
    this.records.push(record);
    this.byId.set(record.id, record);
    return record;
  }

  async readAll(): Promise<AuditRecord[]> {
    return [...this.records];
  }
}
