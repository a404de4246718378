// `gantry validate` points out the paths a worker resolves on its own disk; `fromEnv` references
// are checked like every other field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/loadConfig';
import { resolveOnWorker } from '../../src/config/workerPaths';
import { runCli } from '../harness/devServerStack';

const dir = mkdtempSync(join(tmpdir(), 'gantry-paths-'));
const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
const pipeline = (gate: string, deploy = '{ gitops: { path: environments/dev } }') =>
  `version: 1\nconfigRepo: { url: /tmp/none.git }\napps:\n  web: { image: x/web }\nenvironments:\n  - name: dev\n    deploy: ${deploy}\n    gates:\n      - ${gate}\n`;

test('validate lists the relative cwd and kubeconfig that workers resolve in their own folder', async () => {
  const file = join(dir, 'relative.yaml');
  writeFileSync(
    file,
    pipeline(
      `command: { run: make it, cwd: tests, env: { TOKEN: { fromEnv: STAGING_TOKEN } } }`,
      '{ kubernetes: { namespace: web, deployment: web, kubeconfig: kube/config } }',
    ),
  );
  const out = await runCli(['--config', file, 'validate'], nowhere);
  expect(out.code).toBe(0);
  expect(out.stdout.split('\n')).toEqual([
    `${file} is valid: web (dev)`,
    `note: these paths are relative; each worker resolves them where the activity runs ($GANTRY_WORKDIR, else the folder \`gantry worker\` started in), not against ${dir}:`,
    '  environments[0].deploy.kubernetes.kubeconfig: kube/config',
    '  environments[0].gates[0].command.cwd: tests',
    '',
  ]);
});

test('absolute paths need no note', async () => {
  const file = join(dir, 'absolute.yaml');
  writeFileSync(file, pipeline(`command: { run: make it, cwd: /srv/tests }`));
  expect((await runCli(['--config', file, 'validate'], nowhere)).stdout).toBe(`${file} is valid: web (dev)\n`);
});

test.each([
  [
    'a fromEnv that is not a variable name',
    `command: { run: x, env: { TOKEN: { fromEnv: "staging token" } } }`,
    'environments[0].gates[0].command.env.TOKEN: must be a string, or { fromEnv: NAME } with NAME a variable set on the worker',
  ],
  [
    'a reference with an unknown field',
    `command: { run: x, env: { TOKEN: { fromFile: /etc/token } } }`,
    'command.env.TOKEN: must be a string, or { fromEnv: NAME }',
  ],
  ['a variable name with a dash', `command: { run: x, env: { MY-TOKEN: abc } }`, 'MY-TOKEN'],
])('%s is refused', (_name, gate, mentions) => {
  expect(() => parseConfig(pipeline(gate))).toThrow(mentions);
});

test('a relative path resolves against $GANTRY_WORKDIR, else the working directory', () => {
  expect(resolveOnWorker('kube/config', { GANTRY_WORKDIR: '/srv/gantry' })).toBe('/srv/gantry/kube/config');
  expect(resolveOnWorker('/etc/kubeconfig', { GANTRY_WORKDIR: '/srv/gantry' })).toBe('/etc/kubeconfig');
  expect(resolveOnWorker('tests', {})).toBe(join(process.cwd(), 'tests'));
});
