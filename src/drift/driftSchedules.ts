// One Temporal Schedule per environment of an app (`drift/<app>/<environment>`; per target of an
// environment made of targets, `drift/<app>/<environment>/<target>`), each running the driftCheck
// workflow every interval. Creating them again updates them in place.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { GantryConfig } from '../config/configTypes';
import { resolvePromotion } from '../config/resolvePromotion';
import type { DriftCheckInput } from './types';

export const driftScheduleId = (app: string, environment: string) => `drift/${app}/${environment}`;

export interface DriftScheduleOptions {
  /** How often, e.g. 10m. */
  every: string;
  heal: boolean;
  taskQueue: string;
  /** Only these environments; default every environment of the app. */
  environments?: string[];
}

/**
 * The inputs of the drift checks of an app, resolved from gantry.yaml: one per environment, and
 * for an environment made of targets one per target (`production/prod-eu-1`, its own deploy and
 * task queue). `environments` picks environments or single targets; an environment picks all its targets.
 */
export function driftCheckInputs(
  config: GantryConfig,
  app: string,
  heal: boolean,
  environments?: string[],
): DriftCheckInput[] {
  // The digest does not shape the environments; any valid one resolves them.
  const plan = resolvePromotion(config, { app, digest: `sha256:${'0'.repeat(64)}`, requestedBy: 'drift' });
  return plan.environments
    .flatMap((e) =>
      (e.rollout?.targets ?? [e]).map((t) => ({
        app,
        // The place a target's deploys and audit records name (workflows/deployTarget.ts placeOf).
        environment: e.rollout ? `${e.name}/${t.name}` : e.name,
        target: t.deploy,
        heal,
        ...(e.webhookUrl ? { webhookUrl: e.webhookUrl } : {}),
        ...(t.taskQueue ? { taskQueue: t.taskQueue } : {}),
      })),
    )
    .filter((i) => !environments || environments.some((n) => i.environment === n || i.environment.startsWith(`${n}/`)));
}

export async function scheduleDriftChecks(
  client: Client,
  config: GantryConfig,
  app: string,
  options: DriftScheduleOptions,
): Promise<string[]> {
  const ids: string[] = [];
  for (const input of driftCheckInputs(config, app, options.heal, options.environments)) {
    const scheduleId = driftScheduleId(app, input.environment);
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'driftCheck',
      taskQueue: options.taskQueue,
      workflowId: scheduleId,
      args: [input],
    };
    const spec = { intervals: [{ every: options.every as `${number}m` }] };
    try {
      await client.schedule.create({
        scheduleId,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        memo: { app, environment: input.environment },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
    }
    ids.push(scheduleId);
  }
  return ids;
}
