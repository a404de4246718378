// A whole promotion with canary steps on real parts: HAProxy routes a bounded load loop to stable
// and canary instances, Prometheus scrapes both, the dev server runs the promotion. A canary
// with 5% errors against 1% is caught by the sequential test; the promotion puts traffic back
// on stable, reverts the config repo to the digest production ran before, and ends rolled back.
// Then `gantry rollback` is exercised by hand, fast-tracked and in full.
import { join } from 'node:path';
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { verifyAuditFile } from '../../src/audit';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import { readFileSync } from 'node:fs';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { startCanaryRig, type CanaryRig } from '../harness/canary/canaryRig';
import type { Haproxy } from '../harness/canary/haproxy';
import { startLoad, type LoadLoop } from '../harness/canary/loadLoop';
import { cliEnv, runCli, type Stack } from '../harness/devServerStack';
import { adoptPipeline, pipelineYaml, testDigest, writePipeline } from '../harness/pipelineFile';

jest.setTimeout(300_000);
const IMAGE = 'registry.example.com/acme/web';
let rig: CanaryRig;
let stack: Stack;
let haproxy: Haproxy;
let load: LoadLoop | undefined;
let repo: string;

beforeAll(async () => {
  rig = await startCanaryRig({
    taskQueue: 'canary-promotion',
    errorRates: { stable: 0.01, canary: 0.05 },
    seeds: { stable: 21, canary: 22 },
  });
  ({ stack, haproxy } = rig);
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['production'],
  });
});
afterAll(async () => {
  await load?.stop();
  await rig?.stop();
});

function pipelineFile(name: string, withCanary: boolean, gates: string[] = [], soak?: string): string {
  const canary = rig.canaryConfig();
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [
      {
        name: 'production',
        ...(soak ? { soak } : {}),
        ...(gates.length ? { gates } : {}),
        ...(withCanary ? { settings: { canary } } : {}),
      },
    ],
  );
  const file = join(stack.dir, name);
  writePipeline(file, yaml);
  return file;
}

const productionDigest = () => readKustomizeDigest(fileAt(repo, 'environments/production/kustomization.yaml'), IMAGE);

test('a bad canary is detected on real metrics; traffic goes back to stable and the config repo to the previous digest', async () => {
  const [good, bad] = [testDigest(), testDigest()];
  // production runs `good` (promoted without a canary), then `bad` arrives with one.
  const plain = pipelineFile('plain.yaml', false);
  const withCanary = pipelineFile('canary.yaml', true);
  adoptPipeline(plain);
  const first = await runCli(['--config', plain, 'start', '--app', 'web', '--digest', good], cliEnv(stack));
  expect(first.code).toBe(0);
  expect((await stack.gantry.result('web', good)).outcome).toBe('promoted');
  expect(productionDigest()).toBe(good);

  load = startLoad({ url: haproxy.url, ratePerSecond: 200, maxRequests: 200 * 120, maxSeconds: 120 });
  const started = Date.now();
  adoptPipeline(withCanary);
  const run = await runCli(['--config', withCanary, 'start', '--app', 'web', '--digest', bad, '--wait'], cliEnv(stack));
  const seconds = (Date.now() - started) / 1000;
  expect(run.code).toBe(1);
  const result = await stack.gantry.result('web', bad);
  expect(result.outcome).toBe('rolled-back');
  expect(result.reason).toMatch(new RegExp(`^production rolled back to ${good.slice(0, 19)}: canary failed: `));
  const analysis = result.environments[0].canary!.analyses[0];
  expect(analysis).toMatchObject({ decision: 'Failed', decidedBy: 'error-rate' });
  expect(analysis.errorRate!.logLikelihoodRatio).toBeGreaterThanOrEqual(analysis.errorRate!.upperThreshold);
  console.log(
    `[canary promotion] bad canary detected after ${analysis.requestsToDecision.canary} canary + ${analysis.requestsToDecision.stable} stable requests, ${(analysis.durationMs / 1000).toFixed(1)} s of analysis, ${seconds.toFixed(1)} s from start to rolled back`,
  );

  expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
  expect(productionDigest()).toBe(good);
  const [revert] = commitsIn(repo);
  expect(revert.subject).toBe(`roll back web in production to ${good.slice(0, 19)}`);
  expect(revert.trailers['Gantry-Rollback-Of']).toBe(bad);
  expect(run.stdout).toContain('✓ rollback production');

  const audit = await verifyAuditFile(join(stack.dir, 'audit', 'audit.jsonl'), {
    publicKeys: [readFileSync(join(stack.dir, 'keys', 'audit-ed25519.pub.pem'))],
  });
  expect(audit.ok).toBe(true);
  const events = audit.records.filter((r) => r.digest === bad).map((r) => r.event);
  expect(events).toEqual(expect.arrayContaining(['canary-decision', 'rollback', 'finished']));
});

test('gantry rollback by hand: fast track skips a failing gate and a long soak; a second rollback is refused', async () => {
  await load?.stop();
  const [older, newer] = [testDigest(), testDigest()];
  // A failing gate and a long soak: a fast-tracked rollback must skip both.
  const file = pipelineFile('gated.yaml', false, ["command: { name: smoke, run: 'exit 1' }"], '1h');
  const plain = pipelineFile('plain.yaml', false);
  for (const d of [older, newer]) {
    await runCli(['--config', plain, 'start', '--app', 'web', '--digest', d], cliEnv(stack));
    await stack.gantry.result('web', d);
  }
  expect(productionDigest()).toBe(newer);

  adoptPipeline(file);
  const fast = await runCli(
    [
      '--config',
      file,
      'rollback',
      'web',
      '--env',
      'production',
      '--as',
      'oncall',
      '--reason',
      'error spike',
      '--fast',
      '--wait',
    ],
    cliEnv(stack),
  );
  expect(fast.stdout).toContain(
    `accepted: rollback/web/production/${newer} puts production back on ${older} (fast track)`,
  );
  expect(fast.code).toBe(0);
  expect(fast.stdout).not.toContain('gates production');
  expect(productionDigest()).toBe(older);
  expect(commitsIn(repo)[0].trailers['Gantry-Rollback-Of']).toBe(newer);

  const again = await runCli(
    ['--config', file, 'rollback', 'web', '--env', 'production', '--as', 'oncall'],
    cliEnv(stack),
  );
  expect(again).toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/^refused: production was already rolled back to sha256:/),
  });
  expect(
    await runCli(['--config', file, 'rollback', 'api', '--env', 'production', '--as', 'oncall'], cliEnv(stack)),
  ).toMatchObject({ code: 2 });
});
