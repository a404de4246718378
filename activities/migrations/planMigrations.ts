// Migrations gate, part 1: which of the app's migrations (at the source commit) this environment's
// database has not applied yet, and which of their statements are destructive.
import { ApplicationFailure } from '@temporalio/common';
import { appliedVersion } from '../../src/migrations/appliedVersion';
import { classifyMigration } from '../../src/migrations/classifyMigration';
import { readMigrationFiles } from '../../src/migrations/migrationFiles';
import type { DestructiveStatement, MigrationsPlan, PendingMigration } from '../../src/migrations/types';

export interface MigrationsRequest {
  environment: string;
  commit: string;
  plan: MigrationsPlan;
}

export interface MigrationsFound {
  applied: number;
  pending: PendingMigration[];
  destructive: DestructiveStatement[];
}

export async function planMigrations(request: MigrationsRequest): Promise<MigrationsFound> {
  const url = databaseUrl(request);
  const { source, database } = request.plan;
  const [files, applied] = await Promise.all([
    readMigrationFiles(source.repo, request.commit, source.path).catch(notRetried('MigrationsSourceError')),
    appliedVersion(url, database.table),
  ]);
  const pending: PendingMigration[] = [];
  for (const f of files.filter((f) => f.version > applied)) {
    let statements: PendingMigration['statements'];
    try {
      statements = await classifyMigration(f.sql);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `${f.file} at ${request.commit.slice(0, 12)} is not valid PostgreSQL: ${(err as Error).message}`,
        'MigrationsSourceError',
      );
    }
    pending.push({ file: f.file, version: f.version, statements });
  }
  const destructive = pending.flatMap((m) =>
    m.statements.flatMap((s) => (s.destructive ? [{ file: m.file, sql: s.sql, reason: s.destructive }] : [])),
  );
  return { applied, pending, destructive };
}

/** The database URL lives on the worker (its environment), never in the workflow's history. */
export function databaseUrl(request: MigrationsRequest): string {
  const url = process.env[request.plan.database.urlFrom];
  if (!url)
    throw ApplicationFailure.nonRetryable(
      `the worker has no ${request.plan.database.urlFrom} (the database URL of ${request.environment}, per migrations.database.urlFrom)`,
      'MigrationsConfigError',
    );
  return url;
}

function notRetried(type: string) {
  return (err: unknown): never => {
    throw ApplicationFailure.nonRetryable((err as Error).message, type);
  };
}
