// The manual freezes in force (`gantry freeze` / `gantry unfreeze`): one small long-running
// workflow per namespace and task queue, so the incident switch survives restarts and every
// promotion reads the same answer.
import {
  condition,
  continueAsNew,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { SignedClaim } from '../src/pipeline/approvalPolicy';
import { authorizeFreeze } from './authorizeFreeze';
import { followCurrentBuild } from './followCurrentBuild';
import { freezesQuery, type ManualFreeze } from '../src/freeze/freezeRegistryApi';
export { FREEZE_REGISTRY_ID, freezesQuery, type ManualFreeze } from '../src/freeze/freezeRegistryApi';

export const freezeUpdate = defineUpdate<
  ManualFreeze[],
  [Omit<ManualFreeze, 'at' | 'proof'> & { signed?: SignedClaim }]
>('freeze');
export const unfreezeUpdate = defineUpdate<ManualFreeze[], [{ environment: string; by: string; signed?: SignedClaim }]>(
  'unfreeze',
);
/** Does nothing but give the registry a workflow task, which moves it to the current build. */
export const moveToCurrentBuildSignal = defineSignal('moveToCurrentBuild');

// Keeps the registry's history short; its whole state is the list it hands to the next run.
const CHANGES_PER_RUN = 500;

// It moves to the current build at its next workflow task (a change, or the moveToCurrentBuild
// signal an upgrade sends).
followCurrentBuild(freezeRegistry);

export async function freezeRegistry(initial: ManualFreeze[] = []): Promise<void> {
  let freezes = initial;
  let changes = 0;
  const usedNonces: string[] = [];
  setHandler(freezesQuery, () => freezes);
  setHandler(moveToCurrentBuildSignal, () => undefined);
  setHandler(
    freezeUpdate,
    async (f) => {
      const proof = await authorizeFreeze('freeze', f, usedNonces);
      // The signature is checked and audited; the registry keeps who and how they were known.
      const freeze: ManualFreeze = {
        environment: f.environment,
        by: f.by,
        reason: f.reason,
        at: new Date().toISOString(),
        ...(proof ? { proof } : {}),
      };
      freezes = [...freezes.filter((x) => x.environment !== f.environment), freeze];
      changes++;
      return freezes;
    },
    { validator: (f) => requireFields(f, ['environment', 'by', 'reason']) },
  );
  setHandler(
    unfreezeUpdate,
    async (u) => {
      await authorizeFreeze('unfreeze', u, usedNonces);
      freezes = freezes.filter((x) => x.environment !== u.environment);
      changes++;
      return freezes;
    },
    {
      validator: (u) => {
        requireFields(u, ['environment', 'by']);
        if (!freezes.some((x) => x.environment === u.environment)) throw new Error(`${u.environment} is not frozen`);
      },
    },
  );
  await condition(() => changes >= CHANGES_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof freezeRegistry>(freezes);
}

function requireFields(value: unknown, fields: string[]): void {
  const v = value as Record<string, unknown> | null;
  for (const f of fields) {
    if (typeof v?.[f] !== 'string' || (v[f] as string).trim() === '') throw new Error(`"${f}" is required`);
  }
}
