// The `kubernetes` deploy target as gantry.yaml writes it and as a promotion runs it.
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { ConfigError } from '../../src/config/configError';
import { imageDigest } from '../../src/kubernetes/kubeClient';

const digest = `sha256:${'ab'.repeat(32)}`;
const yaml = (deploy: string) =>
  [
    'version: 1',
    'apps:',
    '  web: { image: registry.example.com/acme/web }',
    'environments:',
    '  - name: staging',
    '    deploy:',
    `      kubernetes: ${deploy}`,
    '    health: { kubernetesRollout: { namespace: "{app}-staging", deployment: "{app}" } }',
  ].join('\n');

test('resolves namespace, deployment, container, with {app} filled in; a relative kubeconfig stays relative for the worker', () => {
  const config = parseConfig(
    yaml('{ namespace: "{app}-staging", deployment: "{app}", container: app, kubeconfig: kube/config, context: ci }'),
    'gantry.yaml',
    '/etc/gantry',
  );
  const input = resolvePromotion(config, { app: 'web', digest, requestedBy: 'ci' });
  expect(input.environments[0].deploy).toEqual({
    kind: 'kubernetes',
    namespace: 'web-staging',
    deployment: 'web',
    container: 'app',
    image: 'registry.example.com/acme/web',
    kubeconfig: 'kube/config',
    context: 'ci',
  });
});

test('needs no config repo, but namespace and deployment are required', () => {
  expect(() => parseConfig(yaml('{ namespace: dev, deployment: web }'))).not.toThrow();
  let problems: string[] = [];
  try {
    parseConfig(yaml('{ namespace: dev }'));
  } catch (err) {
    problems = (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  expect(problems).toEqual(['environments[0].deploy.kubernetes.deployment: required']);
});

test('reads the digest an image reference pins', () => {
  expect(imageDigest(`registry.example.com/acme/web@${digest}`)).toBe(digest);
  expect(imageDigest('registry.example.com/acme/web:1.2')).toBeUndefined();
  expect(imageDigest(undefined)).toBeUndefined();
});
