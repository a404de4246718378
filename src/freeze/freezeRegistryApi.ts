// How to find and read the freeze registry workflow (workflows/freezeRegistry.ts): its id and its
// query. Pure, so the workflow and the activity that reads it (activities/freeze) share the values
// without the activity loading workflow code.
import { defineQuery } from '@temporalio/workflow';
import type { ManualFreeze } from '../../workflows/freezeRegistry';

export const FREEZE_REGISTRY_ID = 'gantry/freezes';

export const freezesQuery = defineQuery<ManualFreeze[]>('freezes');
