// The order of one app's promotions, per environment: who may deploy there now, who waits, who is
// superseded, and which digests were promoted there (the record rollbacks go back by). Pure: the
// lane workflow (workflows/promotionLane.ts) feeds it events and carries out the effects it
// returns; the tests drive it directly.

/** supersede: a newer verified digest ends older ones before their next deploy; queue: one after another in start order. */
export type OrderingPolicy = 'supersede' | 'queue';

export interface LaneMember {
  workflowId: string;
  /** The run the lane answers (a digest promoted again is a new run under the same id). */
  runId: string;
  digest: string;
  /** When the promotion's workflow started (ISO): start order is the order of digests. */
  startedAt: string;
  /** Environments this promotion will deploy into, in order. */
  environments: string[];
  /** rollback runs deploy an earlier digest on purpose: never superseded, first in line. */
  kind: 'promotion' | 'rollback';
  ordering: OrderingPolicy;
  verified: boolean;
  /** Environments it has finished (released). */
  passed: string[];
  /** Told to end before its next deploy; keeps what it holds until it releases or finishes. */
  superseded?: { workflowId: string; digest: string; reason: string };
}

export interface LandedDigest {
  digest: string;
  workflowId: string;
  startedAt: string;
  at: string;
  /** Put back by a rollback rather than promoted. */
  rollback?: boolean;
}

export interface LaneState {
  app: string;
  members: LaneMember[];
  /** The promotion holding each environment (deploy through soak), if any. */
  holders: Record<string, string>;
  /** Requests not granted yet, per environment, in arrival order. */
  waiting: Record<string, string[]>;
  /** Digests promoted into each environment, oldest first (the last LANDED_KEPT). */
  landed: Record<string, LandedDigest[]>;
  /** The newest verified promotion so far: what supersedes older ones. */
  newestVerified?: { workflowId: string; digest: string; startedAt: string };
}

export type LaneEvent =
  | { type: 'register'; member: Omit<LaneMember, 'verified' | 'passed'> }
  | { type: 'verified'; workflowId: string }
  | { type: 'request'; workflowId: string; environment: string }
  | { type: 'release'; workflowId: string; environment: string; promoted: boolean; at: string }
  | { type: 'rolled-back'; workflowId: string; environment: string; from: string; to: string; at: string }
  | { type: 'finish'; workflowId: string };

export type LaneEffect =
  | { type: 'grant'; workflowId: string; runId: string; environment: string; previousDigest?: string }
  | {
      type: 'supersede';
      workflowId: string;
      runId: string;
      by: { workflowId: string; digest: string };
      reason: string;
    };

const LANDED_KEPT = 20;

/** The lane of an app: one workflow per app in the namespace. */
export function laneWorkflowId(app: string): string {
  return `gantry/lane/${app}`;
}

/** The signal every lane event travels by. */
export const LANE_EVENT_SIGNAL = 'laneEvent';

export function emptyLane(app: string): LaneState {
  return { app, members: [], holders: {}, waiting: {}, landed: {} };
}

/** Applies one event; returns the messages to send. Mutates `lane` (the workflow's own state). */
export function applyLaneEvent(lane: LaneState, event: LaneEvent): LaneEffect[] {
  const member = (id: string) => lane.members.find((m) => m.workflowId === id);
  const effects: LaneEffect[] = [];
  switch (event.type) {
    case 'register':
      if (!member(event.member.workflowId)) lane.members.push({ ...event.member, verified: false, passed: [] });
      return [];
    case 'verified': {
      const m = member(event.workflowId);
      if (!m || m.verified) return [];
      m.verified = true;
      if (m.kind === 'promotion' && (!lane.newestVerified || startsBefore(lane.newestVerified, m))) {
        lane.newestVerified = { workflowId: m.workflowId, digest: m.digest, startedAt: m.startedAt };
      }
      // Older promotions that follow the supersede policy hear it now, so one waiting for an
      // approval or a freeze ends at once instead of at its next deploy.
      for (const older of lane.members) {
        if (
          older.kind === 'promotion' &&
          older.ordering === 'supersede' &&
          older !== m &&
          !older.superseded &&
          startsBefore(older, m)
        ) {
          effects.push(supersede(lane, older, m, 'a newer digest of the app was verified'));
        }
      }
      return [...effects, ...grantAll(lane)];
    }
    case 'request': {
      const m = member(event.workflowId);
      if (!m) return [];
      if (lane.holders[event.environment] === m.workflowId) return [grant(lane, m, event.environment)];
      // Its request crossed the message that superseded it: say so again.
      if (m.superseded)
        return [
          {
            type: 'supersede',
            workflowId: m.workflowId,
            runId: m.runId,
            by: { workflowId: m.superseded.workflowId, digest: m.superseded.digest },
            reason: m.superseded.reason,
          },
        ];
      const queue = (lane.waiting[event.environment] ??= []);
      if (!queue.includes(m.workflowId)) queue.push(m.workflowId);
      return grantAll(lane);
    }
    case 'release': {
      const m = member(event.workflowId);
      if (lane.holders[event.environment] === event.workflowId) delete lane.holders[event.environment];
      if (m && !m.passed.includes(event.environment)) m.passed.push(event.environment);
      // A rollback run's landing is recorded by its rolled-back event instead.
      if (m && event.promoted && m.kind === 'promotion')
        land(lane, event.environment, {
          digest: m.digest,
          workflowId: m.workflowId,
          startedAt: m.startedAt,
          at: event.at,
        });
      return grantAll(lane);
    }
    case 'rolled-back': {
      const history = (lane.landed[event.environment] ??= []);
      while (history.length > 0 && history[history.length - 1].digest === event.from) history.pop();
      if (history[history.length - 1]?.digest !== event.to) {
        land(lane, event.environment, {
          digest: event.to,
          workflowId: event.workflowId,
          startedAt: event.at,
          at: event.at,
          rollback: true,
        });
      }
      return [];
    }
    case 'finish':
      drop(lane, event.workflowId);
      return grantAll(lane);
  }
}

/** The digest a rollback of `digest` in `environment` returns to: the last one promoted there before it. */
export function previousPromoted(lane: LaneState, environment: string, digest: string): string | undefined {
  const history = lane.landed[environment] ?? [];
  for (let i = history.length - 1; i >= 0; i--) if (history[i].digest !== digest) return history[i].digest;
  return undefined;
}

function grantAll(lane: LaneState): LaneEffect[] {
  const effects: LaneEffect[] = [];
  for (const environment of Object.keys(lane.waiting)) effects.push(...grantNext(lane, environment));
  return effects;
}

/** Hands a free environment to the first request in line that may have it; supersedes those that may not. */
function grantNext(lane: LaneState, environment: string): LaneEffect[] {
  const effects: LaneEffect[] = [];
  const members = (lane.waiting[environment] ?? [])
    .map((id) => lane.members.find((m) => m.workflowId === id))
    .filter((m): m is LaneMember => m !== undefined);
  // Rollbacks first (they are how an incident ends), then start order.
  members.sort((a, b) => (a.kind === b.kind ? (startsBefore(a, b) ? -1 : 1) : a.kind === 'rollback' ? -1 : 1));
  for (const m of members) {
    if (lane.holders[environment]) break;
    if (m.kind === 'promotion') {
      const newerLanded = (lane.landed[environment] ?? []).find((l) => !l.rollback && startsBefore(m, l));
      if (newerLanded) {
        effects.push(
          supersede(
            lane,
            m,
            newerLanded,
            `${newerLanded.digest} (started later) was already promoted into ${environment}`,
          ),
        );
        continue;
      }
      const newer = lane.newestVerified;
      if (m.ordering === 'supersede' && newer && startsBefore(m, newer)) {
        effects.push(supersede(lane, m, newer, 'a newer digest of the app was verified'));
        continue;
      }
      // queue: every older promotion that will still deploy here goes first.
      const olderAhead = lane.members.some(
        (o) =>
          o.kind === 'promotion' &&
          o !== m &&
          !o.superseded &&
          startsBefore(o, m) &&
          o.environments.includes(environment) &&
          !o.passed.includes(environment),
      );
      if (olderAhead) break;
    }
    lane.holders[environment] = m.workflowId;
    lane.waiting[environment] = (lane.waiting[environment] ?? []).filter((id) => id !== m.workflowId);
    effects.push(grant(lane, m, environment));
  }
  if (lane.waiting[environment]?.length === 0) delete lane.waiting[environment];
  return effects;
}

function grant(lane: LaneState, m: LaneMember, environment: string): LaneEffect {
  const previousDigest = previousPromoted(lane, environment, m.digest);
  return {
    type: 'grant',
    workflowId: m.workflowId,
    runId: m.runId,
    environment,
    ...(previousDigest ? { previousDigest } : {}),
  };
}

/** Marks a member superseded and withdraws its requests; what it holds stays held until it lets go. */
function supersede(
  lane: LaneState,
  m: LaneMember,
  by: { workflowId: string; digest: string },
  reason: string,
): LaneEffect {
  m.superseded = { workflowId: by.workflowId, digest: by.digest, reason };
  for (const env of Object.keys(lane.waiting)) {
    lane.waiting[env] = lane.waiting[env].filter((id) => id !== m.workflowId);
    if (lane.waiting[env].length === 0) delete lane.waiting[env];
  }
  return {
    type: 'supersede',
    workflowId: m.workflowId,
    runId: m.runId,
    by: { workflowId: by.workflowId, digest: by.digest },
    reason,
  };
}

/** Forgets a member: its holds are released and its requests withdrawn. */
function drop(lane: LaneState, workflowId: string): void {
  lane.members = lane.members.filter((m) => m.workflowId !== workflowId);
  for (const [env, holder] of Object.entries(lane.holders)) if (holder === workflowId) delete lane.holders[env];
  for (const env of Object.keys(lane.waiting)) {
    lane.waiting[env] = lane.waiting[env].filter((id) => id !== workflowId);
    if (lane.waiting[env].length === 0) delete lane.waiting[env];
  }
}

function land(lane: LaneState, environment: string, entry: LandedDigest): void {
  const history = (lane.landed[environment] ??= []);
  const top = history[history.length - 1];
  if (top && top.digest === entry.digest && top.workflowId === entry.workflowId) return; // a retried release
  history.push(entry);
  if (history.length > LANDED_KEPT) history.splice(0, history.length - LANDED_KEPT);
}

/** Start order, ties broken by workflow id so every lane decides the same way. */
function startsBefore(
  a: { startedAt: string; workflowId: string },
  b: { startedAt: string; workflowId: string },
): boolean {
  return a.startedAt < b.startedAt || (a.startedAt === b.startedAt && a.workflowId < b.workflowId);
}
