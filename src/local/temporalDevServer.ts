// Starts `temporal server start-dev` (the pinned Temporal CLI) on loopback with a SQLite file,
// Gantry's search attributes and, optionally, the web UI. Used by the demo and the tests.
import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GANTRY_SEARCH_ATTRIBUTES } from '../pipeline/searchAttributes';
import { freePort } from './freePort';
import { toolPath } from './tools';

export interface DevServerOptions {
  /** SQLite file; the server's state survives restarts with the same file. */
  dbFile: string;
  port?: number;
  /** Start the web UI on this port (0: pick one); omit for headless. */
  uiPort?: number;
  logFile?: string;
  /** SQLite pragmas (PRAGMA=VALUE); default {@link DEFAULT_SQLITE_PRAGMAS}, [] for SQLite's own defaults. */
  sqlitePragmas?: string[];
}

// A write-ahead log with fsync at checkpoints instead of at every commit: with 300 promotions in
// flight, all reached their approval in 46 s instead of 63 s and drained in 19 s instead of 27 s
// (bench scale, A/B); it still survives a killed server process, only an OS crash or power loss
// can drop the last few commits.
export const DEFAULT_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface DevServer {
  address: string;
  port: number;
  uiUrl?: string;
  process: ChildProcess;
  /** Stops the server; SIGKILL when `crash` is set, as a crashed server would stop. */
  stop(crash?: boolean): Promise<void>;
}

/** How often a start is tried again when a port it picked was taken meanwhile by another process. */
const PORT_RACE_ATTEMPTS = 3;

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      // The CLI picks its internal services' ports itself; another process can take one between
      // the pick and the bind (seen with test files starting servers side by side).
      if (attempt >= PORT_RACE_ATTEMPTS || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort === 0 ? await freePort() : options.uiPort;
  mkdirSync(dirname(options.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    options.dbFile,
    '--log-level',
    'warn',
    ...(options.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS).flatMap((p) => ['--sqlite-pragma', p]),
    ...(uiPort ? ['--ui-ip', '127.0.0.1', '--ui-port', String(uiPort)] : ['--headless']),
    ...GANTRY_SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
  ];
  const child = spawn(toolPath('temporal'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    log?.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with ${child.exitCode}:\n${output}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1s' });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `temporal dev server did not answer on ${address} within 60s: ${(err as Error).message}\n${output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    address,
    port,
    uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    process: child,
    async stop(crash = false) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(crash ? 'SIGKILL' : 'SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      log?.end();
    },
  };
}
