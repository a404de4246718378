// No Docker engine runs here, so docker-compose.yml is checked for what the README promises:
// the services, the worker's Temporal env vars, and loopback-only published ports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/local/tools';

interface Compose {
  services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; ports?: string[]; command?: string[]; depends_on?: string[] }>;
}
const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

test('names the Temporal server with PostgreSQL, the UI and the Gantry worker', () => {
  expect(Object.keys(compose.services).sort()).toEqual(['gantry-worker', 'postgresql', 'temporal', 'temporal-ui']);
  expect(compose.services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(compose.services['gantry-worker']).toMatchObject({ build: '.', command: ['worker'], depends_on: ['temporal'] });
});

test('the worker is configured with the env vars the README documents', () => {
  const env = compose.services['gantry-worker'].environment ?? {};
  expect(env).toEqual({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', GANTRY_TASK_QUEUE: 'gantry', GANTRY_CONFIG: '/etc/gantry/gantry.yaml' });
  for (const name of Object.keys(env)) expect(readme).toContain(name);
  expect(readme).toContain('docker compose up');
});

test('published ports listen on loopback only', () => {
  const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
  expect(ports.length).toBeGreaterThan(0);
  for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:/);
});
