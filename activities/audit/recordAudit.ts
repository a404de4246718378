// Appends one promotion event to the tamper-evident audit log. Idempotent by the entry's id, so
// a retried activity never writes twice.
import type { AuditEntry, AuditStore } from '../../src/audit';

export function recordAuditWith(store: AuditStore) {
  return async function recordAudit(entry: AuditEntry): Promise<{ seq: number }> {
    const record = await store.append(entry);
    return { seq: record.seq };
  };
}
