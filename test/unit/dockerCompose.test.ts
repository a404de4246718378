// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked for what the
// README promises: the production topology (schema job, server on PostgreSQL, UI, a main and a
// production worker), the workers' env vars, volumes for their data, loopback-only published ports.
// The same topology runs for real in test/integration/multiWorker.test.ts (scripts/temporal/cluster.sh).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/local/tools';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
const { services } = compose;

test('names PostgreSQL, the schema job, the Temporal server, the UI and two Gantry workers; no auto-setup image', () => {
  expect(Object.keys(services).sort()).toEqual([
    'gantry-audit-key',
    'gantry-worker',
    'gantry-worker-production',
    'postgresql',
    'temporal',
    'temporal-namespace',
    'temporal-schema',
    'temporal-ui',
  ]);
  expect(Object.values(services).map((s) => s.image ?? '')).not.toContainEqual(expect.stringContaining('auto-setup'));
  expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(services.temporal.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  const schema = (services['temporal-schema'].command ?? []).join('\n');
  for (const step of [
    '--db temporal setup-schema -v 0.0',
    'postgresql/v12/temporal/versioned',
    '--db temporal_visibility setup-schema -v 0.0',
    'postgresql/v12/visibility/versioned',
    '--db gantry_audit create-database',
  ]) {
    expect(schema).toContain(step);
  }
});

test('a main worker and a production worker on its own task queue, sharing one audit log in PostgreSQL', () => {
  const main = services['gantry-worker'];
  const production = services['gantry-worker-production'];
  expect(main).toMatchObject({ build: '.', command: ['worker'] });
  expect(production).toMatchObject({ build: '.', command: ['worker', '--task-queue', 'gantry-production'] });
  for (const worker of [main, production]) {
    expect(worker.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
    expect(worker.environment).toEqual({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
      GANTRY_TASK_QUEUE: 'gantry',
      GANTRY_DATA_DIR: '/var/lib/gantry',
      GANTRY_AUDIT_URL: 'postgres://temporal:temporal@postgresql:5432/gantry_audit',
      GANTRY_AUDIT_KEY_DIR: '/run/gantry-audit-key',
      GANTRY_CONFIG: '/etc/gantry/gantry.yaml',
    });
    for (const name of Object.keys(worker.environment ?? {})) expect(readme).toContain(name);
    // Data in a named volume; the audit key in another, read-only (never inside the data folder).
    // The policy it enforces, mounted read-only.
    expect(worker.volumes).toEqual([
      expect.stringMatching(/^gantry(-production)?-data:\/var\/lib\/gantry$/),
      'gantry-audit-key:/run/gantry-audit-key:ro',
      '${GANTRY_POLICY:-./examples/gantry.yaml}:/etc/gantry/gantry.yaml:ro',
    ]);
  }
  expect(Object.keys(compose.volumes).sort()).toEqual([
    'gantry-audit-key',
    'gantry-data',
    'gantry-production-data',
    'postgresql-data',
  ]);
  expect(readme).toContain('docker compose up');
});

test('the image runs the supported Node (24, as package.json engines says), has git and openssh-client, and keeps its data in a volume', () => {
  const engines = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
  ).engines.node;
  expect(engines).toBe('>=24');
  expect(dockerfile).toMatch(/^FROM node:24-bookworm-slim$/m);
  expect(dockerfile).toMatch(/apt-get install[^\n]*\n?[^\n]*\bgit\b[^\n]*\bopenssh-client\b/);
  expect(dockerfile).toContain('VOLUME ["/var/lib/gantry"]');
  expect(dockerfile).toContain('ENV GANTRY_DATA_DIR=/var/lib/gantry');
});

test('published ports listen on loopback only', () => {
  const ports = Object.values(services).flatMap((s) => s.ports ?? []);
  expect(ports.length).toBeGreaterThan(0);
  for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
});
