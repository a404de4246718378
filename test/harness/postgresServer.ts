// A real PostgreSQL 15 (Debian's) for one test file: its own data folder in a temp dir, 127.0.0.1
// only, started and stopped by scripts/postgres/instance.sh (the script the loopback Temporal uses).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from '../../src/local/tools';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'postgres', 'instance.sh');

export interface PostgresServer {
  dir: string;
  /** postgres://gantry:...@127.0.0.1:PORT/postgres */
  url: string;
  /** A fresh database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  query<T extends Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

function script(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`instance.sh ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-pg-'));
  chmodSync(dir, 0o755); // the server runs as the postgres user when the tests run as root
  let out: string;
  try {
    out = await script(['start', '--dir', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = out
    .trim()
    .split('\n')
    .pop()!
    .replace(/^DATABASE_URL=/, '');
  const query = async <T extends Record<string, unknown>>(
    target: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> => {
    const client = new Client({ connectionString: target });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    dir,
    url,
    query,
    async createDatabase(name) {
      await query(url, `CREATE DATABASE ${name}`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async stop() {
      await script(['stop', '--dir', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
