// How the argocd health check reads an Application's status.
import { applicationStatus } from '../../src/kubernetes/argoApplication';

const digest = `sha256:${'ab'.repeat(32)}`;
const commit = '0123456789abcdef0123456789abcdef01234567';
const app = (status: object) => ({ metadata: { name: 'web' }, status });

test.each([
  [
    'Synced and Healthy at the commit',
    { sync: { status: 'Synced', revision: commit }, health: { status: 'Healthy' } },
    'ready',
  ],
  [
    'at an abbreviated commit, multi-source',
    { sync: { status: 'Synced', revisions: ['aaaaaaaa', commit.slice(0, 12)] }, health: { status: 'Healthy' } },
    'ready',
  ],
  [
    'Healthy at another revision',
    { sync: { status: 'Synced', revision: 'f'.repeat(40) }, health: { status: 'Healthy' } },
    'waiting',
  ],
  [
    'OutOfSync at the commit',
    { sync: { status: 'OutOfSync', revision: commit }, health: { status: 'Healthy' } },
    'waiting',
  ],
  [
    'Progressing at the commit',
    { sync: { status: 'Synced', revision: commit }, health: { status: 'Progressing' } },
    'waiting',
  ],
  [
    'Degraded at the commit',
    { sync: { status: 'Synced', revision: commit }, health: { status: 'Degraded', message: 'boom' } },
    'failed',
  ],
  [
    'Degraded at another revision',
    { sync: { status: 'Synced', revision: 'f'.repeat(40) }, health: { status: 'Degraded' } },
    'waiting',
  ],
  [
    'a failed sync of the commit',
    {
      sync: { status: 'OutOfSync' },
      operationState: { phase: 'Failed', message: 'hook failed', syncResult: { revision: commit } },
    },
    'failed',
  ],
  [
    'summary images pin the digest',
    {
      sync: { status: 'Synced', revision: 'f'.repeat(40) },
      health: { status: 'Healthy' },
      summary: { images: [`r/web@${digest}`] },
    },
    'ready',
  ],
  ['no status yet', {}, 'waiting'],
])('%s', (_what, status, state) => {
  expect(applicationStatus(app(status), { digest, commit }).state).toBe(state);
});

test('messages say what was seen and what is awaited', () => {
  expect(
    applicationStatus(app({ sync: { status: 'Synced', revision: 'f'.repeat(40) }, health: { status: 'Healthy' } }), {
      digest,
      commit,
    }).message,
  ).toBe(
    `web: sync Synced at ffffffffffff, health Healthy; waiting for revision 0123456789ab or an image with ${digest}`,
  );
  expect(
    applicationStatus(
      app({ operationState: { phase: 'Error', message: 'hook failed', syncResult: { revision: commit } } }),
      { digest, commit },
    ).message,
  ).toBe('web failed to sync 0123456789ab: hook failed');
});
