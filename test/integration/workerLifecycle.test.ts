// `gantry worker` as an operator runs it, through outages and restarts: started before Temporal
// is reachable it waits with backoff and says so; SIGTERM lets the activity it is running finish
// (no second run of a gate), then it exits 0.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { freePort } from '../../src/local/freePort';
import { startDevServer, type DevServer } from '../../src/local/temporalDevServer';
import { activityRuns } from '../harness/activityRuns';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { untilTrue } from '../harness/until';
import { spawnGantryWorker } from '../harness/workerProcess';

interface Watched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function gantryWorker(address: string, dataDir: string, args: string[] = [], codecKeys = ''): Watched {
  // The stack's codec keys, so the worker reads what the test's client encrypted.
  const child = spawnGantryWorker(
    { TEMPORAL_ADDRESS: address, GANTRY_DATA_DIR: dataDir, ...(codecKeys ? { GANTRY_CODEC_KEYS: codecKeys } : {}) },
    args,
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Waits for what the worker should reach; on a timeout the error shows what the worker printed. */
function untilWorker(what: string, probe: () => boolean, w: Watched, timeoutMs = 60_000): Promise<void> {
  return untilTrue(what, probe, { timeoutMs, detail: () => `worker output:\n${w.output()}` });
}

describe('a worker started while Temporal is unreachable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-lifecycle-'));
  let server: DevServer | undefined;
  const workers: Watched[] = [];
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('retries with backoff, saying so, and starts polling once the server is up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const w = gantryWorker(address, join(dir, 'data'), ['--task-queue', 'lifecycle']);
    workers.push(w);
    await untilWorker('two failed attempts', () => /attempt 2\)/.test(w.output()), w, 30_000);
    expect(w.output()).toMatch(
      new RegExp(`cannot reach Temporal at ${address} \\(.*\\); retrying in 1s \\(attempt 1\\)`),
    );
    expect(w.output()).toMatch(/retrying in 2s \(attempt 2\)/);
    expect(w.child.exitCode).toBeNull();

    server = await startDevServer({ dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log'), port });
    await untilWorker(
      'the worker to poll',
      () => w.output().includes(`gantry worker polling lifecycle on ${address}`),
      w,
      60_000,
    );
    expect(w.output()).toMatch(new RegExp(`connected to Temporal at ${address} after \\d+ attempts`));
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.output()).toContain('gantry worker on lifecycle stopped');
  }, 120_000);

  test('SIGTERM while it waits ends it at once, exit 0', async () => {
    const w = gantryWorker(`127.0.0.1:${await freePort()}`, join(dir, 'data2'));
    workers.push(w);
    await untilWorker('a failed attempt', () => w.output().includes('attempt 1)'), w, 30_000);
    const sent = Date.now();
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(3_000);
    expect(w.output()).toContain('SIGTERM: stopped waiting for Temporal');
  });
});

describe('SIGTERM while an activity runs', () => {
  let stack: Stack;
  const workers: Watched[] = [];
  beforeAll(async () => {
    stack = await startStack({ taskQueue: 'drain', worker: false });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await stack?.stop();
  });

  test('the running gate finishes on the stopping worker (once), the worker exits 0, the next worker completes the promotion', async () => {
    const repo = await createConfigRepo({
      dir: stack.dir,
      apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
      environments: ['dev'],
    });
    const started = join(stack.dir, 'gate-started');
    const runs = join(stack.dir, 'gate-runs');
    const gate = `command: { name: slow, run: 'touch ${started}; sleep 4; echo run >> ${runs}', timeout: 1m }`;
    const digest = testDigest();
    const first = gantryWorker(
      stack.server.address,
      join(stack.dir, 'data'),
      ['--task-queue', 'drain', '--identity', 'first-worker'],
      stack.codecKeys,
    );
    workers.push(first);
    await untilWorker('the first worker to poll', () => first.output().includes('gantry worker polling drain'), first);
    await stack.gantry.start(
      promotionInput(pipelineYaml(repo, ['web'], [{ name: 'dev', gates: [gate] }]), 'web', digest),
    );
    await untilWorker('the gate to start', () => existsSync(started), first);

    first.child.kill('SIGTERM');
    await untilWorker(
      'the drain message',
      () => first.output().includes('SIGTERM: no new tasks; draining 1 in-flight activities (up to 5m)'),
      first,
      10_000,
    );
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(runs, 'utf8')).toBe('run\n'); // it finished before the worker exited

    const second = gantryWorker(
      stack.server.address,
      join(stack.dir, 'data'),
      ['--task-queue', 'drain', '--identity', 'second-worker'],
      stack.codecKeys,
    );
    workers.push(second);
    expect(await stack.gantry.result('web', digest)).toMatchObject({ outcome: 'promoted' });
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    const gateRun = activityRuns(await stack.gantry.handle('web', digest).fetchHistory()).find(
      (r) => r.activityType === 'runGate',
    );
    expect(gateRun).toMatchObject({ attempt: 1, startedBy: 'first-worker', completedBy: 'first-worker' });
  }, 120_000);
});
