// The one line a promotion shows about what it waits for: each case in the order it wins.
import { currentDetails, describeWait } from '../../src/pipeline/describeWait';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import type { EnvironmentPlan } from '../../src/pipeline/types';

const plan = (name: string, required?: number): EnvironmentPlan => ({
  name,
  deploy: { kind: 'kubernetes', namespace: 'web', deployment: 'web', image: 'registry.example.com/acme/web' },
  gates: [],
  soakMs: 0,
  freezeWindows: [],
  ...(required !== undefined
    ? { approval: { expiresInMs: 3_600_000, required, signatures: 'optional', keys: {}, remindBeforeMs: [] } }
    : {}),
});
const environments = [plan('staging'), plan('production', 2)];

const running: PromotionStatus = {
  workflowId: 'promote/web/sha256:x',
  app: 'web',
  digest: 'sha256:x',
  requestedBy: 'ci',
  outcome: 'running',
  stage: 'deploy',
  environment: 'staging',
  paused: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  timings: [],
  decisions: [],
  refused: [],
  freezeOverrides: [],
  environments: [
    { name: 'staging', state: 'in-progress', gates: [], votes: [] },
    { name: 'production', state: 'pending', gates: [], votes: [] },
  ],
};
const vote = (by: string, kind: 'approve' | 'reject' = 'approve') => ({
  kind,
  environment: 'production',
  by,
  at: '2026-01-01T01:00:00.000Z',
  via: 'update' as const,
});
const awaiting: PromotionStatus = {
  ...running,
  stage: 'approval',
  environment: 'production',
  awaitingApproval: {
    environment: 'production',
    since: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T01:00:00.000Z',
  },
  environments: [
    running.environments[0],
    {
      name: 'production',
      state: 'awaiting-approval',
      gates: [],
      votes: [vote('alice'), vote('alice'), vote('bob', 'reject')],
    },
  ],
};

test('a running stage names itself and its environment', () => {
  expect(describeWait(running, environments)).toBe('deploy staging');
  expect(describeWait({ ...running, stage: 'verify', environment: undefined }, environments)).toBe('verify');
});

test('an approval wait counts distinct approvers against the plan', () => {
  expect(describeWait(awaiting, environments)).toBe(
    'approval for production (1 of 2; expires 2026-01-01T01:00:00.000Z)',
  );
});

test('an environment without an approval plan needs one approver', () => {
  expect(
    describeWait(
      { ...awaiting, awaitingApproval: { ...awaiting.awaitingApproval!, environment: 'staging' } },
      environments,
    ),
  ).toBe('approval for staging (0 of 1; expires 2026-01-01T01:00:00.000Z)');
});

test('a freeze says which window, until when and why', () => {
  expect(
    describeWait(
      { ...running, frozen: { environment: 'staging', window: 'weekend', until: '2026-01-05T06:00:00.000Z' } },
      environments,
    ),
  ).toBe('staging is frozen (weekend until 2026-01-05T06:00:00.000Z)');
  expect(
    describeWait(
      { ...running, frozen: { environment: 'staging', window: 'manual', reason: 'frozen by bob: incident' } },
      environments,
    ),
  ).toBe('staging is frozen (manual: frozen by bob: incident)');
});

test('a pause wins over everything, with the canary reason when there is one', () => {
  const paused = { ...awaiting, paused: true };
  expect(describeWait(paused, environments)).toBe('paused before the next stage (approval production)');
  expect(describeWait(paused, environments, 'canary in production paused at 10%')).toBe(
    'canary in production paused at 10%',
  );
});

test('a finished promotion waits for nothing; its details say how it ended', () => {
  const ended: PromotionStatus = { ...running, outcome: 'failed', reason: 'deploy staging failed: boom' };
  expect(describeWait(ended, environments)).toBeUndefined();
  expect(currentDetails(ended)).toBe('failed: deploy staging failed: boom');
  expect(currentDetails({ ...running, outcome: 'promoted' })).toBe('promoted');
  expect(currentDetails({ ...running, waitingFor: 'deploy staging' })).toBe('deploy staging');
});

test('an environment rolled out in waves says which wave, running or paused before it', () => {
  const waves: PromotionStatus = {
    ...running,
    stage: 'bake',
    environment: 'production',
    environments: [
      running.environments[0],
      {
        name: 'production',
        state: 'in-progress',
        gates: [],
        votes: [],
        wave: 2,
        targets: [
          { name: 'eu-1', wave: 1, state: 'promoted' },
          { name: 'eu-2', wave: 2, state: 'pending' },
          { name: 'us-1', wave: 3, state: 'pending' },
        ],
      },
    ],
  };
  expect(describeWait(waves, environments)).toBe('bake production (wave 2 of 3)');
  expect(describeWait({ ...waves, paused: true }, environments)).toBe(
    'paused before the next stage (bake production (wave 2 of 3))',
  );
});
