// Shared pieces of the benchmarks: statistics and markdown tables, dev servers and bench worker
// processes (every one tracked and stopped), the reference pipeline, history reading, bounded waits.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryClient } from '../src/client/gantryClient';
import { createConfigRepo } from '../src/local/configRepo';
import { adoptedPolicyFile, promotionInput, uniqueDigest } from '../src/local/pipelinePolicy';
import { startDevServer, type DevServer } from '../src/local/temporalDevServer';
import { PROJECT_ROOT } from '../src/local/tools';
import { GANTRY_AWAITING_APPROVAL } from '../src/pipeline/searchAttributes';
import type { PromotionInput } from '../src/pipeline/types';
import type { ActivitySetName } from './benchActivities';

// ---------------------------------------------------------------------------------------------
// Statistics and output

/** Linear-interpolated percentile (p in 0..100) of the values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
export const median = (values: number[]) => percentile(values, 50);
export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (Math.abs(value) >= 10) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}
export const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
export const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

export function table(headers: string[], rows: (string | number)[][]): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** One benchmark's output: a markdown section (caption, one table, notes) and a one-line verdict. */
export interface Section {
  title: string;
  caption: string;
  table: string;
  notes: string[];
  /** Headline figures for the summary at the top of RESULTS.md. */
  headline: string[];
}

export function renderSection(s: Section): string {
  return [`## ${s.title}`, '', s.caption, '', s.table, '', ...s.notes.map((n) => `- ${n}`)].join('\n');
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Run options shared by every benchmark

export interface BenchContext {
  /** Scratch folder for this run (SQLite files, bare repos, bundles, logs); removed at the end. */
  dir: string;
  /** Prebuilt workflow bundles, so every worker process loads code instead of bundling again. */
  bundles: { gantry: string; bare: string };
  /** Fewer repetitions (CI smoke run). */
  quick: boolean;
  /** Promotions in flight for the scale benchmark, one run per count. */
  scaleCounts: number[];
}

// ---------------------------------------------------------------------------------------------
// Processes: every server and worker started here is tracked and stopped at exit.

const children = new Set<ChildProcess>();

export function stopAllChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export interface BenchServer {
  server: DevServer;
  dbFile: string;
  address: string;
  client: Client;
  gantry: GantryClient;
  /** SIGKILLs the server and starts it again on the same port and SQLite file; returns ms until it answers. */
  crashAndRestart(): Promise<{ killedAt: number; answeringAt: number }>;
  stop(): Promise<void>;
}

export async function startBenchServer(ctx: BenchContext, name: string, taskQueue: string): Promise<BenchServer> {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, 'temporal.db');
  const logFile = join(dir, 'temporal.log');
  // Every benchmark counts what its server holds: a second start on the same file would count the first's too.
  if (existsSync(dbFile)) throw new Error(`bench server "${name}" already ran in this run: give each run its own name`);
  let server = await startDevServer({ dbFile, logFile });
  children.add(server.process);
  let connection = await Connection.connect({ address: server.address });
  let client = new Client({ connection, namespace: 'default' });
  const gantry = await GantryClient.connect({
    connectionOptions: { address: server.address },
    namespace: 'default',
    taskQueue,
  });
  const self: BenchServer = {
    server,
    dbFile,
    address: server.address,
    client,
    gantry,
    async crashAndRestart() {
      const killedAt = Date.now();
      await server.stop(true);
      server = await startDevServer({ dbFile, logFile, port: server.port });
      const answeringAt = Date.now();
      children.add(server.process);
      self.server = server;
      await connection.close().catch(() => undefined);
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: 'default' });
      self.client = client;
      return { killedAt, answeringAt };
    },
    async stop() {
      await gantry.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await server.stop();
      children.delete(server.process);
    },
  };
  return self;
}

export interface BenchWorker {
  pid: number;
  child: ChildProcess;
  /** ms from spawn to "ready" (connected, workers created, polling). */
  startupMs: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface WorkerSpec {
  gantryQueue?: string;
  bareQueue?: string;
  activities?: ActivitySetName;
  /** Serve the worker's Prometheus metrics on 127.0.0.1:<port> (cache size, evictions, replays). */
  metricsPort?: number;
  /** Overrides the product default (src/worker/workerTuning.ts), to compare cache sizes. */
  maxCachedWorkflows?: number;
}

/** Spawns bench/benchWorker.js (the real workflow bundle, a benchmark activity set) with node. */
export function spawnBenchWorker(ctx: BenchContext, address: string, spec: WorkerSpec): Promise<BenchWorker> {
  const args = [join(PROJECT_ROOT, 'dist', 'bench', 'benchWorker.js'), '--activities', spec.activities ?? 'instant'];
  if (spec.gantryQueue) args.push('--gantry', spec.gantryQueue, '--gantry-bundle', ctx.bundles.gantry);
  if (spec.bareQueue) args.push('--bare', spec.bareQueue, '--bare-bundle', ctx.bundles.bare);
  if (spec.metricsPort) args.push('--metrics-port', String(spec.metricsPort));
  if (spec.maxCachedWorkflows) args.push('--max-cached-workflows', String(spec.maxCachedWorkflows));
  args.push('--policy', adoptedPolicyFile());
  // The worker's audit log and key go to the run's scratch folder, never to ~/.gantry.
  return spawnUntilReady(
    args,
    { TEMPORAL_ADDRESS: address, GANTRY_DATA_DIR: join(ctx.dir, 'worker-data') },
    'bench worker ready',
  );
}

function spawnUntilReady(args: string[], env: Record<string, string>, readyLine: string): Promise<BenchWorker> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker not ready within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stderr!.removeAllListeners('data');
        // Keep draining the pipes so the worker never blocks on a full one.
        child.stdout!.resume();
        child.stderr!.on('data', (c: Buffer) => {
          const text = c.toString();
          if (/error/i.test(text)) log(`worker ${child.pid}: ${text.trim().slice(0, 300)}`);
        });
        resolve({
          pid: child.pid!,
          child,
          startupMs: performance.now() - started,
          async kill(signal: NodeJS.Signals = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill(signal);
              const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
              await exited;
              clearTimeout(t);
            }
            children.delete(child);
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited ${code}:\n${output}`));
    });
  });
}

/** Sum of every series of a metric on a Prometheus endpoint (all labels). */
export async function scrapeMetric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum += Number(m[2]);
  }
  return sum;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** VmRSS and VmHWM (peak) of a process, in kB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

// ---------------------------------------------------------------------------------------------
// The reference pipeline: examples/gantry.yaml's stages without the soak: verify; dev deploy + health;
// staging deploy + health + two gates; production approval + deploy + health. Nine activities.
// One unsigned approval, no freeze windows, no webhooks (those features are not measured here).

export const REFERENCE_ACTIVITIES = 9;

/** A 4-step canary for production: setWeight 25, a 1 s pause, an analysis, setWeight 100 (router and metrics are bench overrides). */
export const CANARY_4_STEPS = [
  '    canary:',
  '      router: { haproxy: { socket: "127.0.0.1:9", backend: "{app}" } }',
  '      metrics: { prometheus: { url: "http://127.0.0.1:9" } }',
  '      steps:',
  '        - setWeight: 25',
  '        - pause: 1s',
  '        - analysis:',
  '            errorRate:',
  '              canary: { errors: "canary_errors", total: "canary_total" }',
  '              stable: { errors: "stable_errors", total: "stable_total" }',
  '            interval: 1s',
  '            maxDuration: 2m',
  '        - setWeight: 100',
];

export function referencePipelineYaml(repoUrl: string, apps: string[], productionExtra: string[] = []): string {
  return [
    'version: 1',
    `configRepo: { url: "${repoUrl}", branch: main, author: { name: Gantry, email: gantry@bench.example } }`,
    'apps:',
    ...apps.map((a) => `  ${a}: { image: registry.example.com/bench/${a} }`),
    'environments:',
    '  - name: dev',
    '    deploy: { gitops: { path: "apps/{app}/environments/dev" } }',
    '    health: { http: { url: "http://127.0.0.1:9/{app}", timeout: 5m } }',
    '  - name: staging',
    '    deploy: { gitops: { path: "apps/{app}/environments/staging" } }',
    '    health: { kubernetesRollout: { namespace: staging, deployment: "{app}", timeout: 10m } }',
    '    gates:',
    '      - http: { name: smoke, url: "http://127.0.0.1:9/{app}/health", expectStatus: 200 }',
    '      - command: { name: integration, run: "true", timeout: 15m }',
    '  - name: production',
    // One unsigned approval: signed multi-person approvals, freeze windows and webhooks are not part of this pipeline.
    '    approval: { expiresIn: 72h, signatures: optional }',
    '    deploy: { gitops: { path: "apps/{app}/environments/production" } }',
    '    health: { kubernetesRollout: { namespace: production, deployment: "{app}", timeout: 15m } }',
    ...productionExtra,
    '',
  ].join('\n');
}

export const ENVIRONMENTS = ['dev', 'staging', 'production'];

/** A bare config repo with an overlay per app and environment, and a pipeline pointing at it. */
export async function referenceRepo(
  ctx: BenchContext,
  name: string,
  apps: string[],
): Promise<{ repo: string; yaml: string }> {
  const dir = mkdtempSync(join(ctx.dir, `${name}-repo-`));
  const repo = await createConfigRepo({
    dir,
    apps: apps.map((a) => ({
      name: a,
      image: `registry.example.com/bench/${a}`,
      overlayPath: (env) => `apps/${a}/environments/${env}`,
    })),
    environments: ENVIRONMENTS,
  });
  return { repo, yaml: referencePipelineYaml(repo, apps) };
}

/** Apps the scale benchmarks spread their promotions over (fewer when N is smaller). */
export const SCALE_APPS = 100;

/**
 * N promotions of the reference pipeline spread over SCALE_APPS apps, queued per app (ordering:
 * queue): one app's digests would supersede each other, and one lane per promotion is not the
 * load of a platform team either.
 */
export async function promotionsOfManyApps(ctx: BenchContext, name: string, count: number): Promise<PromotionInput[]> {
  const apps = Array.from({ length: Math.min(SCALE_APPS, count) }, (_, i) => `app${String(i).padStart(3, '0')}`);
  const { yaml: reference } = await referenceRepo(ctx, name, apps);
  const yaml = `${reference}ordering: queue\n`;
  const templates = apps.map((app) => promotionOf(yaml, app, benchDigest()));
  return Array.from({ length: count }, (_, i) => ({ ...templates[i % apps.length], digest: benchDigest() }));
}

/** One promotion of a pipeline, resolved by the loader the CLI uses (as the tests resolve theirs). */
export const promotionOf = (yaml: string, app: string, digest: string): PromotionInput =>
  promotionInput(yaml, app, digest);

/** A fresh valid digest per call (no two runs share an artifact). */
export const benchDigest = (): string => uniqueDigest();

// ---------------------------------------------------------------------------------------------
// History

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export const EventType = temporal.api.enums.v1.EventType;

/** Event time in ms since the epoch, with the server's sub-millisecond part. */
export function eventMs(e: HistoryEvent): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export async function historyOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

/** Size of the history as the server stores it (protobuf encoding). */
export async function historyBytes(client: Client, workflowId: string): Promise<{ events: number; bytes: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return {
    events: history.events?.length ?? 0,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
  };
}

export function activityType(events: HistoryEvent[], e: HistoryEvent): string | undefined {
  const scheduledId = Number(
    e.activityTaskScheduledEventAttributes
      ? e.eventId
      : (e.activityTaskStartedEventAttributes?.scheduledEventId ??
          e.activityTaskCompletedEventAttributes?.scheduledEventId ??
          0),
  );
  return (
    events.find((x) => Number(x.eventId) === scheduledId)?.activityTaskScheduledEventAttributes?.activityType?.name ??
    undefined
  );
}

/** Each activity of a history: type, scheduled/started/completed times (ms), attempt. */
export function activitiesOf(events: HistoryEvent[]) {
  const byScheduled = new Map<
    number,
    { type: string; input: string; scheduled: number; started?: number; completed?: number; attempt?: number }
  >();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const input = Buffer.from(s.input?.payloads?.[0]?.data ?? new Uint8Array()).toString();
      byScheduled.set(Number(e.eventId), { type: s.activityType?.name ?? '?', input, scheduled: eventMs(e) });
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const a = byScheduled.get(Number(st.scheduledEventId));
      if (a) Object.assign(a, { started: eventMs(e), attempt: st.attempt ?? 1 });
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const a = byScheduled.get(Number(c.scheduledEventId));
      if (a) a.completed = eventMs(e);
    }
  }
  return [...byScheduled.values()];
}

/**
 * Waits (server long-poll on the history, no polling loop) until the promotion upserts
 * GantryAwaitingApproval = true: the moment it starts waiting for a decision.
 */
export async function waitUntilAwaitingApproval(
  client: Client,
  workflowId: string,
  timeoutMs = 120_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${workflowId} did not reach its approval within ${timeoutMs} ms`);
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      waitNewEvent: true,
      nextPageToken,
      maximumPageSize: 1000,
    });
    for (const e of res.history?.events ?? []) {
      const field =
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[
          GANTRY_AWAITING_APPROVAL.name
        ];
      if (field && Buffer.from(field.data ?? new Uint8Array()).toString() === 'true') return eventMs(e);
      if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes)
        throw new Error(`${workflowId} ended before its approval`);
    }
    if (!res.nextPageToken?.length) throw new Error(`${workflowId}: history ended without an approval wait`);
    nextPageToken = res.nextPageToken;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'gantry-bench-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
