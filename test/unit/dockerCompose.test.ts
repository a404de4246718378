// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked for what the
// README promises: the production topology (schema job, server on PostgreSQL, UI, a main and a
// production worker, encryption keys and the codec server), the workers' env vars, volumes for
// their data, loopback-only published ports.
// The same topology runs for real in test/integration/multiWorker.test.ts (scripts/temporal/cluster.sh).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseCodecKeys } from '../../src/codec/codecKeys';
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
    'gantry-codec-keys',
    'gantry-codec-server',
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
      GANTRY_CODEC_KEYS_FILE: '/run/gantry-codec/keys',
      GANTRY_CONFIG: '/etc/gantry/gantry.yaml',
    });
    for (const name of Object.keys(worker.environment ?? {})) expect(readme).toContain(name);
    // Data in a named volume; the audit key in another, read-only (never inside the data folder).
    // The policy it enforces, mounted read-only.
    expect(worker.volumes).toEqual([
      expect.stringMatching(/^gantry(-production)?-data:\/var\/lib\/gantry$/),
      'gantry-audit-key:/run/gantry-audit-key:ro',
      'gantry-codec-keys:/run/gantry-codec:ro',
      '${GANTRY_POLICY:-./examples/gantry.yaml}:/etc/gantry/gantry.yaml:ro',
    ]);
  }
  expect(Object.keys(compose.volumes).sort()).toEqual([
    'gantry-audit-key',
    'gantry-codec-keys',
    'gantry-data',
    'gantry-production-data',
    'postgresql-data',
  ]);
  expect(readme).toContain('docker compose up');
});

test('payloads are encrypted: the workers and the codec server read one key file; the UI decodes through the codec server behind its token', () => {
  expect(services['gantry-worker'].depends_on).toMatchObject({
    'gantry-codec-keys': { condition: 'service_completed_successfully' },
  });
  const codec = services['gantry-codec-server'];
  expect(codec.command).toEqual([
    'codec-server',
    '--port',
    '8081',
    '--host',
    '0.0.0.0',
    '--ui-origin',
    'http://localhost:8080',
  ]);
  expect(codec.environment).toEqual({
    GANTRY_CODEC_KEYS_FILE: '/run/gantry-codec/keys',
    GANTRY_CODEC_SERVER_TOKEN: expect.stringMatching(/^\$\{GANTRY_CODEC_SERVER_TOKEN:\?/),
  });
  expect(codec.volumes).toEqual(['gantry-codec-keys:/run/gantry-codec:ro']);
  expect(services['temporal-ui'].environment).toMatchObject({ TEMPORAL_CODEC_ENDPOINT: 'http://localhost:8081' });
});

test("the key maker's command writes a key file the codec reads, once, readable by its owner only", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-codec-keys-'));
  // Compose turns $$ into $ and runs the command with /bin/sh -c, in the volume mounted at /run/gantry-codec.
  const command = (services['gantry-codec-keys'].command ?? [])
    .join(' ')
    .replace(/\$\$/g, '$')
    .replaceAll('/run/gantry-codec', dir);
  execFileSync('/bin/sh', ['-c', command]);
  const first = readFileSync(join(dir, 'keys'), 'utf8');
  const keys = parseCodecKeys(first, 'the key file');
  expect({ current: keys.current.id, ids: [...keys.byId.keys()], bytes: keys.byId.get('k1')?.length }).toEqual({
    current: 'k1',
    ids: ['k1'],
    bytes: 32,
  });
  expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o600);
  execFileSync('/bin/sh', ['-c', command]);
  expect(readFileSync(join(dir, 'keys'), 'utf8')).toBe(first); // a restart keeps the key
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
