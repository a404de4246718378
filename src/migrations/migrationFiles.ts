// The app's migration files as they are at the promotion's source commit, read from its git
// repository (a bare clone into a temporary folder, removed afterwards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';

export interface MigrationFile {
  file: string;
  version: number;
  sql: string;
}

/** V3__add_orders.sql (Flyway) or 000003_add_orders.up.sql (golang-migrate); down files are not migrations to apply. */
export function migrationVersion(name: string): number | undefined {
  if (!name.endsWith('.sql') || name.endsWith('.down.sql')) return undefined;
  const m = /^V?(\d+)[_.-]/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export async function readMigrationFiles(repo: string, commit: string, path: string): Promise<MigrationFile[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-migrations-'));
  try {
    await simpleGit().clone(repo, dir, ['--bare', '--quiet']);
    const git = simpleGit(dir);
    const resolved = (await git.raw(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]).catch(() => '')).trim();
    if (!resolved) throw new Error(`commit ${commit} is not in ${repo}`);
    const listing = await git.raw(['ls-tree', '--name-only', resolved, `${path}/`]);
    const names = listing
      .split('\n')
      .filter(Boolean)
      .map((p) => p.slice(path.length + 1));
    const files = names.flatMap((name) => {
      const version = migrationVersion(name);
      return version === undefined ? [] : [{ name, version }];
    });
    const read = await Promise.all(
      files.map(async (f) => ({
        file: `${path}/${f.name}`,
        version: f.version,
        sql: await git.show([`${resolved}:${path}/${f.name}`]),
      })),
    );
    return read.sort((a, b) => a.version - b.version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
