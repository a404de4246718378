/**
 * FileAuditStore against real files and real processes: idempotency, concurrent appends within and
 * across processes, stale locks, torn last lines, and a writer SIGKILLed in the middle of a burst.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileAuditStore,
  generateAuditKey,
  verifyAuditFile,
  type AuditEntry,
  type AuditRepair,
  type AuditSigningKey,
} from '../../../src/audit';
import { APPENDER_SCRIPT, compileAuditSources } from './helpers';

let root: string;
let key: AuditSigningKey;
let keyPem: string;
let lib: string;
let script: string;
let n = 0;
const freshDir = (): string => join(root, `data-${++n}`);

const entry = (id: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id,
  workflowId: 'wf-1',
  app: 'shop',
  digest: 'sha256:' + 'c'.repeat(64),
  environment: 'staging',
  event: 'deployed',
  details: { id },
  ...extra,
});

const verify = (path: string) => verifyAuditFile(path, { publicKeys: [key.publicKey] });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gantry-audit-store-'));
  key = generateAuditKey();
  keyPem = join(root, 'audit-key.pem');
  writeFileSync(keyPem, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  lib = compileAuditSources(join(root, 'build'));
  script = join(root, 'appender.js');
  writeFileSync(script, APPENDER_SCRIPT);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

it('appends a hash chain that verifies, and is idempotent by id (also across re-open)', async () => {
  const dataDir = freshDir();
  const store = await FileAuditStore.open({ dataDir, signingKey: key });
  const a = await store.append(entry('wf-1/run-1/started', { event: 'started' }));
  const b = await store.append(entry('wf-1/run-1/deployed'));
  expect(a).toMatchObject({ seq: 1, prevHash: '0'.repeat(64), keyId: key.keyId, event: 'started' });
  expect(b.prevHash).toBe(a.hash);
  // A retried activity writes nothing and gets the original record back.
  expect(await store.append(entry('wf-1/run-1/deployed', { details: { retried: true } }))).toEqual(b);
  const reopened = await FileAuditStore.open({ dataDir, signingKey: key });
  expect(await reopened.append(entry('wf-1/run-1/started'))).toEqual(a);
  expect(readFileSync(store.path, 'utf8').trim().split('\n')).toHaveLength(2);
  expect(await reopened.readAll()).toEqual([a, b]);
  const result = await verify(store.path);
  expect(result).toMatchObject({ ok: true, problems: [], lastSeq: 2, lastHash: b.hash });
});

it('serialises concurrent appends from several store instances in one process', async () => {
  const dataDir = freshDir();
  const [s1, s2] = await Promise.all([
    FileAuditStore.open({ dataDir, signingKey: key }),
    FileAuditStore.open({ dataDir, signingKey: key }),
  ]);
  const ids = Array.from({ length: 40 }, (_, i) => `wf/run/${i}`);
  await Promise.all(ids.flatMap((id, i) => [s1.append(entry(id)), (i % 2 ? s1 : s2).append(entry(id))]));
  const result = await verify(s1.path);
  expect(result.ok).toBe(true);
  expect(result.records.map((r) => r.seq)).toEqual(ids.map((_, i) => i + 1));
  expect(new Set(result.records.map((r) => r.id))).toEqual(new Set(ids));
});

it('group commit: 1,200 appends arriving at once land in order, a repeated id once, every caller answered', async () => {
  const dataDir = freshDir();
  const store = await FileAuditStore.open({ dataDir, signingKey: key });
  const ids = Array.from({ length: 600 }, (_, i) => `wf/run/${i}`);
  // 600 at once (more than one batch of 256), each id twice in the same burst.
  const answers = await Promise.all(
    ids.flatMap((id) => [store.append(entry(id)), store.append(entry(id, { details: { again: true } }))]),
  );
  for (let i = 0; i < ids.length; i++) expect(answers[2 * i + 1]).toEqual(answers[2 * i]);
  const result = await verify(store.path);
  expect(result.ok).toBe(true);
  expect(result.records.map((r) => r.id)).toEqual(ids);
  expect(result.records.map((r) => r.seq)).toEqual(ids.map((_, i) => i + 1));
});

it('cuts off a torn last line on open, then the retried append writes the record exactly once', async () => {
  const dataDir = freshDir();
  const store = await FileAuditStore.open({ dataDir, signingKey: key });
  for (const id of ['e1', 'e2', 'e3']) await store.append(entry(id));
  const before = readFileSync(store.path);
  // What a writer killed mid-write leaves: the first part of the next line, no newline.
  const probeDir = freshDir();
  const probe = await FileAuditStore.open({ dataDir: probeDir, signingKey: key });
  const fullLine = (await probe.append(entry('e4'))) && readFileSync(probe.path, 'utf8');
  appendFileSync(store.path, fullLine.slice(0, 97));
  expect((await verify(store.path)).problems).toEqual([
    { seq: null, line: 4, kind: 'malformed', message: expect.stringMatching(/incomplete \(torn write/) },
  ]);

  const repairs: AuditRepair[] = [];
  const reopened = await FileAuditStore.open({ dataDir, signingKey: key, onRepair: (r) => repairs.push(r) });
  expect(repairs).toEqual([{ path: store.path, offset: before.length, removed: Buffer.from(fullLine.slice(0, 97)) }]);
  expect(readFileSync(store.path)).toEqual(before);
  expect(readFileSync(`${store.path}.torn`, 'utf8')).toContain(Buffer.from(fullLine.slice(0, 97)).toString('base64'));
  const e4 = await reopened.append(entry('e4'));
  expect(await reopened.append(entry('e4'))).toEqual(e4);
  const result = await verify(store.path);
  expect(result.ok).toBe(true);
  expect(result.records.map((r) => [r.seq, r.id])).toEqual([
    [1, 'e1'],
    [2, 'e2'],
    [3, 'e3'],
    [4, 'e4'],
  ]);
});

it('breaks a lock left by a dead process, waits for a live one, and names the holder on timeout', async () => {
  const dataDir = freshDir();
  const store = await FileAuditStore.open({ dataDir, signingKey: key, lockTimeoutMs: 300 });
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const lock = (pid: number) =>
    JSON.stringify({
      pid,
      host: hostname(),
      token: '00000000-0000-4000-8000-000000000000',
      time: new Date().toISOString(),
    });
  writeFileSync(store.lockPath, lock(Number(dead.stdout)));
  await store.append(entry('after-dead-holder'));
  expect(existsSync(store.lockPath)).toBe(false);

  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    writeFileSync(store.lockPath, lock(holder.pid ?? 0));
    await expect(store.append(entry('blocked'))).rejects.toThrow(
      new RegExp(`timed out after 300 ms waiting for lock .* \\(held by pid ${holder.pid} `),
    );
    const pending = store.append(entry('unblocked'));
    await new Promise((r) => setTimeout(r, 50));
    await killAndWait(holder);
    await pending;
  } finally {
    await killAndWait(holder);
  }
  const result = await verify(store.path);
  expect(result.ok).toBe(true);
  expect(result.records.map((r) => r.id)).toEqual(['after-dead-holder', 'unblocked']);
});

it('survives writers SIGKILLed in the middle of a burst: after re-open and retries, no duplicate and no gap', async () => {
  const dataDir = freshDir();
  const count = 150;
  // Two processes appending at once (4 in flight each), ~16 KiB records so writes take a while.
  const args = (tag: string) => [script, lib, dataDir, keyPem, tag, String(count), '4', String(16 * 1024), '0'];
  const a = track(spawn(process.execPath, args('A'), { stdio: ['ignore', 'pipe', 'pipe'] }));
  const b = track(spawn(process.execPath, args('B'), { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitUntil(() => a.appended >= 40, a, 'A to append 40 records');
  a.child.kill('SIGKILL');
  await waitUntil(() => b.appended >= 80, b, 'B to append 80 records');
  b.child.kill('SIGKILL');
  await Promise.all([exited(a.child), exited(b.child)]);
  expect(a.stderr + b.stderr).toBe('');

  const path = join(dataDir, 'audit.jsonl');
  const raw = readFileSync(path, 'utf8');
  const tornTail = !raw.endsWith('\n');
  const before = await verify(path);
  // Whatever the kill left behind, the complete records already form a valid chain.
  expect(before.problems.filter((p) => p.kind !== 'malformed')).toEqual([]);
  expect(before.problems.length).toBe(tornTail ? 1 : 0);

  // The retries: every id of both bursts, again, from a fresh process-level store (the lock may be stale).
  const store = await FileAuditStore.open({ dataDir, signingKey: key, lockTimeoutMs: 5_000 });
  for (const tag of ['A', 'B']) {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        store.append({
          id: `${tag}-${i}`,
          workflowId: `wf-${tag}`,
          app: 'shop',
          digest: 'sha256:' + 'b'.repeat(64),
          environment: 'staging',
          event: 'deployed',
          details: { i },
        }),
      ),
    );
  }
  const after = await verify(path);
  expect(after.problems).toEqual([]);
  expect(after.ok).toBe(true);
  expect(after.records.map((r) => r.seq)).toEqual(Array.from({ length: 2 * count }, (_, i) => i + 1));
  const ids = after.records.map((r) => r.id);
  expect(new Set(ids).size).toBe(2 * count);
  // Records written before the kill kept their place; retries only filled in the rest.
  expect(after.records.slice(0, before.records.length)).toEqual(before.records);
  expect(existsSync(`${path}.lock`)).toBe(false);
});

it('repairs the torn record of a writer that died mid-write (file size limit: partial write, then EFBIG)', async () => {
  const dataDir = freshDir();
  const limit = 100_000; // bytes; lands inside the 7th ~16 KiB record
  const child = spawn(
    'prlimit',
    [`--fsize=${limit}`, process.execPath, script, lib, dataDir, keyPem, 'C', '20', '1', String(16 * 1024), '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await exited(child);
  expect(child.exitCode).toBe(1);
  expect(stderr).toContain('EFBIG');
  const path = join(dataDir, 'audit.jsonl');
  const raw = readFileSync(path, 'utf8');
  expect(raw.length).toBe(limit);
  expect(raw.endsWith('\n')).toBe(false);
  const complete = raw.split('\n').length - 1;

  const repairs: AuditRepair[] = [];
  const store = await FileAuditStore.open({ dataDir, signingKey: key, onRepair: (r) => repairs.push(r) });
  expect(repairs).toHaveLength(1);
  expect(repairs[0].offset).toBe(raw.lastIndexOf('\n') + 1);
  for (let i = 0; i < 20; i++) {
    await store.append({
      id: `C-${i}`,
      workflowId: 'wf-C',
      app: 'shop',
      digest: 'sha256:' + 'b'.repeat(64),
      environment: 'staging',
      event: 'deployed',
      details: { i },
    });
  }
  const result = await verify(path);
  expect(result.problems).toEqual([]);
  expect(result.records.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `C-${i}`));
  expect(result.records.slice(0, complete).every((r) => JSON.stringify(r.details).length > 16 * 1024)).toBe(true);
});

interface Tracked {
  child: ChildProcess;
  appended: number;
  stderr: string;
  exit?: string;
}

/** Counts the appends a child reports, from the moment it is spawned. */
function track(child: ChildProcess): Tracked {
  const t: Tracked = { child, appended: 0, stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (t.appended += d.toString().split('\n').length - 1));
  child.stderr?.on('data', (d: Buffer) => (t.stderr += d.toString()));
  child.on('exit', (code, signal) => (t.exit = String(code ?? signal)));
  return t;
}

async function waitUntil(done: () => boolean, t: Tracked, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (t.exit !== undefined || Date.now() > deadline) {
      throw new Error(
        `gave up waiting for ${what}: ${t.appended} appended, exit ${t.exit ?? 'none'}, stderr: ${t.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited(child);
}
