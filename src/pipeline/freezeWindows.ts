// Deny windows: when one is open for an environment, a promotion waits (durably) until it closes.
// Pure and deterministic: time zones come from Intl, which the workflow sandbox provides.
import type { FreezeWindow } from './types';

export interface ActiveFreeze {
  window: string;
  /** When the open window closes (the promotion re-checks then: windows may follow each other). */
  until: Date;
}

/** The open window that closes last, or undefined when none is open at `at`. */
export function activeFreeze(windows: readonly FreezeWindow[], at: Date): ActiveFreeze | undefined {
  let found: ActiveFreeze | undefined;
  for (const w of windows) {
    const until = w.kind === 'weekly' ? weeklyEnd(w, at) : oneOffEnd(w, at);
    if (until && (!found || until > found.until)) found = { window: w.name, until };
  }
  return found;
}

function oneOffEnd(w: Extract<FreezeWindow, { kind: 'once' }>, at: Date): Date | undefined {
  const from = zonedToUtc(w.from, w.timeZone);
  const to = zonedToUtc(w.to, w.timeZone);
  return at >= from && at < to ? to : undefined;
}

function weeklyEnd(w: Extract<FreezeWindow, { kind: 'weekly' }>, at: Date): Date | undefined {
  const local = localParts(at, w.timeZone);
  const minute = local.hour * 60 + local.minute;
  const overnight = w.toMinute <= w.fromMinute;
  const prevDay = (local.weekday + 6) % 7;
  // Opened today and not yet closed.
  if (w.days.includes(local.weekday) && minute >= w.fromMinute && (overnight || minute < w.toMinute)) {
    return localTime(local, overnight ? 1 : 0, w.toMinute, w.timeZone);
  }
  // Opened yesterday evening and runs past midnight.
  if (overnight && w.days.includes(prevDay) && minute < w.toMinute) return localTime(local, 0, w.toMinute, w.timeZone);
  return undefined;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localParts(at: Date, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  return {
    year: +get('year'),
    month: +get('month'),
    day: +get('day'),
    hour: +get('hour'),
    minute: +get('minute'),
    weekday: WEEKDAYS[get('weekday')],
  };
}

/** The instant of `minuteOfDay` on the local day `dayOffset` days after `local`'s date. */
function localTime(local: LocalParts, dayOffset: number, minuteOfDay: number, timeZone: string): Date {
  const day = new Date(Date.UTC(local.year, local.month - 1, local.day + dayOffset));
  const stamp = `${day.toISOString().slice(0, 10)}T${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
  return zonedToUtc(stamp, timeZone);
}

/** YYYY-MM-DDTHH:MM (24:00 allowed) in timeZone -> the instant. */
export function zonedToUtc(localStamp: string, timeZone: string): Date {
  const [date, time] = localStamp.split('T');
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  // Offset of the zone at that moment; a second pass settles times next to a DST change.
  let guess = asUtc - offsetMs(new Date(asUtc), timeZone);
  guess = asUtc - offsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(at.getTime() / 60_000) * 60_000;
}
