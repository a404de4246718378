// The one rule every freeze wait decides by (src/pipeline/freezeHold.ts): a manual freeze of any
// name the place answers to, else an open deny window with when it closes, else nothing.
import { freezeHolding, MANUAL_FREEZE_RECHECK_MS } from '../../src/pipeline/freezeHold';
import type { FreezeWindow } from '../../src/pipeline/types';

const now = new Date('2026-11-30T10:00:00Z');
const window: FreezeWindow = {
  kind: 'once',
  name: 'change-freeze',
  from: '2026-11-30T09:00',
  to: '2026-11-30T12:00',
  timeZone: 'UTC',
};
const freeze = (environment: string) => ({ environment, by: 'oncall', reason: 'incident', at: now.toISOString() });

test('a manual freeze of the environment or of the target holds the target, before any window', () => {
  const places = ['production', 'production/eu-1'];
  for (const frozen of ['production', 'production/eu-1'])
    expect(freezeHolding([freeze(frozen)], places, [window], now)).toEqual({
      window: 'manual',
      reason: 'frozen by oncall: incident',
      recheckMs: MANUAL_FREEZE_RECHECK_MS,
    });
  // Another target's freeze does not hold this one.
  expect(freezeHolding([freeze('production/us-1')], places, [], now)).toBeUndefined();
});

test('an open deny window holds until it closes; none open, nothing holds', () => {
  expect(freezeHolding([], ['production'], [window], now)).toEqual({
    window: 'change-freeze',
    reason: 'freeze window change-freeze until 2026-11-30T12:00:00.000Z',
    until: '2026-11-30T12:00:00.000Z',
    recheckMs: 2 * 3600_000,
  });
  expect(freezeHolding([], ['production'], [window], new Date('2026-11-30T12:00:00Z'))).toBeUndefined();
});
