// An environment's migrations: and destructiveMigrations: blocks in gantry.yaml: checked when the
// file loads (each mistake with its field and line) and resolved into the promotion's plan.
import { ConfigError } from '../../../src/config/configError';
import { parseConfig } from '../../../src/config/loadConfig';
import { resolvePromotion } from '../../../src/config/resolvePromotion';

const file = (approval: string) => `version: 1
configRepo: { url: ../config.git }
approvers:
  alice: { keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4SopBCgTagyVvPWG3q2IHsl7guLGM7J8LcOgLErAt alice@laptop"] }
apps:
  web: { image: registry.example.com/acme/web }
environments:
  - name: production
    deploy: { gitops: { path: environments/production } }
    migrations:
      source: { repo: "../{app}.git", path: db/migrations/ }
      database: { urlFrom: PRODUCTION_DATABASE_URL }
      run: { command: migrate up, timeout: 5m }
    destructiveMigrations:
      approval: ${approval}
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'gantry.yaml', '/srv/pipelines');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
  throw new Error('the file was accepted');
}

test('the plan: source repo made absolute with {app}, defaults filled in, approval resolved like any other', () => {
  const input = resolvePromotion(
    parseConfig(file('{ from: [alice], expiresIn: 24h }'), 'gantry.yaml', '/srv/pipelines'),
    { app: 'web', digest: `sha256:${'a'.repeat(64)}`, commit: 'abc1234', requestedBy: 'ci' },
  );
  expect(input.environments[0].migrations).toEqual({
    source: { repo: '/srv/web.git', path: 'db/migrations' },
    database: { urlFrom: 'PRODUCTION_DATABASE_URL', table: 'schema_migrations' },
    run: { command: 'migrate up', timeoutMs: 300_000 },
    destructiveApproval: expect.objectContaining({
      required: 1,
      eligible: ['alice'],
      signatures: 'required',
      expiresInMs: 86_400_000,
    }),
  });
});

test('destructiveMigrations.approval is checked like an environment approval', () => {
  expect(problems(file('{ from: [alice, mallory], required: 3 }'))).toEqual([
    '15: environments[0].destructiveMigrations.approval.from[1]: unknown approver "mallory" (approvers: alice)',
    '15: environments[0].destructiveMigrations.approval.required: 3 approvals required but only 1 people may approve',
  ]);
  expect(
    problems(file('{ from: [alice] }').replace('urlFrom: PRODUCTION_DATABASE_URL', 'urlFrom: "postgres://secret@db"')),
  ).toEqual([
    expect.stringMatching(
      /^12: environments\[0\]\.migrations\.database\.urlFrom: "postgres:\/\/secret@db" does not match/,
    ),
  ]);
});
