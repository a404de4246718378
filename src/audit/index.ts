export * from './auditRecord';
export type { AuditStore } from './auditStore';
export {
  FileAuditStore,
  AUDIT_FILE_NAME,
  auditFilePath,
  type AuditRepair,
  type FileAuditStoreOptions,
} from './fileAuditStore';
export { MemoryAuditStore } from './memoryAuditStore';
export {
  verifyAuditFile,
  verifyAuditLog,
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerification,
  type VerifyAuditOptions,
} from './verifyAuditLog';
export {
  APPROVAL_EVENTS,
  approvalRows,
  exportAudit,
  filterAuditRecords,
  formatTable,
  type ApprovalAuditDetails,
  type ApprovalRow,
  type AuditFilter,
  type ExportAuditOptions,
} from './exportAudit';
