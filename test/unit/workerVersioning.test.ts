// The build id a `gantry worker` registers with, and the versioning flags it refuses.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/local/tools';
import { defaultBuildId } from '../../src/worker/workerDeployment';
import { runCli } from '../harness/devServerStack';

const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('the build id is $GANTRY_BUILD_ID, else the package version and the commit of the checkout', () => {
  expect(defaultBuildId({ GANTRY_BUILD_ID: '2.0.0+ci.42' })).toBe('2.0.0+ci.42');
  const commit = execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short=12', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  expect(defaultBuildId({})).toMatch(new RegExp(`^${version.replace(/\./g, '\\.')}\\+${commit}(-dirty)?$`));
});

test('without git metadata (an installed package) the build id is the package version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-nogit-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '3.1.4' }));
  expect(defaultBuildId({}, dir)).toBe('3.1.4');
});

test.each<[string, string[], string]>([
  [
    'a build id with a space',
    ['worker', '--build-id', 'build 7'],
    '--build-id must be letters, digits, ".", "_", "+" or "-", got "build 7"',
  ],
  [
    'a deployment name with a colon',
    ['worker', '--deployment-name', 'gantry:prod'],
    '--deployment-name must be letters, digits',
  ],
  [
    '--set-current without versioning',
    ['worker', '--no-versioning', '--set-current'],
    '--set-current needs versioning (drop --no-versioning)',
  ],
])('%s exits 2 before connecting', async (_name, args, message) => {
  const result = await runCli(args, { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(result.stderr).toContain(message);
  expect(result.code).toBe(2);
});
