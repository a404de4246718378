// targets: and waves: in gantry.yaml: how they resolve into the rollout plan, and the mistakes the
// loader names with their field path and line.
import { ConfigError } from '../../src/config/configError';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';

const DIGEST = `sha256:${'e'.repeat(64)}`;

/** A pipeline whose production is made of the targets, with `rollout` lines under it. */
const pipeline = (rollout: string) => `version: 1
configRepo:
  url: /repos/config.git
apps:
  web:
    image: registry.example.com/acme/web
environments:
  - name: staging
    deploy: { gitops: { path: environments/staging } }
  - name: production
    deploy: { gitops: { path: "environments/{target}" } }
    health:
      http: { url: "http://{target}.example.com" }
    gates:
      - http: { name: smoke, url: "http://{target}.example.com/smoke" }
${rollout}
`;

const THREE_TARGETS = `    targets:
      - prod-eu-1
      - prod-eu-2
      - name: prod-us-1
        taskQueue: gantry-prod-us-1
        deploy: { kubernetes: { namespace: "web-{target}", deployment: web } }`;

const resolve = (rollout: string) =>
  resolvePromotion(parseConfig(pipeline(rollout), 'gantry.yaml', '/pipelines'), {
    app: 'web',
    digest: DIGEST,
    requestedBy: 'ci',
  });

function problems(rollout: string): string[] {
  try {
    parseConfig(pipeline(rollout), 'gantry.yaml', '/pipelines');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line ?? '-'}: ${p.path}: ${p.message}`);
  }
  throw new Error('config was accepted');
}

test('explicit waves, bake time, budget and concurrency resolve; {target} names each target', () => {
  const input = resolve(`${THREE_TARGETS}
    waves: [[prod-eu-1], [prod-eu-2, prod-us-1]]
    bakeTime: 30m
    maxFailures: 1
    concurrency: 2`);
  expect(input.environments[0].rollout).toBeUndefined();
  const rollout = input.environments[1].rollout!;
  expect(rollout).toMatchObject({
    waves: [['prod-eu-1'], ['prod-eu-2', 'prod-us-1']],
    bakeMs: 30 * 60_000,
    maxFailures: 1,
    concurrency: 2,
  });
  expect(rollout.targets.map((t) => t.name)).toEqual(['prod-eu-1', 'prod-eu-2', 'prod-us-1']);
  expect(rollout.targets[0]).toMatchObject({
    deploy: { kind: 'gitops', repoUrl: '/repos/config.git', path: 'environments/prod-eu-1' },
    health: { kind: 'http', url: 'http://prod-eu-1.example.com' },
    gates: [{ kind: 'http', name: 'smoke', url: 'http://prod-eu-1.example.com/smoke' }],
  });
  expect(rollout.targets[0].taskQueue).toBeUndefined();
  // A target's own settings replace the environment's; the rest still come from the environment.
  expect(rollout.targets[2]).toMatchObject({
    taskQueue: 'gantry-prod-us-1',
    deploy: {
      kind: 'kubernetes',
      namespace: 'web-prod-us-1',
      deployment: 'web',
      image: 'registry.example.com/acme/web',
    },
    health: { url: 'http://prod-us-1.example.com' },
  });
});

test('waves by size: a count or a percentage of the targets, in order; default one target per wave', () => {
  const five = `    targets: [a, b, c, d, e]`;
  expect(resolve(`${five}\n    waves: { size: 2 }`).environments[1].rollout!.waves).toEqual([
    ['a', 'b'],
    ['c', 'd'],
    ['e'],
  ]);
  // 25% of five is 1.25: rounded up to two per wave.
  expect(resolve(`${five}\n    waves: { size: "25%" }`).environments[1].rollout!.waves).toEqual([
    ['a', 'b'],
    ['c', 'd'],
    ['e'],
  ]);
  expect(resolve(`${five}\n    waves: { size: "100%" }`).environments[1].rollout!.waves).toEqual([
    ['a', 'b', 'c', 'd', 'e'],
  ]);
  const defaults = resolve(five).environments[1].rollout!;
  expect(defaults.waves).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
  expect(defaults).toMatchObject({ bakeMs: 0, maxFailures: 0 });
  expect(defaults.concurrency).toBeUndefined();
  // A percentage budget rounds down: 40% of five targets tolerates two failures.
  expect(resolve(`${five}\n    maxFailures: "40%"`).environments[1].rollout!.maxFailures).toBe(2);
});

test('an unknown target, a target in two waves and a target in none are named with their lines', () => {
  expect(problems(`${THREE_TARGETS}\n    waves: [[prod-eu-1, prod-ap-1], [prod-eu-1]]`)).toEqual([
    '22: environments[1].waves[0][1]: unknown target "prod-ap-1" (targets: prod-eu-1, prod-eu-2, prod-us-1)',
    '22: environments[1].waves[1][0]: target "prod-eu-1" is in two waves (also waves[0])',
    '22: environments[1].waves: every target needs a wave; in none: prod-eu-2, prod-us-1',
  ]);
});

test('bad sizes, budgets and shapes are refused', () => {
  expect(problems(`${THREE_TARGETS}\n    waves: { size: 0 }`)).toEqual([
    '22: environments[1].waves.size: must be at least 1 target (a count of 1 or more, or a percentage above 0%)',
  ]);
  expect(problems(`${THREE_TARGETS}\n    waves: { size: "half" }`)).toEqual([
    '22: environments[1].waves: waves is a list of waves (each a list of target names) or { size: N | "N%" }',
  ]);
  expect(problems(`${THREE_TARGETS}\n    maxFailures: "150%"`)).toEqual([
    '22: environments[1].maxFailures: "150%" is neither a count nor a percentage like "25%"',
  ]);
  expect(problems(`${THREE_TARGETS}\n    concurrency: 0`)).toEqual(['22: environments[1].concurrency: must be >= 1']);
  expect(problems(`    targets: [prod-eu-1, prod-eu-1]`)).toEqual([
    '16: environments[1].targets[1]: duplicate target "prod-eu-1" (also targets[0])',
  ]);
  expect(problems(`    waves: [[prod-eu-1]]\n    bakeTime: 10m`)).toEqual([
    '16: environments[1].waves: needs targets: (the environment has none)',
    '17: environments[1].bakeTime: needs targets: (the environment has none)',
  ]);
});

test("a target's own deny windows resolve for that target only; a bad one is named with its line", () => {
  const rollout = resolve(`    targets:
      - prod-eu-1
      - name: prod-us-1
        freeze:
          - { name: us-holiday, from: "2026-11-26T00:00", to: "2026-11-27T00:00", timeZone: America/New_York }`)
    .environments[1].rollout!;
  expect(rollout.targets[0].freezeWindows).toBeUndefined();
  expect(rollout.targets[1].freezeWindows).toEqual([
    {
      kind: 'once',
      name: 'us-holiday',
      from: '2026-11-26T00:00',
      to: '2026-11-27T00:00',
      timeZone: 'America/New_York',
    },
  ]);
  expect(
    problems(`    targets:
      - name: prod-us-1
        freeze:
          - { from: "2026-11-27T00:00", to: "2026-11-26T00:00", timeZone: Mars/Olympus }`),
  ).toEqual([
    '19: environments[1].targets[0].freeze[0].timeZone: unknown time zone "Mars/Olympus"',
    '19: environments[1].targets[0].freeze[0].to: must be after from',
  ]);
});

test('canary.stable on a target resolves like its deploy, {target} filled in; the environment canary is the default, stable side and all', () => {
  const canary = (stable: string) => `
      router: { haproxy: { socket: /run/haproxy.sock, backend: "{target}" } }
      steps: [ { setWeight: 50 }, { setWeight: 100 } ]
      stable: ${stable}`;
  const rollout = resolve(`    canary:${canary('{ gitops: { path: "environments/{target}-stable" } }')}
    targets:
      - prod-eu-1
      - name: prod-us-1
        deploy: { kubernetes: { namespace: web, deployment: web-canary, context: us-1 } }
        canary:${canary('{ kubernetes: { namespace: web, deployment: web-stable, context: us-1 } }').replaceAll('\n', '\n    ')}
      - name: prod-ap-1
        canary:${canary('{ gitops: { path: "environments/{target}-stable", repo: { url: /repos/ap.git } } }').replaceAll('\n', '\n    ')}`)
    .environments[1].rollout!;
  expect(rollout.targets.map((t) => [t.name, t.canary?.router, t.canaryStable])).toEqual([
    [
      'prod-eu-1',
      expect.objectContaining({ kind: 'haproxy', socket: '/run/haproxy.sock', backend: 'prod-eu-1' }),
      expect.objectContaining({ kind: 'gitops', repoUrl: '/repos/config.git', path: 'environments/prod-eu-1-stable' }),
    ],
    [
      'prod-us-1',
      expect.objectContaining({ backend: 'prod-us-1' }),
      expect.objectContaining({
        kind: 'kubernetes',
        deployment: 'web-stable',
        context: 'us-1',
        image: 'registry.example.com/acme/web',
      }),
    ],
    [
      'prod-ap-1',
      expect.objectContaining({ backend: 'prod-ap-1' }),
      expect.objectContaining({ kind: 'gitops', repoUrl: '/repos/ap.git', path: 'environments/prod-ap-1-stable' }),
    ],
  ]);
  // Without a stable side, a target has none.
  expect(resolve(THREE_TARGETS).environments[1].rollout!.targets[0].canaryStable).toBeUndefined();
});

test("a target's stable side is checked like a deploy: a missing path, and a gitops side with no repo anywhere", () => {
  expect(
    problems(`    targets:
      - name: prod-eu-1
        canary:
          router: { haproxy: { socket: /run/haproxy.sock, backend: web } }
          steps: [ { setWeight: 100 } ]
          stable: { gitops: { imageName: web } }`),
  ).toEqual(['21: environments[1].targets[0].canary.stable.gitops.path: required']);
  const noRepo = `version: 1
apps:
  web:
    image: registry.example.com/acme/web
environments:
  - name: production
    deploy: { kubernetes: { namespace: web, deployment: web } }
    targets:
      - name: prod-eu-1
        canary:
          router: { haproxy: { socket: /run/haproxy.sock, backend: web } }
          steps: [ { setWeight: 100 } ]
          stable: { gitops: { path: "environments/{target}" } }
`;
  expect(() => parseConfig(noRepo, 'gantry.yaml', '/pipelines')).toThrow(
    'gantry.yaml:13: environments[0].targets[0].canary.stable.gitops.repo: required for app web (no configRepo at the top level or in the app)',
  );
});
