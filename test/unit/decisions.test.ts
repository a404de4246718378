// The rules every approve/reject/abort/pause/resume passes, from the CLI (updates) or the UI (signals).
import { refuseDecision, refuseOperatorRequest } from '../../src/pipeline/decisions';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';

const waiting: PromotionStatus = {
  workflowId: 'promote/web/sha256:x',
  app: 'web',
  digest: 'sha256:x',
  requestedBy: 'ci',
  outcome: 'running',
  stage: 'approval',
  environment: 'production',
  paused: false,
  awaitingApproval: {
    environment: 'production',
    since: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-04T00:00:00.000Z',
  },
  startedAt: '2026-01-01T00:00:00.000Z',
  timings: [],
  decisions: [],
  refused: [],
  freezeOverrides: [],
  environments: [
    { name: 'staging', state: 'promoted', gates: [], votes: [] },
    { name: 'production', state: 'awaiting-approval', gates: [], votes: [] },
  ],
};

test.each<[string, unknown, PromotionStatus, string | undefined]>([
  ['a valid approval', { environment: 'production', by: 'alice' }, waiting, undefined],
  ['no object', 'approve', waiting, 'decision must be an object {"environment", "by"}'],
  ['no environment', { by: 'alice' }, waiting, 'decision needs "environment"'],
  ['no approver', { environment: 'production', by: '' }, waiting, 'decision needs "by" (who decides)'],
  ['a non-string comment', { environment: 'production', by: 'a', comment: 5 }, waiting, '"comment" must be a string'],
  [
    'an unknown environment',
    { environment: 'qa', by: 'alice' },
    waiting,
    'unknown environment "qa" (this promotion has staging, production)',
  ],
  [
    'an environment not waiting',
    { environment: 'staging', by: 'alice' },
    waiting,
    'not awaiting approval for staging: it is awaiting approval for production',
  ],
  [
    'a promotion not waiting at all',
    { environment: 'production', by: 'alice' },
    { ...waiting, awaitingApproval: undefined, stage: 'deploy', environment: 'staging' },
    'not awaiting approval for production: it is at stage deploy in staging',
  ],
  [
    'a finished promotion',
    { environment: 'production', by: 'alice' },
    { ...waiting, outcome: 'rejected' },
    'promotion already rejected',
  ],
  [
    'an environment already decided',
    { environment: 'production', by: 'bob' },
    {
      ...waiting,
      environments: [
        waiting.environments[0],
        {
          ...waiting.environments[1],
          approval: {
            kind: 'approve',
            environment: 'production',
            by: 'alice',
            at: '2026-01-02T00:00:00.000Z',
            via: 'update',
          },
        },
      ],
    },
    'production was already decided: approved by alice at 2026-01-02T00:00:00.000Z',
  ],
])('%s', (_name, decision, status, reason) => {
  expect(refuseDecision(status, decision)).toBe(reason);
});

test('operator requests', () => {
  expect(refuseOperatorRequest(waiting, 'pause', { by: 'ops' })).toBeUndefined();
  expect(refuseOperatorRequest(waiting, 'pause', {})).toBe('pause needs {"by": "<who>"}');
  expect(refuseOperatorRequest({ ...waiting, paused: true }, 'pause', { by: 'ops' })).toBe(
    'promotion is already paused',
  );
  expect(refuseOperatorRequest(waiting, 'resume', { by: 'ops' })).toBe('promotion is not paused');
  expect(refuseOperatorRequest({ ...waiting, outcome: 'promoted' }, 'abort', { by: 'ops' })).toBe(
    'promotion already promoted',
  );
});
