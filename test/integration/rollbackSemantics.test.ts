// Rollbacks that really go back, and environments left clean, on a real dev server, a real config
// repo and a real HAProxy: onFailure: rollback after a failing gate (and a clear failure when there
// is nothing to go back to), a rollback through a manual freeze, a canary weight change held by a
// freeze that started mid-canary, and a completed canary that leaves stable on the new digest with
// all traffic.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHaproxyCanaryWeight } from '../../activities/traffic/haproxy';
import { freezeEnvironment, unfreezeEnvironment } from '../../src/client/manualFreezes';
import { readKustomizeDigest } from '../../src/gitops/kustomizeImage';
import { createConfigRepo } from '../../src/local/configRepo';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { startApp, type CanaryApp } from '../harness/canary/app';
import { startHaproxy, type Haproxy } from '../harness/canary/haproxy';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { until } from '../harness/until';
import { commitsIn, fileAt } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest, type TestEnvironment } from '../harness/pipelineFile';

jest.setTimeout(180_000);
let stack: Stack;
let apps: CanaryApp[];
let haproxy: Haproxy;

beforeAll(async () => {
  apps = await Promise.all([
    startApp('stable', { errorRate: 0, latencyMs: 0 }, 31),
    startApp('canary', { errorRate: 0, latencyMs: 0 }, 32),
  ]);
  [stack, haproxy] = await Promise.all([
    startStack({ taskQueue: 'rollback-semantics' }),
    startHaproxy({ stablePort: apps[0].port, canaryPort: apps[1].port }),
  ]);
});
afterAll(async () => {
  await stack?.stop();
  await haproxy?.stop();
  await Promise.all((apps ?? []).map((a) => a.stop()));
});

// Each test promotes its own app: an app's lane remembers what was promoted where, across repos.
let app = 'web';
let appCount = 0;
beforeEach(() => {
  app = `web${++appCount}`;
});
const image = () => `registry.example.com/acme/${app}`;

async function repoWith(environments: string[]): Promise<string> {
  return createConfigRepo({
    apps: [{ name: app, image: image(), overlayPath: (e) => `environments/${e}` }],
    environments,
  });
}
const pinned = (repo: string, env: string) =>
  readKustomizeDigest(fileAt(repo, `environments/${env}/kustomization.yaml`), image());
const yamlFor = (repo: string, environments: TestEnvironment[]) => pipelineYaml(repo, [app], environments);

async function promote(yaml: string, digest = testDigest()): Promise<{ digest: string; result: PromotionStatus }> {
  await stack.gantry.start(promotionInput(yaml, app, digest));
  return { digest, result: await stack.gantry.result(app, digest) };
}

function auditEvents(digest: string): Array<{ event: string; details: Record<string, unknown> }> {
  return readFileSync(join(stack.dir, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; digest: string; details: Record<string, unknown> })
    .filter((r) => r.digest === digest);
}

describe('onFailure: rollback', () => {
  const failingGate = "command: { name: smoke, run: 'echo smoke says no; exit 1' }";
  const env = (gates?: string[]): TestEnvironment => ({ name: 'staging', ...(gates ? { gates } : {}) });

  test('a failing gate puts the environment back on the digest promoted there before', async () => {
    const repo = await repoWith(['staging']);
    const good = await promote(yamlFor(repo, [env()]));
    expect(good.result.outcome).toBe('promoted');
    const { digest, result } = await promote(
      yamlFor(repo, [{ ...env([failingGate]), settings: { onFailure: 'rollback' } }]),
    );
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe(
      `staging rolled back to ${good.digest.slice(0, 19)}: gate smoke failed in staging: exit 1\nsmoke says no`,
    );
    expect(result.environments[0]).toMatchObject({
      state: 'rolled-back',
      rolledBackTo: good.digest,
      previousDigest: good.digest,
    });
    expect(pinned(repo, 'staging')).toBe(good.digest);
    expect(commitsIn(repo)[0].trailers).toMatchObject({ 'Gantry-Digest': good.digest, 'Gantry-Rollback-Of': digest });
  });

  test('with nothing promoted before, the promotion fails and says the environment stays on its digest', async () => {
    const repo = await repoWith(['staging']);
    const before = commitsIn(repo).length;
    const { digest, result } = await promote(
      yamlFor(repo, [{ ...env([failingGate]), settings: { onFailure: 'rollback' } }]),
    );
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe(
      `gate smoke failed in staging: exit 1\nsmoke says no; nothing to roll back to (no digest was promoted into staging before), so it stays on ${digest.slice(0, 19)}`,
    );
    expect(commitsIn(repo)).toHaveLength(before + 1); // the deploy, and no rollback commit
  });

  test('hold (the default) leaves the environment on the new digest', async () => {
    const repo = await repoWith(['staging']);
    await promote(yamlFor(repo, [env()]));
    const { digest, result } = await promote(yamlFor(repo, [env([failingGate])]));
    expect(result.outcome).toBe('failed');
    expect(pinned(repo, 'staging')).toBe(digest);
  });
});

test('gantry rollback goes through a manual freeze and the audit log says so', async () => {
  const repo = await repoWith(['production']);
  const yaml = yamlFor(repo, [{ name: 'production' }]);
  const older = await promote(yaml);
  const newer = await promote(yaml);
  expect(pinned(repo, 'production')).toBe(newer.digest);
  await freezeEnvironment(stack.gantry, { environment: 'production', by: 'oncall', reason: 'incident 42' });
  try {
    const file = join(stack.dir, 'freeze-rollback.yaml');
    writeFileSync(file, yaml);
    const run = await runCli(
      ['--config', file, 'rollback', app, '--env', 'production', '--as', 'oncall', '--reason', 'incident 42', '--wait'],
      cliEnv(stack),
    );
    expect(run.code).toBe(0);
    expect(pinned(repo, 'production')).toBe(older.digest);
    const bypass = auditEvents(older.digest).find((r) => r.event === 'rollback-during-freeze');
    expect(bypass?.details).toMatchObject({
      environment: 'production',
      window: 'manual',
      reason: 'frozen by oncall: incident 42',
    });
    // A promotion, unlike the rollback, waits for the thaw.
    const held = testDigest();
    await stack.gantry.start(promotionInput(yaml, app, held));
    await until('the freeze to hold the promotion', async () =>
      (await stack.gantry.status(app, held)).stage === 'freeze' ? true : undefined,
    );
    expect(pinned(repo, 'production')).toBe(older.digest);
  } finally {
    await unfreezeEnvironment(stack.gantry, { environment: 'production', by: 'oncall' });
  }
});

describe('a canary with a stable side', () => {
  function canaryYaml(repo: string, steps: Record<string, unknown>[]): string {
    const canary = {
      stable: { gitops: { path: 'environments/production-stable' } },
      router: { haproxy: { socket: haproxy.router.socket, backend: haproxy.router.backend } },
      steps,
    };
    return yamlFor(repo, [{ name: 'production', settings: { canary } }]);
  }

  test('completes with the stable side on the new digest and all traffic on stable', async () => {
    const repo = await repoWith(['production', 'production-stable']);
    const { digest, result } = await promote(
      canaryYaml(repo, [{ setWeight: 30 }, { pause: '1s' }, { setWeight: 100 }]),
    );
    expect(result.outcome).toBe('promoted');
    expect(pinned(repo, 'production')).toBe(digest);
    expect(pinned(repo, 'production-stable')).toBe(digest);
    expect(await readHaproxyCanaryWeight(haproxy.router)).toMatchObject({ stable: 100, canary: 0, percent: 0 });
    expect(result.environments[0].stableSide?.commit).toBe(commitsIn(repo)[0].sha);
    expect(result.environments[0].canary?.weight).toBe(0);
    expect(auditEvents(digest).map((r) => r.event)).toContain('canary-completed');
  });

  test('a freeze that starts mid-canary holds the next weight change until it is lifted', async () => {
    const repo = await repoWith(['production', 'production-stable']);
    const digest = testDigest();
    await stack.gantry.start(
      promotionInput(canaryYaml(repo, [{ setWeight: 20 }, { pause: {} }, { setWeight: 100 }]), app, digest),
    );
    await until('the canary to pause', async () =>
      (await stack.gantry.status(app, digest)).paused ? true : undefined,
    );
    await freezeEnvironment(stack.gantry, { environment: 'production', by: 'oncall', reason: 'incident 43' });
    try {
      expect(await stack.gantry.operate('resume', app, digest, { by: 'oncall' })).toMatchObject({ accepted: true });
      const frozen = await until('the freeze to hold the canary', async () => {
        const s = await stack.gantry.status(app, digest);
        return s.stage === 'freeze' ? s : undefined;
      });
      expect(frozen.frozen).toMatchObject({ environment: 'production', window: 'manual' });
      expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(20);
    } finally {
      await unfreezeEnvironment(stack.gantry, { environment: 'production', by: 'oncall' });
    }
    const result = await stack.gantry.result(app, digest);
    expect(result.outcome).toBe('promoted');
    expect((await readHaproxyCanaryWeight(haproxy.router)).percent).toBe(0);
    expect(pinned(repo, 'production-stable')).toBe(digest);
  });
});
