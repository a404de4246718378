// An approval block of gantry.yaml as the workflow waits on it: who is eligible (groups expanded),
// their keys, how many are needed and for how long. Shared by environments and migration gates.
import { parseDuration } from '../pipeline/duration';
import type { ApprovalSpec } from '../pipeline/types';
import type { ApprovalConfig, GantryConfig } from './configTypes';

const DEFAULT_APPROVAL_EXPIRY = '72h';

export function resolveApproval(spec: ApprovalConfig, config: GantryConfig): ApprovalSpec {
  const approvers = config.approvers ?? {};
  const named = spec.from ?? Object.keys(approvers);
  const eligible = [
    ...new Set(named.flatMap((n) => (n.startsWith('group:') ? (config.groups?.[n.slice(6)] ?? []) : [n]))),
  ];
  return {
    expiresInMs: parseDuration(spec.expiresIn ?? DEFAULT_APPROVAL_EXPIRY),
    required: spec.required ?? 1,
    eligible: eligible.length > 0 ? eligible : undefined,
    signatures: spec.signatures ?? 'required',
    keys: Object.fromEntries(eligible.map((p) => [p, approvers[p]?.keys ?? []])),
    remindBeforeMs: (spec.remindBefore ?? []).map(parseDuration),
  };
}
