// `gantry status` for an environment made of targets: a compact table, one row per target.
import { formatStatus, formatTargets } from '../../src/cli/formatStatus';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';

const NEW = `sha256:${'a'.repeat(64)}`;
const OLD = `sha256:${'b'.repeat(64)}`;

const targets: NonNullable<PromotionStatus['environments'][number]['targets']> = [
  { name: 'prod-eu-1', wave: 1, state: 'rolled-back', digest: OLD, previousDigest: OLD, changed: true },
  {
    name: 'prod-us-1',
    wave: 2,
    state: 'rolled-back',
    digest: OLD,
    canaryWeight: 0,
    reason: 'canary failed: analysis error-rate failed',
  },
  { name: 'prod-ap-1', wave: 3, state: 'pending' },
];

test('targets print as a table: target, wave, state, digest, canary weight, with the reason under a failed row', () => {
  expect(formatTargets(targets, 2)).toEqual([
    'target     wave  state        digest               canary',
    'prod-eu-1  1     rolled-back  sha256:bbbbbbbbbbbb  -',
    'prod-us-1  2*    rolled-back  sha256:bbbbbbbbbbbb  0%',
    '  └ canary failed: analysis error-rate failed',
    'prod-ap-1  3     pending      -                    -',
  ]);
});

test('gantry status shows the table under its environment', () => {
  const status: PromotionStatus = {
    workflowId: `promote/web/${NEW}`,
    app: 'web',
    digest: NEW,
    requestedBy: 'ci',
    outcome: 'running',
    stage: 'deploy',
    environment: 'production',
    paused: false,
    startedAt: '2026-11-30T06:00:00.000Z',
    environments: [{ name: 'production', state: 'in-progress', gates: [], votes: [], targets, wave: 2 }],
    timings: [],
    decisions: [],
    refused: [],
    freezeOverrides: [],
  };
  const text = formatStatus(status).split('\n');
  const at = text.findIndex((l) => l.includes('production  in-progress') || /→ production/.test(l));
  expect(text.slice(at + 1, at + 3)).toEqual([
    '        target     wave  state        digest               canary',
    '        prod-eu-1  1     rolled-back  sha256:bbbbbbbbbbbb  -',
  ]);
});
