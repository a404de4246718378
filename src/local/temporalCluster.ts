// The production-shaped Temporal (scripts/temporal/cluster.sh: the server built from
// go.temporal.io/server on a private PostgreSQL 15, SQL visibility) for one test file or benchmark,
// in a temp folder on loopback. A missing binary is a failure, never a skip: `npm test` builds it in setup.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './tools';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'temporal', 'cluster.sh');
export const TEMPORAL_SERVER_BIN = join(PROJECT_ROOT, '.tools', 'temporal-server', 'bin', 'temporal-server');
const TEMPORAL_UI_BIN = join(PROJECT_ROOT, '.tools', 'temporal-server', 'bin', 'temporal-ui-server');

export interface TemporalCluster {
  dir: string;
  /** 127.0.0.1:PORT of the frontend. */
  address: string;
  /** The Temporal web UI (temporalio/ui-server) in front of it. */
  uiUrl: string;
  /** The PostgreSQL instance Temporal uses (superuser URL); tests may create databases of their own on it. */
  databaseUrl: string;
  /** Stops the server (SIGKILL with crash) and starts it again on the same ports and database. */
  restartServer(crash?: boolean): Promise<void>;
  /** The temporal-server process (changes with restartServer). */
  serverPid(): number;
  stop(): Promise<void>;
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`cluster.sh ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-4000)}`));
      else resolve(stdout);
    });
  });
}

export async function startTemporalCluster(): Promise<TemporalCluster> {
  if (!existsSync(TEMPORAL_SERVER_BIN) || !existsSync(TEMPORAL_UI_BIN)) {
    throw new Error(
      'the Temporal server or its web UI is missing in .tools/temporal-server/bin: run `bash scripts/setup.sh --with-temporal-server` (npm test does)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'gantry-temporal-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
  try {
    await run(['start', '--dir', dir], 300_000);
  } catch (err) {
    await run(['stop', '--dir', dir], 60_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const env = Object.fromEntries(
    readFileSync(join(dir, 'env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    dir,
    address: env.TEMPORAL_ADDRESS,
    uiUrl: env.TEMPORAL_UI_URL,
    databaseUrl: env.DATABASE_URL,
    async restartServer(crash = false) {
      await run(['restart-server', '--dir', dir, ...(crash ? ['--crash'] : [])], 300_000);
    },
    serverPid() {
      return Number(readFileSync(join(dir, 'server.pid'), 'utf8').trim());
    },
    async stop() {
      await run(['stop', '--dir', dir], 120_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
