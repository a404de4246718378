// The installation's audit log on a real PostgreSQL: several worker processes appending at once,
// writers SIGKILLed mid-burst, a retried id arriving from another worker. Expected: one chain, no
// gap, no duplicate, every signature verifies; `gantry audit verify/export` read the same log.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuditKey, loadOrCreateAuditKey, verifyAuditLog, type AuditSigningKey } from '../../src/audit';
import { PostgresAuditStore, readPostgresAuditText } from '../../src/audit/postgresAuditStore';
import { PROJECT_ROOT } from '../../src/local/tools';
import { runCli } from '../harness/devServerStack';
import { startPostgres, type PostgresServer } from '../harness/postgresServer';
import { compileAuditSources } from '../unit/audit/helpers';

let pg: PostgresServer;
let work: string;
let lib: string;
let keyDir: string;
let key: AuditSigningKey;
let appender: string;

beforeAll(async () => {
  pg = await startPostgres();
  work = mkdtempSync(join(tmpdir(), 'gantry-pgaudit-'));
  lib = compileAuditSources(join(work, 'lib'));
  keyDir = join(work, 'keys');
  key = await loadOrCreateAuditKey(keyDir);
  appender = join(work, 'appender.js');
  writeFileSync(appender, APPENDER);
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

/** argv: storeModule url keyPem tag from to parallel; prints each finished index. */
const APPENDER = `
const { readFileSync } = require('node:fs');
const [lib, url, keyPem, tag, from, to, parallel] = process.argv.slice(2);
const { PostgresAuditStore } = require(lib.replace(/index\\.js$/, 'postgresAuditStore.js'));
const { auditSigningKeyFromPem } = require(lib);
(async () => {
  const store = await PostgresAuditStore.open({ url, signingKey: auditSigningKeyFromPem(readFileSync(keyPem)) });
  for (let i = Number(from); i < Number(to); i += Number(parallel)) {
    const batch = [];
    for (let j = i; j < Math.min(i + Number(parallel), Number(to)); j++) {
      batch.push(store.append({ id: tag + '-' + j, workflowId: 'wf-' + tag, app: 'shop', digest: 'sha256:' + 'b'.repeat(64),
        environment: 'staging', event: 'deployed', details: { i: j } }).then(() => process.stdout.write(j + '\\n')));
    }
    await Promise.all(batch);
  }
  await store.close();
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface Tracked {
  child: ChildProcess;
  appended: number;
  stderr: string;
  exit?: string;
  done: Promise<void>;
}

function spawnAppender(url: string, tag: string, from: number, to: number, parallel = 4): Tracked {
  const child = spawn(
    process.execPath,
    [appender, lib, url, join(keyDir, 'audit-ed25519.pem'), tag, String(from), String(to), String(parallel)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_PATH: join(PROJECT_ROOT, 'node_modules') },
    },
  );
  const t = { child, appended: 0, stderr: '' } as Tracked;
  child.stdout!.on('data', (d: Buffer) => (t.appended += d.toString().split('\n').length - 1));
  child.stderr!.on('data', (d: Buffer) => (t.stderr += d.toString()));
  t.done = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      t.exit = String(code ?? signal);
      resolve();
    }),
  );
  return t;
}

async function waitUntil(done: () => boolean, t: Tracked, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (t.exit !== undefined || Date.now() > deadline)
      throw new Error(
        `gave up waiting for ${what}: ${t.appended} appended, exit ${t.exit ?? 'none'}, stderr: ${t.stderr}`,
      );
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function verifyTable(url: string) {
  return verifyAuditLog(await readPostgresAuditText(url), { publicKeys: [key.publicKey] });
}

test("four writer processes at once, two SIGKILLed mid-burst and restarted, one retrying another worker's ids: one chain, no gap, no duplicate", async () => {
  const url = await pg.createDatabase('audit_concurrency');
  // Enough per writer that the kills land mid-burst even when this test process is slow to poll.
  const count = 400;
  const writers = ['A', 'B', 'C', 'D'].map((tag) => spawnAppender(url, tag, 0, count));
  await waitUntil(() => writers[0].appended >= 30, writers[0], 'A to append 30');
  writers[0].child.kill('SIGKILL');
  await waitUntil(() => writers[1].appended >= 60, writers[1], 'B to append 60');
  writers[1].child.kill('SIGKILL');
  await Promise.all(writers.map((w) => w.done));
  expect(writers.map((w) => w.exit)).toEqual(['SIGKILL', 'SIGKILL', '0', '0']);
  expect(writers.map((w) => w.stderr).join('')).toBe('');

  // What the kills left is already a whole chain: a killed transaction leaves nothing behind.
  const before = await verifyTable(url);
  expect(before.problems).toEqual([]);
  expect(before.records.map((r) => r.seq)).toEqual(Array.from({ length: before.records.length }, (_, i) => i + 1));

  // Restarted writers redo their whole bursts; a fifth process retries A's and B's ids (the same
  // activity retried on another worker) at the same time.
  const again = [
    spawnAppender(url, 'A', 0, count),
    spawnAppender(url, 'B', 0, count),
    spawnAppender(url, 'A', 0, count, 8),
    spawnAppender(url, 'B', 0, count, 8),
  ];
  await Promise.all(again.map((w) => w.done));
  expect(again.map((w) => `${w.exit}${w.stderr}`)).toEqual(['0', '0', '0', '0']);

  const after = await verifyTable(url);
  expect(after.problems).toEqual([]);
  expect(after.ok).toBe(true);
  expect(after.records.map((r) => r.seq)).toEqual(Array.from({ length: 4 * count }, (_, i) => i + 1));
  expect(new Set(after.records.map((r) => r.id)).size).toBe(4 * count);
  // Records committed before the kills kept their place and bytes; retries only added the rest.
  expect(after.records.slice(0, before.records.length)).toEqual(before.records);
}, 240_000);

test('a retried append returns the record another worker wrote, and a store that lost its connection reconnects', async () => {
  const url = await pg.createDatabase('audit_retry');
  const one = await PostgresAuditStore.open({ url, signingKey: key });
  const otherKey = generateAuditKey(); // a second worker with a key of its own (as after a rotation)
  const two = await PostgresAuditStore.open({ url, signingKey: otherKey });
  try {
    const entry = {
      id: 'wf/run/deployed:staging',
      workflowId: 'wf',
      app: 'shop',
      digest: 'sha256:' + 'c'.repeat(64),
      environment: 'staging',
      event: 'deployed',
    };
    const first = await one.append(entry);
    const retried = await two.append({ ...entry, details: { attempt: 2 } });
    expect(retried).toEqual(first);
    const second = await two.append({ ...entry, id: 'wf/run/finished' });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, keyId: otherKey.keyId });
    // Every backend of this database is terminated (a PostgreSQL restart or failover, as a worker sees it).
    await pg.query(
      pg.url,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'audit_retry' AND pid <> pg_backend_pid()",
    );
    // The store reconnects by itself: the caller sees no error.
    const third = await one.append({ ...entry, id: 'wf/run/after-restart' });
    expect(third.seq).toBe(3);
    const text = await readPostgresAuditText(url);
    expect(verifyAuditLog(text, { publicKeys: [key.publicKey, otherKey.publicKey] })).toMatchObject({
      ok: true,
      lastSeq: 3,
    });
    // What drift detection reads (AuditStore.readAll) is the same chain, from either worker.
    expect(await two.readAll()).toEqual([first, second, third]);
    // Without the rotated key, its record is named, not silently accepted.
    expect(verifyAuditLog(text, { publicKeys: [key.publicKey] }).problems).toEqual([
      expect.objectContaining({ seq: 2, kind: 'bad-signature' }),
    ]);
  } finally {
    await one.close();
    await two.close();
  }
});

test('gantry audit verify and export read the PostgreSQL log named by GANTRY_AUDIT_URL, and name a tampered row', async () => {
  const url = await pg.createDatabase('audit_cli');
  const store = await PostgresAuditStore.open({ url, signingKey: key });
  const base = {
    workflowId: 'promote/shop/sha256:dd',
    app: 'shop',
    digest: 'sha256:' + 'd'.repeat(64),
    environment: 'production',
  };
  await store.append({ ...base, id: 'x/deployed', event: 'deployed' });
  await store.append({
    ...base,
    id: 'x/approval',
    event: 'approval-accepted',
    details: { approver: 'alice', keyFingerprint: 'SHA256:abc', decision: 'approve' },
  });
  await store.close();
  const env = { GANTRY_AUDIT_URL: url, GANTRY_AUDIT_KEY_DIR: keyDir };

  const ok = await runCli(['audit', 'verify'], env);
  expect(ok).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(
      /^audit log ok: 2 records, chain and signatures verified \(PostgreSQL postgres:\/\/gantry:\*\*\*@127\.0\.0\.1:\d+\/audit_cli\)/,
    ),
  });
  const exported = JSON.parse((await runCli(['audit', 'export', '--events', '--json'], env)).stdout) as Array<{
    event: string;
  }>;
  expect(exported.map((e) => e.event)).toEqual(['deployed', 'approval-accepted']);

  await pg.query(
    url,
    `UPDATE gantry_audit SET line = replace(line, '"environment":"production"', '"environment":"staging"') WHERE seq = 1`,
  );
  const tampered = await runCli(['audit', 'verify'], env);
  expect(tampered.code).toBe(1);
  expect(tampered.stderr).toMatch(/\(seq 1\): edited:/);

  // Bad input: a clear error and nothing written.
  const noKeyDir = await runCli(['audit', 'verify'], { GANTRY_AUDIT_URL: url, GANTRY_AUDIT_KEY_DIR: '' });
  expect(noKeyDir).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('GANTRY_AUDIT_KEY_DIR must name the folder holding the audit key'),
  });
  const notPostgres = await runCli(['audit', 'verify'], {
    GANTRY_AUDIT_URL: 'mysql://x@127.0.0.1/db',
    GANTRY_AUDIT_KEY_DIR: keyDir,
  });
  expect(notPostgres).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('GANTRY_AUDIT_URL must be a postgres:// URL'),
  });
  const down = await runCli(['audit', 'verify'], {
    GANTRY_AUDIT_URL: url.replace(/:\d+\//, ':1/'),
    GANTRY_AUDIT_KEY_DIR: keyDir,
  });
  expect(down).toMatchObject({ code: 3, stderr: expect.stringContaining('cannot read the audit log in PostgreSQL') });
  expect(down.stderr).not.toContain(new URL(url).password);
  expect((await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM gantry_audit'))[0].n).toBe('2');
});
