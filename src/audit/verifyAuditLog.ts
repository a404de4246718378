/**
 * Verifies an audit file: every line parses, every record's content matches its hash, every hash
 * is signed by a known audit key, seq runs 1, 2, 3, ... in file order and each prevHash is the hash
 * of the record before. Problems are classified and located (seq and 1-based line):
 *
 *   edited        content no longer matches its hash, or hash rewritten without the audit key
 *                 (signature invalid and the next record links to a different hash)
 *   deleted       seq gap: records missing (or, with expectedTip, removed from the end)
 *   reordered     records in the wrong place in the file (minimal set: longest in-order run kept)
 *   inserted      extra record: duplicate seq, copied line, forged record, record from another chain
 *   bad-signature hash intact but the signature is wrong or by an unknown key
 *   malformed     unparseable line, empty line, torn (incomplete) last line
 *
 * The chain alone cannot reveal records cut off the end of the file: anchor the last seq/hash
 * somewhere else (export, ticket, another system) and pass it as expectedTip.
 */
import type { KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import {
  AUDIT_GENESIS_HASH,
  auditKeyId,
  auditPublicKeyFromPem,
  auditRecordHash,
  parseAuditRecord,
  verifyAuditRecordSignature,
  type AuditRecord,
} from './auditRecord';

export type AuditProblemKind = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'bad-signature' | 'malformed';

export interface AuditProblem {
  /** The record's seq (null when the line could not be parsed). */
  seq: number | null;
  /** 1-based line number in the file. */
  line: number;
  kind: AuditProblemKind;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Every parseable record, in file order. */
  records: AuditRecord[];
  problems: AuditProblem[];
  /** Highest seq in the chain and its hash (anchor these to detect truncation later). */
  lastSeq: number;
  lastHash: string;
}

export interface VerifyAuditOptions {
  /** Audit public keys (KeyObject or SPKI PEM); several when the key was rotated. */
  publicKeys: ReadonlyArray<KeyObject | string | Buffer>;
  /** A previously anchored tip: the log must reach this seq, with this hash. */
  expectedTip?: { seq: number; hash?: string };
}

interface Item {
  rec: AuditRecord;
  line: number;
  hashOk: boolean;
  sigProblem: string | null;
  /** A problem was reported for this record; its signature problem is then not reported again. */
  explained: boolean;
}

export async function verifyAuditFile(path: string, options: VerifyAuditOptions): Promise<AuditVerification> {
  let text = '';
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return verifyAuditLog(text, options);
}

export function verifyAuditLog(text: string, options: VerifyAuditOptions): AuditVerification {
  const problems: AuditProblem[] = [];
  const report = (item: Item | null, line: number, kind: AuditProblemKind, message: string): void => {
    problems.push({ seq: item?.rec.seq ?? null, line, kind, message });
    if (item) item.explained = true;
  };
  const keys = new Map<string, KeyObject>();
  for (const k of options.publicKeys) {
    const key = typeof k === 'string' || Buffer.isBuffer(k) ? auditPublicKeyFromPem(k) : k;
    keys.set(auditKeyId(key), key);
  }

  // 1. Parse, hash and signature per record.
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const items: Item[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return report(null, line, 'malformed', `line ${line} is empty`);
    let parsed: AuditRecord | string;
    try {
      parsed = parseAuditRecord(JSON.parse(raw));
    } catch (err) {
      parsed = `not JSON (${(err as Error).message})`;
    }
    if (typeof parsed === 'string')
      return report(null, line, 'malformed', `line ${line} is not an audit record: ${parsed}`);
    const hashOk = auditRecordHash(parsed) === parsed.hash;
    const key = keys.get(parsed.keyId);
    const sigProblem = !key
      ? `signed by unknown audit key ${parsed.keyId}`
      : verifyAuditRecordSignature(parsed, key)
        ? null
        : `signature does not match its hash (key ${parsed.keyId})`;
    const item: Item = { rec: parsed, line, hashOk, sigProblem, explained: false };
    items.push(item);
    if (!hashOk)
      report(
        item,
        line,
        'edited',
        `seq ${parsed.seq} (line ${line}) was edited: its content no longer matches its hash`,
      );
  });
  if (tail !== '') {
    report(
      null,
      lines.length + 1,
      'malformed',
      `line ${lines.length + 1} is incomplete (torn write from a crash; FileAuditStore.open cuts it off)`,
    );
  }

  // 2. One genuine record per seq; the others are insertions.
  const bySeq = new Map<number, Item[]>();
  for (const item of items) bySeq.set(item.rec.seq, [...(bySeq.get(item.rec.seq) ?? []), item]);
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const genuine: Item[] = [];
  for (const seq of seqs) {
    const candidates = bySeq.get(seq) ?? [];
    const prev = genuine[genuine.length - 1];
    const expectedPrev = prev && prev.rec.seq === seq - 1 ? prev.rec.hash : seq === 1 ? AUDIT_GENESIS_HASH : undefined;
    const score = (c: Item): number =>
      (c.hashOk ? 2 : 0) + (c.sigProblem ? 0 : 2) + (c.rec.prevHash === expectedPrev ? 1 : 0);
    const best = candidates.reduce((a, b) => (score(b) > score(a) ? b : a));
    genuine.push(best);
    for (const other of candidates) {
      if (other === best) continue;
      const what = other.rec.hash === best.rec.hash ? 'a copy of' : 'an extra record besides';
      report(
        other,
        other.line,
        'inserted',
        `seq ${seq} (line ${other.line}) was inserted: it is ${what} seq ${seq} at line ${best.line}`,
      );
    }
  }

  // 3. Walk the chain in seq order.
  const valid = (i: Item): boolean => i.hashOk && !i.sigProblem;
  for (let k = 0; k < genuine.length; k++) {
    const g = genuine[k];
    const p: Item | undefined = genuine[k - 1];
    const expectedSeq = (p?.rec.seq ?? 0) + 1;
    if (g.rec.seq > expectedSeq) {
      if (g.hashOk && g.sigProblem) {
        report(
          g,
          g.line,
          'inserted',
          `seq ${g.rec.seq} (line ${g.line}) was inserted: ${g.sigProblem}, and no record links it to the chain`,
        );
      } else {
        const range =
          g.rec.seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq}..${g.rec.seq - 1} are`;
        report(g, g.line, 'deleted', `record(s) deleted: ${range} missing before seq ${g.rec.seq} (line ${g.line})`);
      }
      continue;
    }
    const expectedPrevHash = p ? p.rec.hash : AUDIT_GENESIS_HASH;
    if (g.rec.prevHash === expectedPrevHash) continue;
    if (p && p.hashOk && p.sigProblem) {
      report(
        p,
        p.line,
        'edited',
        `seq ${p.rec.seq} (line ${p.line}) was edited and re-hashed: ${p.sigProblem}, and seq ${g.rec.seq} links to a different hash`,
      );
    } else if (g.hashOk && g.sigProblem) {
      report(
        g,
        g.line,
        'inserted',
        `seq ${g.rec.seq} (line ${g.line}) was inserted: ${g.sigProblem}, and its prevHash does not link to seq ${p?.rec.seq ?? 'genesis'}`,
      );
    } else if (valid(g) && (!p || valid(p))) {
      report(
        g,
        g.line,
        'inserted',
        p
          ? `seq ${g.rec.seq} (line ${g.line}) does not link to seq ${p.rec.seq} (line ${p.line}): prevHash ${short(g.rec.prevHash)} != ${short(p.rec.hash)}; record from another chain`
          : `seq 1 (line ${g.line}) does not start at genesis: record from another chain`,
      );
    }
    // otherwise an edited record already explains the broken link
  }

  // 4. File order: keep the longest run in seq order, report the rest as moved.
  const inOrder = longestIncreasingRun(genuine.slice().sort((a, b) => a.line - b.line));
  const bySeqGenuine = new Map(genuine.map((g) => [g.rec.seq, g]));
  for (const g of genuine) {
    if (inOrder.has(g)) continue;
    const before = bySeqGenuine.get(g.rec.seq - 1);
    const where = before ? `belongs right after seq ${before.rec.seq} (line ${before.line})` : 'belongs earlier';
    report(g, g.line, 'reordered', `seq ${g.rec.seq} (line ${g.line}) is out of order: it ${where}`);
  }

  // 5. Idempotency ids are unique.
  const firstById = new Map<string, Item>();
  for (const g of genuine.slice().sort((a, b) => a.rec.seq - b.rec.seq)) {
    const first = firstById.get(g.rec.id);
    if (!first) {
      firstById.set(g.rec.id, g);
    } else if (!g.explained) {
      report(
        g,
        g.line,
        'inserted',
        `seq ${g.rec.seq} (line ${g.line}) repeats id "${g.rec.id}" already recorded at seq ${first.rec.seq} (line ${first.line})`,
      );
    }
  }

  // 6. Signature problems not explained by anything above.
  for (const item of items) {
    if (item.sigProblem && !item.explained && item.hashOk)
      report(item, item.line, 'bad-signature', `seq ${item.rec.seq} (line ${item.line}): ${item.sigProblem}`);
  }

  const last = genuine[genuine.length - 1];
  if (options.expectedTip) {
    const { seq, hash } = options.expectedTip;
    const at = bySeqGenuine.get(seq);
    if (!last || last.rec.seq < seq) {
      report(
        null,
        lines.length,
        'deleted',
        `log ends at seq ${last?.rec.seq ?? 0} but the anchor expects seq ${seq}: records were removed from the end`,
      );
    } else if (hash && at && at.rec.hash !== hash) {
      report(
        at,
        at.line,
        'edited',
        `seq ${seq} (line ${at.line}) has hash ${short(at.rec.hash)}, the anchor says ${short(hash)}`,
      );
    }
  }

  problems.sort((a, b) => a.line - b.line);
  return {
    ok: problems.length === 0,
    records: items.map((i) => i.rec),
    problems,
    lastSeq: last?.rec.seq ?? 0,
    lastHash: last?.rec.hash ?? AUDIT_GENESIS_HASH,
  };
}

function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** Longest subsequence (of items in file order) whose seq strictly increases; O(n log n). */
function longestIncreasingRun(items: Item[]): Set<Item> {
  const tails: number[] = []; // index into items of the smallest tail for each length
  const parent = new Array<number>(items.length).fill(-1);
  items.forEach((item, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[tails[mid]].rec.seq < item.rec.seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) parent[i] = tails[lo - 1];
    tails[lo] = i;
  });
  const out = new Set<Item>();
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = parent[i]) out.add(items[i]);
  return out;
}
