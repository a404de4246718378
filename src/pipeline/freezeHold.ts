// What holds a place (an environment, or one target of it) right now: a manual freeze of any of
// the names it answers to, or one of its deny windows; and when to look again. Pure: the workflows
// read the manual freezes (a local activity) and pass them in, so every caller decides alike.
import type { ManualFreeze } from '../freeze/freezeRegistryApi';
import { activeFreeze } from './freezeWindows';
import type { FreezeWindow } from './types';

/** How often a place held by a manual freeze looks again when no `gantry unfreeze` reaches it. */
export const MANUAL_FREEZE_RECHECK_MS = 60_000;

export interface FreezeHold {
  /** The deny window's name, or "manual". */
  window: string;
  /** Who froze it and why (manual), or the window and when it closes. */
  reason: string;
  /** When the window closes (absent for a manual freeze). */
  until?: string;
  recheckMs: number;
}

export function freezeHolding(
  manual: readonly ManualFreeze[],
  /** The names a manual freeze of this place uses, e.g. ['production', 'production/prod-eu-1']. */
  places: readonly string[],
  windows: readonly FreezeWindow[],
  now: Date,
): FreezeHold | undefined {
  const frozen = manual.find((f) => places.includes(f.environment));
  if (frozen)
    return {
      window: 'manual',
      reason: `frozen by ${frozen.by}: ${frozen.reason}`,
      recheckMs: MANUAL_FREEZE_RECHECK_MS,
    };
  const open = activeFreeze(windows, now);
  if (!open) return undefined;
  const until = open.until.toISOString();
  return {
    window: open.window,
    reason: `freeze window ${open.window} until ${until}`,
    until,
    recheckMs: Math.max(1000, open.until.getTime() - now.getTime()),
  };
}
