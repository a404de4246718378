// A real PostgreSQL (Debian's postgresql-15) for the migrations gate: initdb into a private temp
// folder as the postgres user, started on a free loopback port, stopped by the test.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/freePort';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** Runs SQL with psql; returns its unaligned output. */
  psql(sql: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  if (!existsSync(join(PG_BIN, 'initdb')))
    throw new Error(`${PG_BIN}/initdb is missing: run \`npm run setup\` (installs Debian's postgresql)`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: run it as the postgres user, in a folder it owns.
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (bin: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const [cmd, argv] = asPostgres
        ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]]
        : [join(PG_BIN, bin), args];
      execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${bin} failed: ${stderr || err.message}`)) : resolve(stdout),
      );
    });
  await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off`;
  await run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    psql: (sql) =>
      new Promise<string>((resolve, reject) =>
        execFile('psql', [url, '-v', 'ON_ERROR_STOP=1', '-X', '-A', '-t', '-q', '-c', sql], (err, stdout, stderr) =>
          err ? reject(new Error(stderr || err.message)) : resolve(stdout.trim()),
        ),
      ),
    stop: async () => {
      await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A migration command like golang-migrate's `up`: each pending file in version order, in its own
 * transaction, recording the version in schema_migrations. */
export const MIGRATE_SCRIPT = `set -euo pipefail
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c 'CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL DEFAULT false)'
for f in $(ls "$GANTRY_MIGRATIONS_DIR" | sort -V); do
  v=$(echo "$f" | sed -E 's/^V?0*([0-9]+).*/\\1/')
  echo "applying $f"
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -1 -f "$GANTRY_MIGRATIONS_DIR/$f" -c "INSERT INTO schema_migrations (version) VALUES ($v)"
done
`;
