/** Every tamper case is detected, located (seq + line) and named. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from 'node:crypto';
import {
  AUDIT_GENESIS_HASH,
  FileAuditStore,
  auditRecordHash,
  auditRecordLine,
  generateAuditKey,
  loadOrCreateAuditKey,
  sealAuditRecord,
  verifyAuditLog,
  type AuditRecord,
  type AuditSigningKey,
} from '../../../src/audit';

let root: string;
let key: AuditSigningKey;
let lines: string[];
let records: AuditRecord[];

const verify = (ls: string[], opts: { expectedTip?: { seq: number; hash?: string } } = {}) =>
  verifyAuditLog(ls.map((l) => `${l}\n`).join(''), { publicKeys: [key.publicKey], ...opts });
const kinds = (ls: string[]) => verify(ls).problems.map((p) => [p.kind, p.seq, p.line]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gantry-audit-verify-'));
  key = await loadOrCreateAuditKey(join(root, 'keys'));
  const store = await FileAuditStore.open({ dataDir: join(root, 'data'), signingKey: key, fsync: false });
  const events = ['started', 'verified', 'deployed', 'gate', 'approval-accepted', 'deployed', 'finished'];
  for (const [i, event] of events.entries()) {
    await store.append({
      id: `wf/run/${i}`,
      workflowId: 'wf',
      app: 'shop',
      digest: 'sha256:' + 'd'.repeat(64),
      environment: i < 3 ? 'staging' : 'production',
      event,
      details: { step: i },
    });
  }
  lines = readFileSync(store.path, 'utf8').trim().split('\n');
  records = lines.map((l) => JSON.parse(l) as AuditRecord);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

it('accepts the untouched log and reports its tip', () => {
  const r = verify(lines);
  expect(r).toMatchObject({ ok: true, problems: [], lastSeq: 7, lastHash: records[6].hash });
  expect(r.records).toEqual(records);
});

it('keeps the same key across loadOrCreateAuditKey calls', async () => {
  expect((await loadOrCreateAuditKey(join(root, 'keys'))).keyId).toBe(key.keyId);
});

it('edited record: hash mismatch at that seq only', () => {
  const edited = { ...records[2], environment: 'production' };
  const r = verify([...lines.slice(0, 2), JSON.stringify(edited), ...lines.slice(3)]);
  expect(r.ok).toBe(false);
  expect(r.problems).toEqual([
    { seq: 3, line: 3, kind: 'edited', message: 'seq 3 (line 3) was edited: its content no longer matches its hash' },
  ]);
});

it('edited and re-hashed without the key: still "edited"', () => {
  const body = { ...records[2], details: { step: 99 } };
  const rehashed = { ...body, hash: auditRecordHash(body) };
  expect(kinds([...lines.slice(0, 2), JSON.stringify(rehashed), ...lines.slice(3)])).toEqual([['edited', 3, 3]]);
  expect(verify([...lines.slice(0, 2), JSON.stringify(rehashed), ...lines.slice(3)]).problems[0].message).toMatch(
    /re-hashed: signature does not match/,
  );
});

it('deleted record: seq gap named at the record after it', () => {
  const r = verify([...lines.slice(0, 3), ...lines.slice(4)]);
  expect(r.problems).toEqual([
    { seq: 5, line: 4, kind: 'deleted', message: 'record(s) deleted: seq 4 is missing before seq 5 (line 4)' },
  ]);
  expect(kinds([...lines.slice(0, 2), ...lines.slice(5)])).toEqual([['deleted', 6, 3]]);
  expect(kinds(lines.slice(1))).toEqual([['deleted', 2, 1]]);
});

it('records cut off the end: only visible against an anchored tip', () => {
  expect(verify(lines.slice(0, 5)).ok).toBe(true);
  const r = verify(lines.slice(0, 5), { expectedTip: { seq: 7, hash: records[6].hash } });
  expect(r.problems).toEqual([
    {
      seq: null,
      line: 5,
      kind: 'deleted',
      message: expect.stringMatching(/ends at seq 5 but the anchor expects seq 7/),
    },
  ]);
  expect(verify(lines, { expectedTip: { seq: 7, hash: records[6].hash } }).ok).toBe(true);
});

it('reordered records: the minimal set of moved records', () => {
  const swapped = [...lines];
  [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
  const r = verify(swapped);
  expect(r.problems).toEqual([
    {
      seq: 4,
      line: 3,
      kind: 'reordered',
      message: 'seq 4 (line 3) is out of order: it belongs right after seq 3 (line 4)',
    },
  ]);
  // Moving the last record to the top reports that one record, not the six it now precedes.
  expect(kinds([lines[6], ...lines.slice(0, 6)])).toEqual([['reordered', 7, 1]]);
});

it('inserted records: copied line, forged record, record from another chain', () => {
  expect(kinds([...lines.slice(0, 4), lines[1], ...lines.slice(4)])).toEqual([['inserted', 2, 5]]);

  // A forged approval squeezed in as seq 5 (the attacker can hash but not sign).
  const forgedBody = {
    ...records[4],
    id: 'forged',
    details: { approver: 'mallory', decision: 'approve' },
    prevHash: records[3].hash,
  };
  const forged = { ...forgedBody, hash: auditRecordHash(forgedBody) };
  const r = verify([...lines.slice(0, 4), JSON.stringify(forged), ...lines.slice(4)]);
  expect(r.problems).toEqual([
    {
      seq: 5,
      line: 5,
      kind: 'inserted',
      message: 'seq 5 (line 5) was inserted: it is an extra record besides seq 5 at line 6',
    },
  ]);

  // Forged and appended after the tip with a fresh seq.
  const tailBody = { ...records[6], seq: 8, id: 'tail', prevHash: records[6].hash };
  expect(kinds([...lines, JSON.stringify({ ...tailBody, hash: auditRecordHash(tailBody) })])).toEqual([
    ['bad-signature', 8, 8],
  ]);

  // Properly signed by the same key but from another log: does not link.
  const other = sealAuditRecord(
    { ...records[6], seq: 8, id: 'other-log', prevHash: AUDIT_GENESIS_HASH.replace(/^0/, '1') },
    key,
  );
  expect(kinds([...lines, auditRecordLine(other)])).toEqual([['inserted', 8, 8]]);
});

it('bad signature: right hash, wrong signer or mangled signature', () => {
  const intruder = generateAuditKey();
  const resigned = {
    ...records[3],
    signature: sign(null, Buffer.from(records[3].hash), intruder.privateKey).toString('base64'),
  };
  const r = verify([...lines.slice(0, 3), JSON.stringify(resigned), ...lines.slice(4)]);
  expect(r.problems).toEqual([
    {
      seq: 4,
      line: 4,
      kind: 'bad-signature',
      message: `seq 4 (line 4): signature does not match its hash (key ${key.keyId})`,
    },
  ]);
  // Verified against a different audit key, everything is reported as signed by an unknown key.
  const withOtherKey = verifyAuditLog(lines.join('\n') + '\n', { publicKeys: [intruder.publicKey] });
  expect(withOtherKey.problems.map((p) => p.kind)).toEqual(Array(7).fill('bad-signature'));
  expect(withOtherKey.problems[0].message).toContain(`unknown audit key ${key.keyId}`);
});

it('malformed lines are named with their line number', () => {
  const r = verify([...lines.slice(0, 2), '{"seq":3,', '', '[1,2]', ...lines.slice(2)]);
  expect(r.problems.map((p) => [p.kind, p.line])).toEqual([
    ['malformed', 3],
    ['malformed', 4],
    ['malformed', 5],
  ]);
  expect(r.problems[0].message).toMatch(/^line 3 is not an audit record: not JSON/);
  expect(verifyAuditLog(`${lines[0]}\n${lines[1].slice(0, 50)}`, { publicKeys: [key.publicKey] }).problems).toEqual([
    { seq: null, line: 2, kind: 'malformed', message: expect.stringMatching(/incomplete \(torn write/) },
  ]);
});
