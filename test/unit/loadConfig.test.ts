// gantry.yaml loading: every kind of mistake names the field path and its line; nothing else runs.
import { ConfigError } from '../../src/config/configError';
import { loadConfig, parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';

const VALID = `version: 1
configRepo:
  url: ../config.git
registry:
  url: http://127.0.0.1:5000
apps:
  web:
    image: registry.example.com/acme/web
environments:
  - name: dev
    deploy:
      gitops:
        path: environments/dev
    health:
      http:
        url: http://127.0.0.1:8081
  - name: staging
    deploy:
      gitops:
        path: environments/staging
    gates:
      - http: { url: "http://127.0.0.1:8082/health" }
      - command: { name: it, run: npm run it, timeout: 15m }
    soak: 10m
  - name: production
    deploy:
      gitops:
        path: environments/production
    health:
      kubernetesRollout: { namespace: production, deployment: web }
    approval: { expiresIn: 48h }
approvers:
  alice: { keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4SopBCgTagyVvPWG3q2IHsl7guLGM7J8LcOgLErAt alice@laptop"] }
  bob: { keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICAFnJAE6CPD9YXi79uusnUQYKaiKBWWeYMsnOpvlqd6 bob@laptop"] }
groups:
  sre: [alice, bob]
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'gantry.yaml', '/pipelines');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line ?? '-'}: ${p.path}: ${p.message}`);
  }
  throw new Error('config was accepted');
}

const edit = (from: string, to: string) => {
  expect(VALID).toContain(from);
  return VALID.replace(from, to);
};

test('a valid pipeline resolves into the plan a promotion runs with', () => {
  const input = resolvePromotion(parseConfig(VALID, 'gantry.yaml', '/pipelines'), {
    app: 'web',
    digest: `sha256:${'a'.repeat(64)}`,
    requestedBy: 'ci',
  });
  expect(input.registry).toEqual({ url: 'http://127.0.0.1:5000', repository: 'acme/web' });
  expect(input.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production']);
  expect(input.environments[0]).toEqual({
    name: 'dev',
    deploy: {
      kind: 'gitops',
      repoUrl: '/config.git',
      branch: 'main',
      path: 'environments/dev',
      imageName: 'registry.example.com/acme/web',
      newName: 'registry.example.com/acme/web',
      author: { name: 'Gantry', email: 'gantry@localhost' },
    },
    health: {
      kind: 'http',
      url: 'http://127.0.0.1:8081',
      versionPath: '/version',
      healthPath: '/health',
      timeoutMs: 300_000,
      intervalMs: 2000,
    },
    gates: [],
    soakMs: 0,
    onFailure: 'hold',
    approval: undefined,
    freezeWindows: [],
    webhookUrl: undefined,
  });
  expect(input.environments[1].gates).toEqual([
    {
      kind: 'http',
      name: 'http-1',
      url: 'http://127.0.0.1:8082/health',
      expectStatus: 200,
      contains: undefined,
      timeoutMs: 30_000,
    },
    {
      kind: 'command',
      name: 'it',
      run: 'npm run it',
      cwd: undefined,
      env: {},
      timeoutMs: 900_000,
      environmentUrl: undefined,
    },
  ]);
  expect(input.environments[1].soakMs).toBe(600_000);
  expect(input.environments[2].approval).toEqual({
    expiresInMs: 48 * 3600_000,
    required: 1,
    eligible: ['alice', 'bob'],
    signatures: 'required',
    keys: {
      alice: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4SopBCgTagyVvPWG3q2IHsl7guLGM7J8LcOgLErAt alice@laptop'],
      bob: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICAFnJAE6CPD9YXi79uusnUQYKaiKBWWeYMsnOpvlqd6 bob@laptop'],
    },
    remindBeforeMs: [],
  });
  expect(input.environments[0].freezeWindows).toEqual([]);
  expect(input.environments[2].health).toMatchObject({
    kind: 'kubernetesRollout',
    namespace: 'production',
    deployment: 'web',
    timeoutMs: 600_000,
  });
});

test('a missing field is named with its path and the line of its parent', () => {
  expect(problems(edit('        path: environments/production\n', ''))).toEqual([
    '27: environments[2].deploy.gitops.path: required',
  ]);
});

test('every problem in the file is reported at once', () => {
  const text = edit('version: 1', 'version: 2')
    .replace('soak: 10m', 'soak: ten minutes')
    .replace('  - name: dev\n', '  - name: Dev!\n');
  expect(problems(text)).toEqual([
    '1: version: must be 1',
    '10: environments[0].name: "Dev!" does not match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
    '24: environments[1].soak: must be a duration like 30s, 10m, 72h or 1h30m',
  ]);
});

test.each([
  [
    'an unknown field',
    ['    soak: 10m\n', '    soak: 10m\n    sok: 5m\n'],
    '25: environments[1].sok: unknown field "sok" (expected one of: name, taskQueue, deploy, health, gates, soak, onFailure, approval, canary, migrations, destructiveMigrations, freeze, notifications, targets, waves, bakeTime, maxFailures, concurrency)',
  ],
  [
    'an unknown deploy target',
    ['      gitops:\n        path: environments/dev\n', '      helm:\n        chart: web\n'],
    '12: environments[0].deploy.helm: unknown field "helm" (expected one of: gitops, kubernetes)',
  ],
  [
    'two health checks',
    [
      '      http:\n        url: http://127.0.0.1:8081\n',
      '      http:\n        url: http://127.0.0.1:8081\n      kubernetesRollout: { namespace: a, deployment: b }\n',
    ],
    '14: environments[0].health: must name exactly one of: http, kubernetesRollout, argocd',
  ],
  [
    'a bad approval',
    ['approval: { expiresIn: 48h }', 'approval: yes please'],
    '31: environments[2].approval: must be true, false, or {required, from, expiresIn, remindBefore, signatures}',
  ],
  [
    'a bad expiry',
    ['expiresIn: 48h', 'expiresIn: 2 days'],
    '31: environments[2].approval: must be true, false, or {required, from, expiresIn, remindBefore, signatures}',
  ],
  [
    'a wrong type',
    [
      '      - command: { name: it, run: npm run it, timeout: 15m }',
      '      - command: { name: it, run: [npm], timeout: 15m }',
    ],
    '23: environments[1].gates[1].command.run: must be string',
  ],
  [
    'a bad URL',
    ['url: http://127.0.0.1:8081', 'url: localhost:8081'],
    '16: environments[0].health.http.url: "localhost:8081" does not match ^https?://',
  ],
  [
    'a duplicate environment',
    ['  - name: staging\n', '  - name: dev\n'],
    '17: environments[1].name: duplicate environment "dev" (also environments[0])',
  ],
  [
    'no apps',
    ['apps:\n  web:\n    image: registry.example.com/acme/web\n', 'apps: {}\n'],
    '6: apps: must have at least 1 entry',
  ],
  [
    'a bad app name',
    ['  web:\n', '  Web_App:\n'],
    '7: apps.Web_App: "Web_App" is not a valid name (lowercase letters, digits and -)',
  ],
  [
    'an image with a tag',
    ['image: registry.example.com/acme/web', 'image: registry.example.com/acme/web:1.2'],
    '8: apps.web.image: "registry.example.com/acme/web:1.2" does not match ^[^@:\\s]+(:[0-9]+)?(/[^@:\\s]+)*$',
  ],
  [
    'no config repo anywhere',
    ['configRepo:\n  url: ../config.git\n', ''],
    '10: environments[0].deploy.gitops.repo: required for app web (no configRepo at the top level or in the app)',
  ],
])('%s is refused', (_what, [from, to], expected) => {
  expect(problems(edit(from, to))[0]).toBe(expected);
});

test('YAML syntax errors name their line', () => {
  expect(problems('version: 1\napps:\n  web: [\n')).toEqual([expect.stringMatching(/^4: : YAML syntax: /)]);
});

test('an app without environments anywhere is refused', () => {
  expect(problems('version: 1\nconfigRepo: { url: /r.git }\napps:\n  web: { image: x/web }\n')).toEqual([
    '4: apps.web.environments: required (there are no top-level environments)',
  ]);
});

test('a missing file says so', () => {
  expect(() => loadConfig('/nonexistent/gantry.yaml')).toThrow(
    '/nonexistent/gantry.yaml is not a valid Gantry pipeline:\n  /nonexistent/gantry.yaml: cannot read: ENOENT',
  );
});

test('start requests are checked against the pipeline', () => {
  const config = parseConfig(VALID, 'gantry.yaml', '/pipelines');
  const digest = `sha256:${'b'.repeat(64)}`;
  expect(() => resolvePromotion(config, { app: 'api', digest, requestedBy: 'ci' })).toThrow(
    'unknown app "api" (gantry.yaml defines: web)',
  );
  expect(() => resolvePromotion(config, { app: 'web', digest: 'b'.repeat(64), requestedBy: 'ci' })).toThrow(
    'digest must start with "sha256:"',
  );
  expect(() => resolvePromotion(config, { app: 'web', digest: 'sha256:XYZ', requestedBy: 'ci' })).toThrow(
    'digest must be sha256:<64 lowercase hex characters>',
  );
  expect(() => resolvePromotion(config, { app: 'web', digest, commit: 'main', requestedBy: 'ci' })).toThrow(
    'commit must be a git commit sha',
  );
});

describe('approval policy, freeze windows and notifications', () => {
  const base =
    VALID.replace(
      '    approval: { expiresIn: 48h }\n',
      '    approval: { required: 2, from: [group:sre], remindBefore: [24h, 1h] }\n    freeze:\n      - { name: release-freeze, from: "2026-12-24T00:00", to: "2026-12-27T00:00", timeZone: Europe/Berlin }\n    notifications: { webhook: { url: "http://127.0.0.1:9/hook" } }\n',
    ) +
    'freeze:\n  - { name: weekend, weekly: { days: [sat, sun], from: "00:00", to: "24:00" }, timeZone: UTC }\nnotifications: { webhook: { url: "http://127.0.0.1:9/all" } }\n';

  test('resolve into the plan', () => {
    const input = resolvePromotion(parseConfig(base, 'gantry.yaml', '/p'), {
      app: 'web',
      digest: `sha256:${'a'.repeat(64)}`,
      requestedBy: 'ci',
    });
    const prod = input.environments[2];
    expect(prod.approval).toMatchObject({
      required: 2,
      eligible: ['alice', 'bob'],
      signatures: 'required',
      remindBeforeMs: [86_400_000, 3_600_000],
    });
    expect(prod.freezeWindows).toEqual([
      { kind: 'weekly', name: 'weekend', days: [6, 0], fromMinute: 0, toMinute: 1440, timeZone: 'UTC' },
      {
        kind: 'once',
        name: 'release-freeze',
        from: '2026-12-24T00:00',
        to: '2026-12-27T00:00',
        timeZone: 'Europe/Berlin',
      },
    ]);
    expect(prod.webhookUrl).toBe('http://127.0.0.1:9/hook');
    expect(input.environments[0].webhookUrl).toBe('http://127.0.0.1:9/all');
  });

  test.each<[string, [string, string], string]>([
    [
      'an unknown approver',
      ['from: [group:sre]', 'from: [alice, zed]'],
      '31: environments[2].approval.from[1]: unknown approver "zed" (approvers: alice, bob)',
    ],
    [
      'an unknown group',
      ['from: [group:sre]', 'from: [group:ops]'],
      '31: environments[2].approval.from[0]: unknown group "ops"',
    ],
    [
      'more approvals than people',
      ['required: 2', 'required: 3'],
      '31: environments[2].approval.required: 3 approvals required but only 2 people may approve',
    ],
    [
      'signatures without keys',
      ['  bob: { keys: ["', '  bob: { }\n  bobby: { keys: ["'],
      '31: environments[2].approval: signatures are required but approver "bob" has no keys',
    ],
    [
      'a bad time zone',
      ['timeZone: UTC', 'timeZone: Mars/Olympus'],
      '41: freeze[0].timeZone: unknown time zone "Mars/Olympus"',
    ],
    [
      'a window ending before it starts',
      ['to: "2026-12-27T00:00"', 'to: "2026-12-20T00:00"'],
      '33: environments[2].freeze[0].to: must be after from',
    ],
    [
      'a window of both kinds',
      ['{ name: weekend, weekly:', '{ name: weekend, from: "2026-01-01T00:00", weekly:'],
      '41: freeze[0]: a freeze window is either weekly: {days, from, to} or a one-off from: and to: (YYYY-MM-DDTHH:MM), each with a timeZone',
    ],
    [
      'a bad key',
      ['alice: { keys: ["ssh-ed25519 ', 'alice: { keys: ["ssh-rsa '],
      expect.stringMatching(/^\d+: approvers\.alice\.keys\[0\]: "ssh-rsa .*" does not match/) as unknown as string,
    ],
  ])('%s is refused', (_what, [from, to], expected) => {
    expect(base).toContain(from);
    expect(problems(base.replace(from, to))[0]).toEqual(expected);
  });

  test('an approval without approvers needs signatures: optional, said explicitly', () => {
    const open = VALID.slice(0, VALID.indexOf('approvers:'));
    expect(problems(open)).toEqual([
      '31: environments[2].approval: signed approvals need approvers with keys (top-level approvers:), or say signatures: optional',
    ]);
    const unsigned = open.replace('approval: { expiresIn: 48h }', 'approval: { expiresIn: 48h, signatures: optional }');
    expect(
      resolvePromotion(parseConfig(unsigned, 'gantry.yaml', '/p'), {
        app: 'web',
        digest: `sha256:${'a'.repeat(64)}`,
        requestedBy: 'ci',
      }).environments[2].approval,
    ).toMatchObject({ signatures: 'optional', eligible: undefined });
  });
});
