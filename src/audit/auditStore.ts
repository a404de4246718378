import type { AuditEntry, AuditRecord } from './auditRecord';

/**
 * Append-only, hash-chained, signed audit trail.
 *
 * append() is idempotent by entry.id: if a record with that id was already written (a retried
 * activity), nothing is written and the existing record is returned.
 */
export interface AuditStore {
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** Every record, in order. */
  readAll(): Promise<AuditRecord[]>;
}
