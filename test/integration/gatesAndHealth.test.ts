// Health checks and gates as an operator meets them: a failure ends the promotion with a reason
// that says what was seen, and nothing is deployed past it.
import { startDemoApp, type DemoApp } from '../../src/demo/demoApp';
import { createConfigRepo } from '../../src/local/configRepo';
import { freePort } from '../../src/local/freePort';
import { commitsIn } from '../harness/gitInspect';
import { startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, promotionInput, testDigest, type TestEnvironment } from '../harness/pipelineFile';

const IMAGE = 'registry.example.com/acme/web';
let stack: Stack;
let repo: string;
let dev: DemoApp;
let stuck: DemoApp;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'gates' });
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: IMAGE, overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'staging'],
  });
  dev = await startDemoApp({
    bareRepo: repo,
    overlayPath: 'environments/dev',
    imageName: IMAGE,
    port: await freePort(),
  });
  // An app that never picks up new digests (its sync looks at the wrong image name).
  stuck = await startDemoApp({
    bareRepo: repo,
    overlayPath: 'environments/staging',
    imageName: 'other/image',
    port: await freePort(),
  });
});
afterAll(async () => {
  await Promise.all([dev?.stop(), stuck?.stop()]);
  await stack?.stop();
});

async function promote(staging: Partial<TestEnvironment>) {
  const digest = testDigest();
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [
      { name: 'dev', healthUrl: dev.url },
      { name: 'staging', ...staging },
    ],
  );
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  return { digest, result: await stack.gantry.result('web', digest) };
}

test('a health check that never sees the digest times out with what it last saw', async () => {
  const digest = testDigest();
  const yaml = pipelineYaml(
    repo,
    ['web'],
    [{ name: 'dev', settings: { health: { http: { url: stuck.url, interval: '200ms', timeout: '2s' } } } }],
  );
  await stack.gantry.start(promotionInput(yaml, 'web', digest));
  const result = await stack.gantry.result('web', digest);
  expect(result.outcome).toBe('failed');
  expect(result.reason).toMatch(
    new RegExp(
      `^health dev failed: dev \\(${stuck.url}\\) not healthy within 2s \\(\\d+ checks\\); last: serves no digest, waiting for ${digest}$`,
    ),
  );
  expect(result.environments[0].state).toBe('failed');
});

test('a failing command gate stops the promotion and keeps its output', async () => {
  const { digest, result } = await promote({
    gates: [`command: { name: integration, run: 'echo "3 passed, 1 failed"; exit 1' }`],
  });
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'gates',
    environment: 'staging',
    reason: 'gate integration failed in staging: exit 1\n3 passed, 1 failed',
  });
  expect(result.environments[1].gates).toEqual([
    { name: 'integration', passed: false, detail: 'exit 1\n3 passed, 1 failed' },
  ]);
  // Staging was deployed (gates run against the deployed environment); nothing after it.
  expect(
    commitsIn(repo)
      .filter((c) => c.trailers['Gantry-Digest'] === digest)
      .map((c) => c.trailers['Gantry-Environment']),
  ).toEqual(['staging', 'dev']);
});

test('a command gate that runs too long is killed at its timeout', async () => {
  const started = Date.now();
  const { result } = await promote({ gates: [`command: { name: slow, run: 'echo started; sleep 30', timeout: 1s }`] });
  expect(result.reason).toBe('gate slow failed in staging: timed out after 1s\nstarted');
  expect(Date.now() - started).toBeLessThan(20_000);
});

test('an HTTP smoke gate checks status and content', async () => {
  const ok = await promote({ gates: [`http: { name: version, url: "${dev.url}/version", contains: digest }`] });
  expect(ok.result.outcome).toBe('promoted');
  expect(ok.result.environments[1].gates).toEqual([
    { name: 'version', passed: true, detail: `GET ${dev.url}/version answered 200` },
  ]);
  const bad = await promote({ gates: [`http: { name: missing, url: "${dev.url}/nope" }`] });
  expect(bad.result.reason).toBe(`gate missing failed in staging: GET ${dev.url}/nope answered 404, expected 200`);
});

test('a soak holds the environment for its duration', async () => {
  const { result } = await promote({ soak: '2s' });
  const soak = result.timings.find((t) => t.stage === 'soak')!;
  expect(Date.parse(soak.finishedAt!) - Date.parse(soak.startedAt)).toBeGreaterThanOrEqual(2000);
  expect(result.outcome).toBe('promoted');
});
