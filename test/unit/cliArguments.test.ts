// The CLI refuses bad arguments with exit 2 and a message that says what to fix, before it
// contacts Temporal (TEMPORAL_ADDRESS points nowhere here, so any attempt would exit 3).
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../harness/devServerStack';

const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
const DIGEST = `sha256:${'d'.repeat(64)}`;
const dir = mkdtempSync(join(tmpdir(), 'gantry-cli-'));
const config = join(dir, 'gantry.yaml');
// Shaped like a key for the checks that come after the key's (never used to sign: Temporal is never reached).
const keyLike = join(dir, 'id_ed25519');
writeFileSync(keyLike, '-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n');
writeFileSync(
  config,
  'version: 1\nconfigRepo: { url: /tmp/none.git }\napps:\n  web: { image: x/web }\nenvironments:\n  - name: dev\n    deploy: { gitops: { path: environments/dev } }\n',
);

test.each<[string, string[], string]>([
  ['an unknown command', ['promote'], "error: unknown command 'promote'"],
  ['start without a digest', ['start', '--app', 'web'], "error: required option '--digest <digest>' not specified"],
  [
    'start with a bad digest',
    ['--config', config, 'start', '--app', 'web', '--digest', 'latest'],
    'gantry: digest must be sha256:<64 lowercase hex characters>',
  ],
  [
    'start for an unknown app',
    ['--config', config, 'start', '--app', 'api', '--digest', DIGEST],
    'gantry: unknown app "api" (gantry.yaml defines: web)',
  ],
  [
    'start without a pipeline file',
    ['--config', join(dir, 'missing.yaml'), 'start', '--app', 'web', '--digest', DIGEST],
    'cannot read: ENOENT',
  ],
  [
    'approve without --as',
    ['approve', 'web', DIGEST, '--env', 'production'],
    "error: required option '--as <name>' not specified",
  ],
  [
    'approve with an empty name',
    ['approve', 'web', DIGEST, '--env', 'production', '--as', ' '],
    'gantry: --as must not be empty',
  ],
  [
    'approve a bad digest',
    ['approve', 'web', 'sha256:12', '--env', 'production', '--as', 'a'],
    'gantry: digest must be sha256:<64 lowercase hex characters>',
  ],
  [
    'approve with a missing key file',
    ['--config', config, 'approve', 'web', DIGEST, '--env', 'dev', '--as', 'a', '--key', join(dir, 'no-such-key')],
    `gantry: cannot read the key given with --key: ${join(dir, 'no-such-key')}: ENOENT`,
  ],
  [
    'approve with a file that is not a key',
    ['--config', config, 'approve', 'web', DIGEST, '--env', 'dev', '--as', 'a', '--key', config],
    `gantry: the key given with --key is not an SSH private key: ${config}`,
  ],
  [
    'approve for an environment the pipeline lacks',
    ['--config', config, 'approve', 'web', DIGEST, '--env', 'production', '--as', 'a'],
    'gantry: web has no environment "production" (gantry.yaml defines: dev)',
  ],
  [
    'reject for an unknown app',
    ['--config', config, 'reject', 'api', DIGEST, '--env', 'dev', '--as', 'a'],
    'gantry: unknown app "api" (gantry.yaml defines: web)',
  ],
  [
    'override-freeze with a missing key file',
    [
      '--config',
      config,
      'override-freeze',
      'web',
      DIGEST,
      '--env',
      'dev',
      '--as',
      'a',
      '--reason',
      'r',
      '--key',
      join(dir, 'nope'),
    ],
    `gantry: cannot read the key given with --key: ${join(dir, 'nope')}: ENOENT`,
  ],
  [
    'override-freeze for an environment the pipeline lacks',
    [
      '--config',
      config,
      'override-freeze',
      'web',
      DIGEST,
      '--env',
      'prod',
      '--as',
      'a',
      '--reason',
      'r',
      '--key',
      keyLike,
    ],
    'gantry: web has no environment "prod" (gantry.yaml defines: dev)',
  ],
  ['status with a missing argument', ['status', 'web'], "error: missing required argument 'digest'"],
  ['an unknown option', ['list', '--awaiting'], "error: unknown option '--awaiting'"],
  [
    'a worker cache of one',
    ['worker', '--max-cached-workflows', '1'],
    'gantry: --max-cached-workflows must be a whole number from 2 to 100000, got "1"',
  ],
  [
    'a worker cache that is not a number',
    ['worker', '--max-cached-workflows', 'lots'],
    'gantry: --max-cached-workflows must be a whole number from 2 to 100000, got "lots"',
  ],
])('%s exits 2', async (_name, args, message) => {
  const result = await runCli(args, nowhere);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stdout).toBe('');
});

test('validate accepts a good file and names problems in a bad one', async () => {
  expect(await runCli(['--config', config, 'validate'], nowhere)).toMatchObject({
    code: 0,
    stdout: `${config} is valid: web (dev)\n`,
  });
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'version: 1\napps:\n  web: { image: x/web }\nenvironments:\n  - name: dev\n    deploy: { gitops: {} }\n    soak: soon\n',
  );
  const result = await runCli(['--config', bad, 'validate'], nowhere);
  expect(result.code).toBe(2);
  expect(result.stderr).toBe(
    `gantry: ${bad} is not a valid Gantry pipeline:\n  ${bad}:6: environments[0].deploy.gitops.path: required\n  ${bad}:7: environments[0].soak: must be a duration like 30s, 10m, 72h or 1h30m\n`,
  );
});

test('an unreachable Temporal exits 3 and says where it looked', async () => {
  const result = await runCli(['status', 'web', DIGEST], nowhere);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain('gantry: cannot reach Temporal at 127.0.0.1:1 (namespace default)');
});

test('schema prints the JSON Schema editors use', async () => {
  const result = await runCli(['schema'], nowhere);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({
    title: 'Gantry pipeline (gantry.yaml)',
    required: ['version', 'apps'],
  });
});
