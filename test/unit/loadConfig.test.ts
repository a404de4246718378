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
  const input = resolvePromotion(parseConfig(VALID, 'gantry.yaml', '/pipelines'), { app: 'web', digest: `sha256:${'a'.repeat(64)}`, requestedBy: 'ci' });
  expect(input.registry).toEqual({ url: 'http://127.0.0.1:5000', repository: 'acme/web' });
  expect(input.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production']);
  expect(input.environments[0]).toEqual({
    name: 'dev',
    deploy: { kind: 'gitops', repoUrl: '/config.git', branch: 'main', path: 'environments/dev', imageName: 'registry.example.com/acme/web', newName: 'registry.example.com/acme/web', author: { name: 'Gantry', email: 'gantry@localhost' } },
    health: { kind: 'http', url: 'http://127.0.0.1:8081', versionPath: '/version', healthPath: '/health', timeoutMs: 300_000, intervalMs: 2000 },
    gates: [],
    soakMs: 0,
    approval: undefined,
  });
  expect(input.environments[1].gates).toEqual([
    { kind: 'http', name: 'http-1', url: 'http://127.0.0.1:8082/health', expectStatus: 200, contains: undefined, timeoutMs: 30_000 },
    { kind: 'command', name: 'it', run: 'npm run it', cwd: '/pipelines', env: {}, timeoutMs: 900_000, environmentUrl: undefined },
  ]);
  expect(input.environments[1].soakMs).toBe(600_000);
  expect(input.environments[2].approval).toEqual({ expiresInMs: 48 * 3600_000 });
  expect(input.environments[2].health).toMatchObject({ kind: 'kubernetesRollout', namespace: 'production', deployment: 'web', timeoutMs: 600_000 });
});

test('a missing field is named with its path and the line of its parent', () => {
  expect(problems(edit('        path: environments/production\n', ''))).toEqual(['27: environments[2].deploy.gitops.path: required']);
});

test('every problem in the file is reported at once', () => {
  const text = edit('version: 1', 'version: 2').replace('soak: 10m', 'soak: ten minutes').replace('  - name: dev\n', '  - name: Dev!\n');
  expect(problems(text)).toEqual([
    '1: version: must be 1',
    '10: environments[0].name: "Dev!" does not match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
    '24: environments[1].soak: must be a duration like 30s, 10m, 72h or 1h30m',
  ]);
});

test.each([
  ['an unknown field', ['    soak: 10m\n', '    soak: 10m\n    sok: 5m\n'], '25: environments[1].sok: unknown field "sok" (expected one of: name, deploy, health, gates, soak, approval, canary)'],
  ['an unknown deploy target', ['      gitops:\n        path: environments/dev\n', '      helm:\n        chart: web\n'], '12: environments[0].deploy.helm: unknown field "helm" (expected one of: gitops)'],
  ['two health checks', ['      http:\n        url: http://127.0.0.1:8081\n', '      http:\n        url: http://127.0.0.1:8081\n      kubernetesRollout: { namespace: a, deployment: b }\n'], '14: environments[0].health: must name exactly one of: http, kubernetesRollout'],
  ['a bad approval', ['approval: { expiresIn: 48h }', 'approval: yes please'], '31: environments[2].approval: must be true, false, or {expiresIn: <duration>}'],
  ['a bad expiry', ['expiresIn: 48h', 'expiresIn: 2 days'], '31: environments[2].approval: must be true, false, or {expiresIn: <duration>}'],
  ['canary steps', ['    approval: { expiresIn: 48h }\n', '    approval: { expiresIn: 48h }\n    canary: { steps: [{ setWeight: 5 }] }\n'], '32: environments[2].canary.steps: canary steps are not supported yet; leave steps empty'],
  ['a wrong type', ['      - command: { name: it, run: npm run it, timeout: 15m }', '      - command: { name: it, run: [npm], timeout: 15m }'], '23: environments[1].gates[1].command.run: must be string'],
  ['a bad URL', ['url: http://127.0.0.1:8081', 'url: localhost:8081'], '16: environments[0].health.http.url: "localhost:8081" does not match ^https?://'],
  ['a duplicate environment', ['  - name: staging\n', '  - name: dev\n'], '17: environments[1].name: duplicate environment "dev" (also environments[0])'],
  ['no apps', ['apps:\n  web:\n    image: registry.example.com/acme/web\n', 'apps: {}\n'], '6: apps: must have at least 1 entry'],
  ['a bad app name', ['  web:\n', '  Web_App:\n'], '7: apps.Web_App: "Web_App" is not a valid name (lowercase letters, digits and -)'],
  ['an image with a tag', ['image: registry.example.com/acme/web', 'image: registry.example.com/acme/web:1.2'], '8: apps.web.image: "registry.example.com/acme/web:1.2" does not match ^[^@:\\s]+(:[0-9]+)?(/[^@:\\s]+)*$'],
  ['no config repo anywhere', ['configRepo:\n  url: ../config.git\n', ''], '10: environments[0].deploy.gitops.repo: required for app web (no configRepo at the top level or in the app)'],
])('%s is refused', (_what, [from, to], expected) => {
  expect(problems(edit(from, to))[0]).toBe(expected);
});

test('YAML syntax errors name their line', () => {
  expect(problems('version: 1\napps:\n  web: [\n')).toEqual([expect.stringMatching(/^4: : YAML syntax: /)]);
});

test('an app without environments anywhere is refused', () => {
  expect(problems('version: 1\nconfigRepo: { url: /r.git }\napps:\n  web: { image: x/web }\n')).toEqual(['4: apps.web.environments: required (there are no top-level environments)']);
});

test('a missing file says so', () => {
  expect(() => loadConfig('/nonexistent/gantry.yaml')).toThrow('/nonexistent/gantry.yaml is not a valid Gantry pipeline:\n  /nonexistent/gantry.yaml: cannot read: ENOENT');
});

test('start requests are checked against the pipeline', () => {
  const config = parseConfig(VALID, 'gantry.yaml', '/pipelines');
  const digest = `sha256:${'b'.repeat(64)}`;
  expect(() => resolvePromotion(config, { app: 'api', digest, requestedBy: 'ci' })).toThrow('unknown app "api" (gantry.yaml defines: web)');
  expect(() => resolvePromotion(config, { app: 'web', digest: 'b'.repeat(64), requestedBy: 'ci' })).toThrow('digest must start with "sha256:"');
  expect(() => resolvePromotion(config, { app: 'web', digest: 'sha256:XYZ', requestedBy: 'ci' })).toThrow('digest must be sha256:<64 lowercase hex characters>');
  expect(() => resolvePromotion(config, { app: 'web', digest, commit: 'main', requestedBy: 'ci' })).toThrow('commit must be a git commit sha');
});
