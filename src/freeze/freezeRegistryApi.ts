// How to find and read the freeze registry workflow (workflows/freezeRegistry.ts): its id, its
// query and what it holds. Pure, so the workflow and the activity that reads it (activities/freeze)
// share them without the activity loading workflow code.
import { defineQuery } from '@temporalio/workflow';

/** How a freeze's `by` is known. */
export interface FreezeProof {
  proof: 'signature' | 'claim';
  fingerprint?: string;
}

export interface ManualFreeze {
  environment: string;
  by: string;
  reason: string;
  at: string;
  /** How `by` is known (a signed freeze, or a claim); absent on freezes from before policies. */
  proof?: FreezeProof;
}

export const FREEZE_REGISTRY_ID = 'gantry/freezes';

export const freezesQuery = defineQuery<ManualFreeze[]>('freezes');
