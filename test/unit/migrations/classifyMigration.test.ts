// Which statements of a migration need a person: parsed by PostgreSQL's own parser, so quoting,
// comments and several statements on a line are read as the database reads them.
import { classifyMigration } from '../../../src/migrations/classifyMigration';

test.each<[string, string]>([
  ['DROP TABLE users;', 'drops table users'],
  ['DROP INDEX CONCURRENTLY idx_users_email;', 'drops index idx_users_email'],
  ['TRUNCATE audit_log, sessions;', 'truncates audit_log, sessions'],
  ['ALTER TABLE users DROP COLUMN nickname;', 'drops column users.nickname'],
  ['ALTER TABLE users DROP CONSTRAINT users_email_key;', 'drops constraint users_email_key on users'],
  [
    'ALTER TABLE users ALTER COLUMN name TYPE varchar(20);',
    'changes the type of users.name (may narrow or rewrite its data)',
  ],
  [
    'ALTER TABLE users ALTER COLUMN name SET NOT NULL;',
    'makes users.name NOT NULL (fails on existing NULLs, and the running version may write them)',
  ],
  [
    'ALTER TABLE users ADD COLUMN tenant int NOT NULL;',
    'adds NOT NULL column users.tenant without a default (the running version cannot insert)',
  ],
  [
    'ALTER TABLE users RENAME COLUMN name TO full_name;',
    'renames column users.name to full_name (the running version still uses the old name)',
  ],
  [
    'ALTER TABLE users RENAME TO accounts;',
    'renames table users to accounts (the running version still uses the old name)',
  ],
  ['DELETE FROM sessions;', 'deletes every row of sessions (no WHERE)'],
  ['UPDATE users SET active = false;', 'updates every row of users (no WHERE)'],
])('%s is destructive', async (sql, reason) => {
  expect(await classifyMigration(sql)).toEqual([{ sql: sql.replace(/;$/, ''), destructive: reason }]);
});

test.each([
  'CREATE TABLE orders (id bigserial PRIMARY KEY, total numeric NOT NULL)',
  'ALTER TABLE users ADD COLUMN tenant int NOT NULL DEFAULT 0',
  'ALTER TABLE users ADD COLUMN note text',
  'ALTER TABLE users ALTER COLUMN name DROP NOT NULL',
  'CREATE INDEX CONCURRENTLY idx_orders_total ON orders (total)',
  "DELETE FROM sessions WHERE expires < now() - interval '30 days'",
  'UPDATE users SET active = true WHERE id = 1',
  "INSERT INTO settings (k, v) VALUES ('drop table', 'x')",
])('%s is safe', async (sql) => {
  expect(await classifyMigration(`${sql};`)).toEqual([{ sql }]);
});

test('a file of several statements is classified one by one, with the text of each', async () => {
  const file = `-- 0003: split names
CREATE TABLE "user names" (id int);
ALTER TABLE users ADD COLUMN given text; /* keep */ ALTER TABLE users DROP COLUMN full_name;
`;
  expect(await classifyMigration(file)).toEqual([
    { sql: '-- 0003: split names\nCREATE TABLE "user names" (id int)' },
    { sql: 'ALTER TABLE users ADD COLUMN given text' },
    { sql: '/* keep */ ALTER TABLE users DROP COLUMN full_name', destructive: 'drops column users.full_name' },
  ]);
});

test('SQL PostgreSQL cannot parse is an error naming the problem', async () => {
  await expect(classifyMigration('ALTER TABLE users DROP COLUMN;')).rejects.toThrow(/syntax error/);
});
