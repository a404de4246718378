// Reading a Deployment's rollout the way `kubectl rollout status` does.
import { rolloutStatus, type DeploymentLike } from '../../src/kubernetes/rolloutStatus';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const deployment = (
  status: DeploymentLike['status'],
  generation = 2,
  image = `ghcr.io/acme/web@${DIGEST}`,
): DeploymentLike => ({
  metadata: { name: 'web', generation },
  spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image }] } } },
  status,
});

test.each<[string, DeploymentLike, string, string]>([
  [
    'another image',
    deployment({}, 2, 'ghcr.io/acme/web:latest'),
    'waiting',
    `web runs ghcr.io/acme/web:latest, not yet ${DIGEST}`,
  ],
  ['spec not observed', deployment({ observedGeneration: 1 }), 'waiting', 'waiting for web spec update to be observed'],
  [
    'replicas updating',
    deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 1 }),
    'waiting',
    '1 of 3 new replicas of web updated',
  ],
  [
    'old replicas left',
    deployment({ observedGeneration: 2, replicas: 4, updatedReplicas: 3 }),
    'waiting',
    '1 old replicas of web pending termination',
  ],
  [
    'not yet available',
    deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
    'waiting',
    '2 of 3 updated replicas of web available',
  ],
  [
    'done',
    deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
    'ready',
    'web rolled out: 3 of 3 replicas updated and available',
  ],
  [
    'progress deadline exceeded',
    deployment({
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "web-7d9" has timed out progressing.',
        },
      ],
    }),
    'failed',
    'web exceeded its progress deadline: ReplicaSet "web-7d9" has timed out progressing.',
  ],
])('%s', (_name, d, state, message) => {
  expect(rolloutStatus(d, DIGEST)).toEqual({ state, message });
});
