// The incident switch: `gantry freeze` stops every promotion into an environment before its next
// deploy there; `gantry unfreeze` lets them go on at once. The state lives in the freeze registry
// workflow, so it survives restarts and every worker sees the same answer.
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { freezeLiftedSignal, statusQuery } from '../../workflows/messages';
import {
  FREEZE_REGISTRY_ID,
  type freezeRegistry,
  freezesQuery,
  freezeUpdate,
  unfreezeUpdate,
  type ManualFreeze,
} from '../../workflows/freezeRegistry';
import { GANTRY_ENVIRONMENT, GANTRY_STAGE } from '../pipeline/searchAttributes';
import type { GantryClient } from './gantryClient';
import { deliverUpdate } from './deliverUpdate';
import { signOperation } from './signOperation';

export type FreezeAnswer = { accepted: true; freezes: ManualFreeze[] } | { accepted: false; reason: string };

/** Signs a freeze or unfreeze for the registry, when the operator gives a key. */
function signed(
  kind: 'freeze' | 'unfreeze',
  request: { environment: string; by: string; reason?: string },
  keyPath: string | undefined,
) {
  return keyPath
    ? {
        signed: signOperation(
          {
            kind,
            operator: request.by,
            workflowId: FREEZE_REGISTRY_ID,
            environment: request.environment,
            reason: request.reason,
          },
          keyPath,
        ),
      }
    : {};
}

export async function freezeEnvironment(
  gantry: GantryClient,
  request: { environment: string; by: string; reason: string },
  keyPath?: string,
): Promise<FreezeAnswer> {
  try {
    const freezes = await deliverUpdate(() =>
      gantry.client.workflow.executeUpdateWithStart(freezeUpdate, {
        args: [{ ...request, ...signed('freeze', request, keyPath) }],
        // A fresh operation each time: one is spent by the call that uses it.
        startWorkflowOperation: new WithStartWorkflowOperation<typeof freezeRegistry>('freezeRegistry', {
          workflowId: FREEZE_REGISTRY_ID,
          taskQueue: gantry.taskQueue,
          args: [[]],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );
    return { accepted: true, freezes };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return { accepted: false, reason: err.cause?.message ?? err.message };
    throw err;
  }
}

export async function unfreezeEnvironment(
  gantry: GantryClient,
  request: { environment: string; by: string },
  keyPath?: string,
): Promise<FreezeAnswer & { woken?: number }> {
  let freezes: ManualFreeze[];
  try {
    freezes = await deliverUpdate(() =>
      gantry.client.workflow
        .getHandle(FREEZE_REGISTRY_ID)
        .executeUpdate(unfreezeUpdate, { args: [{ ...request, ...signed('unfreeze', request, keyPath) }] }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return { accepted: false, reason: err.cause?.message ?? err.message };
    if (err instanceof WorkflowNotFoundError)
      return { accepted: false, reason: `${request.environment} is not frozen` };
    throw err;
  }
  // Promotions held by the freeze look again now instead of at their next periodic check.
  let woken = 0;
  const env = request.environment.split('/', 1)[0];
  for await (const wf of gantry.client.workflow.list({ query: heldByFreezeQuery(request.environment) })) {
    const handle = gantry.client.workflow.getHandle(wf.workflowId);
    // In stage deploy, only a promotion with a target held by a freeze is waiting.
    if (wf.typedSearchAttributes.get(GANTRY_STAGE) === 'deploy') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      const held = status?.environments.find((e) => e.name === env)?.targets?.some((t) => t.state === 'frozen');
      if (!held) continue;
    }
    await handle.signal(freezeLiftedSignal).catch(() => undefined);
    woken++;
  }
  return { accepted: true, freezes, woken };
}

/**
 * The promotions a freeze of `environment` can hold: those waiting in stage freeze, and those in
 * stage deploy, where an environment made of targets holds one target (production/prod-eu-1) before
 * its deploy or its canary while the rest of its wave goes on.
 */
export function heldByFreezeQuery(environment: string): string {
  const env = environment.replace(/'/g, '').split('/', 1)[0];
  return `WorkflowType = 'promoteArtifact' AND ExecutionStatus = 'Running' AND ${GANTRY_STAGE.name} IN ('freeze', 'deploy') AND ${GANTRY_ENVIRONMENT.name} = '${env}'`;
}

export async function listFreezes(gantry: GantryClient): Promise<ManualFreeze[]> {
  try {
    return await gantry.client.workflow.getHandle(FREEZE_REGISTRY_ID).query(freezesQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
}
