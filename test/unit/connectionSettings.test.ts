// The worker and CLI find Temporal the way the temporal CLI does: env vars and config profiles.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionSettings } from '../../src/client/connectionSettings';

test('defaults to a local server, the default namespace and the gantry task queue', () => {
  expect(connectionSettings({ TEMPORAL_CONFIG_FILE: '/nonexistent.toml' })).toMatchObject({
    connectionOptions: { address: 'localhost:7233' },
    namespace: 'default',
    taskQueue: 'gantry',
  });
});

test('env vars choose address, namespace, API key and task queue', () => {
  const s = connectionSettings({
    TEMPORAL_CONFIG_FILE: '/nonexistent.toml',
    TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'acme.a1b2c',
    TEMPORAL_API_KEY: 'secret-key',
    GANTRY_TASK_QUEUE: 'promotions',
  });
  expect(s).toMatchObject({
    connectionOptions: { address: 'acme.a1b2c.tmprl.cloud:7233', apiKey: 'secret-key' },
    namespace: 'acme.a1b2c',
    taskQueue: 'promotions',
  });
  // An API key implies TLS, as the temporal CLI does.
  expect(s.connectionOptions.tls).toBeTruthy();
});

test('a profile from the Temporal config file', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gantry-envconfig-')), 'temporal.toml');
  writeFileSync(file, '[profile.prod]\naddress = "temporal.prod.internal:7233"\nnamespace = "deploys"\n');
  expect(connectionSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toMatchObject({
    connectionOptions: { address: 'temporal.prod.internal:7233' },
    namespace: 'deploys',
  });
});
