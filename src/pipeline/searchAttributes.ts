// Search attributes that make the promotion queue filterable in the Temporal UI and `gantry list`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const GANTRY_APP = defineSearchAttributeKey('GantryApp', SearchAttributeType.KEYWORD);
export const GANTRY_DIGEST = defineSearchAttributeKey('GantryDigest', SearchAttributeType.KEYWORD);
export const GANTRY_STAGE = defineSearchAttributeKey('GantryStage', SearchAttributeType.KEYWORD);
export const GANTRY_ENVIRONMENT = defineSearchAttributeKey('GantryEnvironment', SearchAttributeType.KEYWORD);
export const GANTRY_AWAITING_APPROVAL = defineSearchAttributeKey('GantryAwaitingApproval', SearchAttributeType.BOOL);
/** The wave an environment made of targets is rolling out (1, 2, …); 0 outside a rollout. */
export const GANTRY_WAVE = defineSearchAttributeKey('GantryWave', SearchAttributeType.INT);

/** Name and type of each, for `temporal server start-dev --search-attribute` and the operator API. */
export const GANTRY_SEARCH_ATTRIBUTES = [
  { name: GANTRY_APP.name, type: 'Keyword' },
  { name: GANTRY_DIGEST.name, type: 'Keyword' },
  { name: GANTRY_STAGE.name, type: 'Keyword' },
  { name: GANTRY_ENVIRONMENT.name, type: 'Keyword' },
  { name: GANTRY_AWAITING_APPROVAL.name, type: 'Bool' },
  { name: GANTRY_WAVE.name, type: 'Int' },
] as const;
