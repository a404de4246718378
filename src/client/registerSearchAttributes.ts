// Gantry's search attributes must exist in the namespace before promotions can set them.
// The dev server gets them on its command line; elsewhere the worker adds what is missing.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { GANTRY_SEARCH_ATTRIBUTES } from '../pipeline/searchAttributes';

const TYPES = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/** Adds the missing ones; returns their names. */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = { ...existing.customAttributes, ...existing.systemAttributes };
  const missing = GANTRY_SEARCH_ATTRIBUTES.filter((a) => !(a.name in known));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, TYPES[a.type]])),
    });
  }
  return missing.map((a) => a.name);
}
