// Environment parity as the parity gate judges it.
import type { V1Container } from '@kubernetes/client-node';
import { compareParity, parseQuantity } from '../../src/kubernetes/parity';

const digest = `sha256:${'ab'.repeat(32)}`;
const other = `sha256:${'cd'.repeat(32)}`;
const bounds = { minRatio: 0.5, maxRatio: 4 };
const container = (over: Partial<V1Container> = {}): V1Container => ({
  name: 'app',
  image: `r/web@${digest}`,
  env: [
    { name: 'DB_URL', value: 'x' },
    { name: 'LOG_LEVEL', value: 'info' },
  ],
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  ...over,
});
const compare = (r: V1Container, t: V1Container) =>
  compareParity({ label: 'staging/web', container: r }, { label: 'production/web', container: t }, digest, bounds);

test('quantities', () => {
  expect([
    parseQuantity('500m'),
    parseQuantity('2'),
    parseQuantity('128Mi'),
    parseQuantity('1G'),
    parseQuantity('1e3'),
    parseQuantity(3),
  ]).toEqual([0.5, 2, 128 * 2 ** 20, 1e9, 1000, 3]);
  expect(() => parseQuantity('lots')).toThrow('not a resource quantity: "lots"');
});

test('equal sides pass and say what was compared', () => {
  const r = compare(
    container(),
    container({ resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } } }),
  );
  expect(r.passed).toBe(true);
  expect(r.checked).toEqual([
    `digest: both run ${digest}`,
    'env: the same 2 names',
    'requests.cpu: production/web 500m / staging/web 250m = 2.00',
    'requests.memory: production/web 1Gi / staging/web 256Mi = 4.00',
    'limits.cpu: production/web 2 / staging/web 1 = 2.00',
    'limits.memory: production/web 1Gi / staging/web 512Mi = 2.00',
  ]);
});

test('a different digest, missing env names and resources out of bounds are each named', () => {
  const r = compare(
    container({ image: `r/web@${other}` }),
    container({
      env: [
        { name: 'DB_URL', value: 'y' },
        { name: 'FEATURE_X', value: '1' },
      ],
      envFrom: [{ configMapRef: { name: 'web' } }],
      resources: { requests: { cpu: '4', memory: '256Mi' } },
    }),
  );
  expect(r.passed).toBe(false);
  expect(r.problems).toEqual([
    `digest: staging/web runs ${other}, production/web runs ${digest}; expected ${digest} in both`,
    'env: missing in production/web: LOG_LEVEL',
    'env: missing in staging/web: (envFrom configMap:web), FEATURE_X',
    'requests.cpu: production/web 4 / staging/web 250m = 16.00, outside 0.5..4',
    'limits.cpu: set only in staging/web (1)',
    'limits.memory: set only in staging/web (512Mi)',
  ]);
});
