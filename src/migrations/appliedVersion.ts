// The last migration version an environment's PostgreSQL database has applied, from the version
// table migration tools keep (golang-migrate's schema_migrations: one row, bigint version).
import { Client } from 'pg';

export async function appliedVersion(url: string, table: string): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const quoted = table
      .split('.')
      .map((part) => `"${part.replace(/"/g, '""')}"`)
      .join('.');
    const result = await client.query<{ v: string | null }>(`SELECT max(version)::text AS v FROM ${quoted}`);
    return Number(result.rows[0]?.v ?? 0);
  } catch (err) {
    // A database no migration has touched yet has no version table.
    if ((err as { code?: string }).code === '42P01') return 0;
    throw err;
  } finally {
    await client.end();
  }
}
