// The lane's rules, event by event: one deployer per environment, start order, superseding, the
// record rollbacks go back by.
import {
  applyLaneEvent,
  emptyLane,
  previousPromoted,
  type LaneEffect,
  type LaneState,
  type OrderingPolicy,
} from '../../src/pipeline/promotionLane';

const ENVS = ['dev', 'staging', 'production'];
const at = (n: number) => `2026-11-30T00:00:${String(n).padStart(2, '0')}.000Z`;

function join(
  lane: LaneState,
  n: number,
  ordering: OrderingPolicy = 'supersede',
  kind: 'promotion' | 'rollback' = 'promotion',
): LaneEffect[] {
  return applyLaneEvent(lane, {
    type: 'register',
    member: {
      workflowId: `p${n}`,
      runId: `r${n}`,
      digest: `d${n}`,
      startedAt: at(n),
      environments: ENVS,
      kind,
      ordering,
    },
  });
}
const request = (lane: LaneState, n: number, environment: string) =>
  applyLaneEvent(lane, { type: 'request', workflowId: `p${n}`, environment });
const release = (lane: LaneState, n: number, environment: string, promoted = true) =>
  applyLaneEvent(lane, { type: 'release', workflowId: `p${n}`, environment, promoted, at: at(50) });
const verified = (lane: LaneState, n: number) => applyLaneEvent(lane, { type: 'verified', workflowId: `p${n}` });
const grants = (effects: LaneEffect[]) =>
  effects.filter((e) => e.type === 'grant').map((e) => `${e.workflowId}:${e.environment}`);
const superseded = (effects: LaneEffect[]) => effects.filter((e) => e.type === 'supersede').map((e) => e.workflowId);

test('one promotion holds an environment at a time; the next in line gets it on release', () => {
  const lane = emptyLane('web');
  join(lane, 1, 'queue');
  join(lane, 2, 'queue');
  expect(grants(request(lane, 1, 'dev'))).toEqual(['p1:dev']);
  expect(grants(request(lane, 2, 'dev'))).toEqual([]);
  expect(grants(release(lane, 1, 'dev'))).toEqual(['p2:dev']);
  expect(lane.holders.dev).toBe('p2');
});

test('queue: a newer promotion that asks first still waits for the older one to pass', () => {
  const lane = emptyLane('web');
  join(lane, 1, 'queue');
  join(lane, 2, 'queue');
  expect(grants(request(lane, 2, 'dev'))).toEqual([]);
  expect(grants(request(lane, 1, 'dev'))).toEqual(['p1:dev']);
  expect(grants(release(lane, 1, 'dev'))).toEqual(['p2:dev']);
  // An older promotion that ends early stops blocking the newer ones.
  expect(grants(request(lane, 2, 'staging'))).toEqual([]);
  expect(grants(applyLaneEvent(lane, { type: 'finish', workflowId: 'p1' }))).toEqual(['p2:staging']);
});

test('supersede: a verified newer digest ends the older ones, which keep what they hold until they let go', () => {
  const lane = emptyLane('web');
  join(lane, 1);
  join(lane, 2);
  join(lane, 3);
  verified(lane, 1);
  expect(grants(request(lane, 1, 'dev'))).toEqual(['p1:dev']);
  const effects = verified(lane, 3);
  expect(superseded(effects).sort()).toEqual(['p1', 'p2']);
  expect(grants(request(lane, 3, 'dev'))).toEqual([]); // p1 still deploys into dev
  expect(superseded(request(lane, 2, 'dev'))).toEqual(['p2']); // asked after being told: told again
  expect(grants(release(lane, 1, 'dev'))).toEqual(['p3:dev']);
});

test('an older digest never lands over a newer one, whatever order they ask in', () => {
  const lane = emptyLane('web');
  join(lane, 2, 'queue');
  request(lane, 2, 'dev');
  release(lane, 2, 'dev');
  join(lane, 1, 'queue'); // registered late (its start was slow to be seen)
  expect(superseded(request(lane, 1, 'dev'))).toEqual(['p1']);
  expect(lane.landed.dev.map((l) => l.digest)).toEqual(['d2']);
});

test('rollbacks go first and back to the digest promoted before; a retried release records once', () => {
  const lane = emptyLane('web');
  for (const n of [1, 2]) {
    join(lane, n, 'queue');
    request(lane, n, 'dev');
    release(lane, n, 'dev');
    release(lane, n, 'dev');
  }
  expect(lane.landed.dev.map((l) => l.digest)).toEqual(['d1', 'd2']);
  expect(previousPromoted(lane, 'dev', 'd2')).toBe('d1');
  // The same digest promoted again still goes back to the one before it.
  join(lane, 3, 'queue');
  lane.members.find((m) => m.workflowId === 'p3')!.digest = 'd2';
  expect(request(lane, 3, 'dev')).toEqual([
    { type: 'grant', workflowId: 'p3', runId: 'r3', environment: 'dev', previousDigest: 'd1' },
  ]);
  join(lane, 9, 'queue', 'rollback');
  expect(grants(request(lane, 9, 'dev'))).toEqual([]);
  expect(grants(release(lane, 3, 'dev', false))).toEqual(['p9:dev']);
  applyLaneEvent(lane, { type: 'rolled-back', workflowId: 'p9', environment: 'dev', from: 'd2', to: 'd1', at: at(60) });
  expect(lane.landed.dev.map((l) => l.digest)).toEqual(['d1']);
  expect(previousPromoted(lane, 'dev', 'd1')).toBeUndefined();
});
