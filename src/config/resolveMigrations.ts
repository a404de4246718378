// An environment's migrations: and destructiveMigrations: blocks, resolved into the plan a
// promotion is pinned to (source repo made absolute, durations in milliseconds).
import { isAbsolute, resolve } from 'node:path';
import type { MigrationsPlan } from '../migrations/types';
import { parseDuration } from '../pipeline/duration';
import type { EnvironmentConfig, GantryConfig } from './configTypes';
import { resolveApproval } from './resolveApproval';

export function resolveMigrations(env: EnvironmentConfig, config: GantryConfig): MigrationsPlan | undefined {
  const m = env.migrations;
  if (!m) return undefined;
  const repo =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(m.source.repo) || /^[^/]+@[^:]+:/.test(m.source.repo) || isAbsolute(m.source.repo)
      ? m.source.repo
      : resolve(config.baseDir, m.source.repo);
  return {
    source: { repo, path: m.source.path.replace(/\/+$/, '') },
    database: { urlFrom: m.database.urlFrom, table: m.database.table ?? 'schema_migrations' },
    ...(m.run ? { run: { command: m.run.command, timeoutMs: parseDuration(m.run.timeout ?? '10m') } } : {}),
    ...(env.destructiveMigrations
      ? { destructiveApproval: resolveApproval(env.destructiveMigrations.approval, config) }
      : {}),
  };
}
