/**
 * Audit export: filter records, and answer "who approved what, when" from the approval events.
 *
 * Approval events ("approval-accepted", "approval-refused") are expected to carry
 * ApprovalAuditDetails in `details`; missing fields show as empty cells rather than failing.
 */
import type { AuditRecord, JsonValue } from './auditRecord';

export const APPROVAL_EVENTS = ['approval-accepted', 'approval-refused'] as const;

/** What Gantry records in `details` for approval events (a type alias, so it is assignable to JsonValue). */
export type ApprovalAuditDetails = {
  approver: string;
  decision: 'approve' | 'reject';
  /** "SHA256:..." of the SSH key that signed the decision (from verifySshSignature). */
  signerFingerprint?: string;
  /** Time the approver put in the signed decision (the record's own time is when Gantry saw it). */
  decidedAt?: string;
  comment?: string;
  reason?: string;
  /** Why Gantry refused the decision (approval-refused), e.g. the verifySshSignature reason. */
  refusal?: string;
  nonce?: string;
  /** The canonical payload that was signed, and the armored SSHSIG, for re-verification by hand. */
  payload?: string;
  signature?: string;
};

export interface AuditFilter {
  environment?: string;
  app?: string;
  digest?: string;
  /** Records at or after this time. */
  since?: Date | string;
  /** Records before this time. */
  until?: Date | string;
  /** Event kinds to keep. */
  events?: readonly string[];
}

export interface ApprovalRow {
  time: string;
  environment: string;
  app: string;
  digest: string;
  approver: string;
  decision: string;
  /** accepted: the signed decision was verified and applied; refused: Gantry rejected it. */
  outcome: 'accepted' | 'refused';
  signerFingerprint: string;
  comment: string;
  reason: string;
  workflowId: string;
  seq: number;
  /** The worker's policy version (sha256 of the policy file) the decision was checked against; empty before policies. */
  policy: string;
}

export function filterAuditRecords(records: readonly AuditRecord[], filter: AuditFilter = {}): AuditRecord[] {
  const since = toTime(filter.since, 'since');
  const until = toTime(filter.until, 'until');
  return records.filter((r) => {
    if (filter.environment !== undefined && r.environment !== filter.environment) return false;
    if (filter.app !== undefined && r.app !== filter.app) return false;
    if (filter.digest !== undefined && r.digest !== filter.digest) return false;
    if (filter.events && !filter.events.includes(r.event)) return false;
    const t = Date.parse(r.time);
    if (since !== undefined && !(t >= since)) return false;
    if (until !== undefined && !(t < until)) return false;
    return true;
  });
}

export function approvalRows(records: readonly AuditRecord[], filter: AuditFilter = {}): ApprovalRow[] {
  const events = filter.events
    ? filter.events.filter((e) => (APPROVAL_EVENTS as readonly string[]).includes(e))
    : APPROVAL_EVENTS;
  const policyAt = policyVersions(records);
  return filterAuditRecords(records, { ...filter, events }).map((r) => {
    const d = asObject(r.details);
    return {
      time: str(d.decidedAt) || r.time,
      environment: r.environment ?? '',
      app: r.app,
      digest: r.digest,
      approver: str(d.approver),
      decision: str(d.decision),
      outcome: r.event === 'approval-accepted' ? 'accepted' : 'refused',
      signerFingerprint: str(d.signerFingerprint),
      comment: str(d.comment),
      reason: str(d.reason) || str(d.refusal),
      workflowId: r.workflowId,
      seq: r.seq,
      policy: policyAt.get(r.seq) ?? '',
    };
  });
}

/** For each approval record, the policy its promotion recorded when it started (the `started` record before it). */
function policyVersions(records: readonly AuditRecord[]): Map<number, string> {
  const current = new Map<string, string>();
  const at = new Map<number, string>();
  for (const r of records) {
    if (r.event === 'started') current.set(r.workflowId, str(asObject(r.details).policy));
    else if ((APPROVAL_EVENTS as readonly string[]).includes(r.event)) at.set(r.seq, current.get(r.workflowId) ?? '');
  }
  return at;
}

export interface ExportAuditOptions extends AuditFilter {
  format: 'json' | 'table';
  /** approvals: who approved what, when (default); events: every matching record. */
  view?: 'approvals' | 'events';
}

export function exportAudit(records: readonly AuditRecord[], options: ExportAuditOptions): string {
  const { format, view = 'approvals', ...filter } = options;
  if (view === 'approvals') {
    const rows = approvalRows(records, filter);
    if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
    return formatTable(
      ['TIME', 'ENV', 'APP', 'DIGEST', 'APPROVER', 'DECISION', 'OUTCOME', 'SIGNER', 'POLICY', 'REASON'],
      rows.map((r) => [
        r.time,
        r.environment,
        r.app,
        r.digest,
        r.approver,
        r.decision,
        r.outcome,
        r.signerFingerprint,
        r.policy.slice(0, 19),
        r.reason || r.comment,
      ]),
    );
  }
  const selected = filterAuditRecords(records, filter);
  if (format === 'json') return `${JSON.stringify(selected, null, 2)}\n`;
  return formatTable(
    ['SEQ', 'TIME', 'ENV', 'EVENT', 'APP', 'DIGEST', 'WORKFLOW'],
    selected.map((r) => [String(r.seq), r.time, r.environment ?? '', r.event, r.app, r.digest, r.workflowId]),
  );
}

/** Plain-text table: columns padded to the widest cell, two spaces apart; newlines in cells flattened. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const clean = (s: string): string => s.replace(/[\r\n\t]+/g, ' ');
  const all = [header, ...rows].map((r) => r.map(clean));
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return (
    all
      .map((r) =>
        r
          .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function toTime(value: Date | string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const t = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(t)) throw new TypeError(`audit filter: invalid "${name}" time ${String(value)}`);
  return t;
}

function asObject(v: JsonValue): Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
}

function str(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : '';
}
