/** "Who approved what, when": approval rows from a signed, verified audit trail. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileAuditStore,
  approvalRows,
  exportAudit,
  filterAuditRecords,
  generateAuditKey,
  verifyAuditFile,
  type ApprovalAuditDetails,
  type AuditRecord,
} from '../../../src/audit';

let root: string;
let records: AuditRecord[];
const digest = 'sha256:' + 'e'.repeat(64);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gantry-audit-export-'));
  const key = generateAuditKey();
  const store = await FileAuditStore.open({ dataDir: root, signingKey: key, fsync: false });
  const approval = (d: ApprovalAuditDetails): ApprovalAuditDetails => d;
  const base = { workflowId: 'wf-shop', app: 'shop', digest };
  await store.append({
    ...base,
    id: 'a/1',
    environment: 'staging',
    event: 'deployed',
    time: '2025-03-01T10:00:00.000Z',
  });
  await store.append({
    ...base,
    id: 'a/2',
    environment: 'production',
    event: 'approval-refused',
    time: '2025-03-01T11:00:00.000Z',
    details: approval({
      approver: 'mallory',
      decision: 'approve',
      signerFingerprint: 'SHA256:mmm',
      refusal: 'signed by a key not allowed for this approver (SHA256:mmm)',
    }),
  });
  await store.append({
    ...base,
    id: 'a/3',
    environment: 'production',
    event: 'approval-accepted',
    time: '2025-03-01T11:05:00.000Z',
    details: approval({
      approver: 'alice',
      decision: 'approve',
      signerFingerprint: 'SHA256:aaa',
      decidedAt: '2025-03-01T11:04:30.000Z',
      comment: 'ok\nship',
    }),
  });
  await store.append({
    ...base,
    id: 'a/4',
    environment: 'staging',
    event: 'approval-accepted',
    time: '2025-02-01T09:00:00.000Z',
    details: approval({
      approver: 'bob',
      decision: 'reject',
      signerFingerprint: 'SHA256:bbb',
      reason: 'failing smoke tests',
    }),
  });
  records = (await verifyAuditFile(store.path, { publicKeys: [key.publicKey] })).records;
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

it('lists approval decisions, accepted and refused, with signer fingerprints', () => {
  expect(approvalRows(records)).toEqual([
    expect.objectContaining({
      seq: 2,
      approver: 'mallory',
      outcome: 'refused',
      reason: expect.stringMatching(/not allowed/),
    }),
    expect.objectContaining({
      seq: 3,
      approver: 'alice',
      decision: 'approve',
      outcome: 'accepted',
      signerFingerprint: 'SHA256:aaa',
      time: '2025-03-01T11:04:30.000Z',
      environment: 'production',
      digest,
    }),
    expect.objectContaining({
      seq: 4,
      approver: 'bob',
      decision: 'reject',
      environment: 'staging',
      reason: 'failing smoke tests',
    }),
  ]);
});

it('filters by environment, since and event kinds', () => {
  expect(approvalRows(records, { environment: 'production' }).map((r) => r.approver)).toEqual(['mallory', 'alice']);
  expect(approvalRows(records, { since: '2025-03-01T00:00:00Z' }).map((r) => r.approver)).toEqual(['mallory', 'alice']);
  expect(approvalRows(records, { events: ['approval-accepted'] }).map((r) => r.approver)).toEqual(['alice', 'bob']);
  expect(filterAuditRecords(records, { events: ['deployed'], since: new Date('2025-01-01') }).map((r) => r.id)).toEqual(
    ['a/1'],
  );
  expect(() => filterAuditRecords(records, { since: 'last week' })).toThrow(/invalid "since"/);
});

it('renders a plain-text table and JSON', () => {
  const table = exportAudit(records, { format: 'table', environment: 'production', events: ['approval-accepted'] });
  const [header, row, ...rest] = table.trimEnd().split('\n');
  expect(rest).toEqual([]);
  expect(header).toMatch(/^TIME\s+ENV\s+APP\s+DIGEST\s+APPROVER\s+DECISION\s+OUTCOME\s+SIGNER\s+POLICY\s+REASON$/);
  expect(row).toBe(
    `2025-03-01T11:04:30.000Z  production  shop  ${digest}  alice     approve   accepted  SHA256:aaa  ${' '.repeat('POLICY'.length)}  ok ship`,
  ); // no policy recorded before policies
  expect(header.indexOf('APPROVER')).toBe(row.indexOf('alice'));
  expect(JSON.parse(exportAudit(records, { format: 'json' }))).toHaveLength(3);
  const events = exportAudit(records, { format: 'table', view: 'events', environment: 'staging' });
  expect(
    events
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]),
  ).toEqual(['SEQ', '1', '4']);
  expect(JSON.parse(exportAudit(records, { format: 'json', view: 'events' }))).toEqual(records);
});
