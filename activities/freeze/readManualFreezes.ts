// Reads the manual freezes in force from the freeze registry workflow (none when it never ran).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FREEZE_REGISTRY_ID, freezesQuery, type ManualFreeze } from '../../src/freeze/freezeRegistryApi';

export function readManualFreezesWith(client: Client) {
  return async function readManualFreezes(): Promise<ManualFreeze[]> {
    try {
      return await client.workflow.getHandle(FREEZE_REGISTRY_ID).query(freezesQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  };
}
