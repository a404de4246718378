// What a command gate sees of the worker that runs it, with `gantry worker` as an operator runs it
// (Temporal API key, payload keys and other secrets in its environment): PATH, HOME, GANTRY_* and
// what the pipeline lists, nothing else; `fromEnv` secrets are read on the worker and never enter
// history; a relative cwd is resolved in the worker's folder.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigRepo } from '../../src/local/configRepo';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';
import { startWorkerProcess } from '../harness/workerProcess';

let stack: Stack;
let repo: string;
let worker: ChildProcess;
let workdir: string;
const WORKER_ENV = {
  TEMPORAL_API_KEY: 'temporal-api-key-of-the-worker',
  // The dev server has no TLS; the key is still sent, as a production worker would.
  TEMPORAL_TLS: 'false',
  WORKER_ONLY_SECRET: 'not-for-gates',
  STAGING_TOKEN: 'staging-token-read-on-the-worker',
};

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'gate-env', worker: false });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev'],
  });
  workdir = join(stack.dir, 'worker-workdir');
  mkdirSync(join(workdir, 'tests'), { recursive: true });
  worker = await startWorkerProcess(stack, [], { ...WORKER_ENV, GANTRY_WORKDIR: workdir });
});
afterAll(async () => {
  worker?.kill('SIGTERM');
  await stack?.stop();
});

async function gateDetail(gate: string) {
  const digest = testDigest();
  await stack.gantry.start(
    promotionInput(pipelineYaml(repo, ['web'], [{ name: 'dev', gates: [gate] }]), 'web', digest),
  );
  const result = await stack.gantry.result('web', digest);
  return { digest, result, detail: result.environments[0]?.gates?.[0]?.detail ?? result.reason ?? '' };
}

test('a command gate sees PATH, HOME, GANTRY_* and its listed env; not the Temporal API key, codec keys or any other worker variable', async () => {
  const { digest, result, detail } = await gateDetail(
    `command: { name: env, run: 'env | sort; pwd', cwd: tests, env: { TOKEN: { fromEnv: STAGING_TOKEN }, MODE: smoke } }`,
  );
  expect(result.outcome).toBe('promoted');
  const lines = detail.split('\n');
  const names = lines.filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => l.slice(0, l.indexOf('=')));
  // PWD (and OLDPWD, SHLVL, _ for some shells) are the shell's own.
  expect(names.filter((n) => !['PWD', 'OLDPWD', 'SHLVL', '_'].includes(n)).sort()).toEqual([
    'GANTRY_APP',
    'GANTRY_DIGEST',
    'GANTRY_ENVIRONMENT',
    'HOME',
    'MODE',
    'PATH',
    'TOKEN',
  ]);
  expect(lines).toContain(`TOKEN=${WORKER_ENV.STAGING_TOKEN}`);
  expect(lines).toContain(`GANTRY_DIGEST=${digest}`);
  for (const leaked of [WORKER_ENV.TEMPORAL_API_KEY, WORKER_ENV.WORKER_ONLY_SECRET, stack.codecKeys.split(':')[1]])
    expect(detail).not.toContain(leaked);
  // The relative cwd is the worker's folder, not the one gantry.yaml (or the test) is in.
  expect(lines).toContain(join(workdir, 'tests'));

  // The token came from the worker: history (workflow input and all) does not hold it, even decoded.
  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const input = await stack.decode(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);
  expect(JSON.stringify(input)).toContain('"fromEnv":"STAGING_TOKEN"');
  expect(JSON.stringify(input)).not.toContain(WORKER_ENV.STAGING_TOKEN);
});

test('a fromEnv variable the worker does not have fails the gate with its name, and the command does not run', async () => {
  const { result, detail } = await gateDetail(
    `command: { name: deploy-check, run: 'echo ran', env: { TOKEN: { fromEnv: PRODUCTION_TOKEN } } }`,
  );
  expect(result.outcome).toBe('failed');
  expect(detail).toBe('env TOKEN: PRODUCTION_TOKEN is not set on this worker (the pipeline reads it with fromEnv)');
});
