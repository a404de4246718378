// Migrations gate, part 2 (optional): run the team's migration command against the environment's
// database with the pending files, under its own timeout. Looks first: nothing pending, nothing run.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { appliedVersion } from '../../src/migrations/appliedVersion';
import { readMigrationFiles } from '../../src/migrations/migrationFiles';
import { databaseUrl, type MigrationsRequest } from './planMigrations';

export interface MigrationsApplied {
  ran: boolean;
  /** The database's version before and after. */
  from: number;
  to: number;
  files: string[];
  output: string;
}

const OUTPUT_TAIL = 2000;

export async function applyMigrations(request: MigrationsRequest): Promise<MigrationsApplied> {
  const run = request.plan.run;
  if (!run) throw ApplicationFailure.nonRetryable('no migrations.run command configured', 'MigrationsConfigError');
  const url = databaseUrl(request);
  const { source, database } = request.plan;
  const from = await appliedVersion(url, database.table);
  const pending = (await readMigrationFiles(source.repo, request.commit, source.path)).filter((f) => f.version > from);
  if (pending.length === 0) return { ran: false, from, to: from, files: [], output: '' };

  const dir = mkdtempSync(join(tmpdir(), 'gantry-migrate-'));
  const filesDir = join(dir, 'migrations');
  mkdirSync(filesDir);
  for (const f of pending) writeFileSync(join(filesDir, basename(f.file)), f.sql);
  try {
    const { code, output, timedOut } = await runCommand(
      run.command,
      dir,
      { ...process.env, DATABASE_URL: url, GANTRY_MIGRATIONS_DIR: filesDir, GANTRY_ENVIRONMENT: request.environment },
      run.timeoutMs,
    );
    const to = await appliedVersion(url, database.table);
    if (timedOut)
      throw ApplicationFailure.nonRetryable(
        `migration command timed out after ${run.timeoutMs / 1000}s (database at version ${to}): ${output.slice(-500)}`,
        'MigrationFailed',
      );
    if (code !== 0)
      throw ApplicationFailure.nonRetryable(
        `migration command exited ${code} (database at version ${to}): ${output.slice(-500)}`,
        'MigrationFailed',
      );
    return { ran: true, from, to, files: pending.map((f) => f.file), output: output.slice(-OUTPUT_TAIL) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runCommand(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout stops the command and everything it started.
    const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL * 4);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const beat = setInterval(() => Context.current().heartbeat(), 5_000);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(beat);
      resolve({ code, output, timedOut });
    });
  });
}
