import { activeFreeze, zonedToUtc } from '../../src/pipeline/freezeWindows';
import type { FreezeWindow } from '../../src/pipeline/types';

const weekend: FreezeWindow = {
  kind: 'weekly',
  name: 'weekend',
  days: [5],
  fromMinute: 16 * 60,
  toMinute: 9 * 60,
  timeZone: 'Europe/Berlin',
}; // Fri 16:00 -> Sat 09:00
const lunch: FreezeWindow = {
  kind: 'weekly',
  name: 'lunch',
  days: [1, 2, 3, 4, 5],
  fromMinute: 12 * 60,
  toMinute: 13 * 60,
  timeZone: 'America/New_York',
};
const holidays: FreezeWindow = {
  kind: 'once',
  name: 'holidays',
  from: '2026-12-24T00:00',
  to: '2026-12-27T00:00',
  timeZone: 'Europe/Berlin',
};

test('local times convert across zones and DST', () => {
  expect(zonedToUtc('2026-12-24T00:00', 'Europe/Berlin').toISOString()).toBe('2026-12-23T23:00:00.000Z'); // CET, +1
  expect(zonedToUtc('2026-07-01T12:00', 'Europe/Berlin').toISOString()).toBe('2026-07-01T10:00:00.000Z'); // CEST, +2
  expect(zonedToUtc('2026-03-08T12:00', 'America/New_York').toISOString()).toBe('2026-03-08T16:00:00.000Z'); // first day of EDT
  expect(zonedToUtc('2026-11-27T24:00', 'UTC').toISOString()).toBe('2026-11-28T00:00:00.000Z');
});

test.each<[string, string, string | undefined]>([
  ['Friday before the window', '2026-11-27T14:59:00Z', undefined], // 15:59 Berlin
  ['Friday evening', '2026-11-27T15:00:00Z', 'weekend until 2026-11-28T08:00:00.000Z'],
  ['Saturday early, past midnight', '2026-11-28T07:59:00Z', 'weekend until 2026-11-28T08:00:00.000Z'],
  ['Saturday after it closed', '2026-11-28T08:00:00Z', undefined],
  ['a weekday lunch in New York', '2026-11-25T17:30:00Z', 'lunch until 2026-11-25T18:00:00.000Z'],
  ['Christmas Eve in Berlin', '2026-12-24T10:00:00Z', 'holidays until 2026-12-26T23:00:00.000Z'],
  ['Christmas Eve, still the 23rd in UTC', '2026-12-23T23:30:00Z', 'holidays until 2026-12-26T23:00:00.000Z'],
])('%s', (_name, at, expected) => {
  const found = activeFreeze([weekend, lunch, holidays], new Date(at));
  expect(found ? `${found.window} until ${found.until.toISOString()}` : undefined).toBe(expected);
});

test('of overlapping windows the one that closes last wins', () => {
  const friday: FreezeWindow = {
    kind: 'once',
    name: 'release-freeze',
    from: '2026-11-27T00:00',
    to: '2026-11-30T00:00',
    timeZone: 'Europe/Berlin',
  };
  expect(activeFreeze([weekend, friday], new Date('2026-11-27T16:00:00Z'))).toEqual({
    window: 'release-freeze',
    until: new Date('2026-11-29T23:00:00.000Z'),
  });
});
