// The pipeline a promotion really runs: the worker's policy for the app, never the starter's copy.
// The starter chooses the app, the digest and the source commit; a pipeline it sends that differs
// from the policy (another approver, a relaxed rule, a dropped freeze, a command of its own) is
// refused with what differs. Pure, so the workflow and the tests apply the same rule.
import type { EnvironmentPlan, PromotionInput } from '../pipeline/types';
import type { AppPolicy, StartedBy, StartRequestInput } from './policyTypes';

/**
 * Where the worker finds things on its own disk (a gate's working folder, a kubeconfig): resolved
 * against the policy file's folder, so a starter's copy elsewhere differs there without meaning to.
 * The policy's values are the ones used.
 */
const LOCAL_PATH_KEYS = new Set(['cwd', 'kubeconfig']);

/** At most this many differences are named in a refusal; the rest are counted. */
const MAX_DIFFERENCES = 6;

/** The environments the policy sets for this run: all of them, or for a rollback run the one it returns (no approval wait: the rollback is the decision). */
export function policyEnvironments(
  sent: Pick<PromotionInput, 'rollback' | 'environments'>,
  policy: AppPolicy,
): EnvironmentPlan[] | string {
  if (!sent.rollback) return policy.environments;
  const name = sent.environments[0]?.name;
  const env = policy.environments.find((e) => e.name === name);
  if (sent.environments.length !== 1 || !env)
    return `a rollback run names one environment of the policy (${policy.environments.map((e) => e.name).join(', ')})`;
  return [{ ...env, approval: undefined }];
}

/** Why the sent pipeline is not the policy's, or undefined when it is the same. */
export function pipelineDifferences(sent: PromotionInput, policy: AppPolicy): string | undefined {
  const expected = policyEnvironments(sent, policy);
  if (typeof expected === 'string') return expected;
  const found: string[] = [];
  const settings = policy.settings as unknown as Record<string, unknown>;
  const sentAll = sent as unknown as Record<string, unknown>;
  for (const key of Object.keys(settings)) diff(strip(sentAll[key]), strip(settings[key]), key, found);
  const sentNames = sent.environments.map((e) => e.name);
  const names = expected.map((e) => e.name);
  if (sentNames.join() !== names.join()) {
    found.push(`environments: sent ${sentNames.join(', ') || 'none'}, the policy has ${names.join(', ')}`);
  } else {
    expected.forEach((env, i) => diff(strip(sent.environments[i]), strip(env), env.name, found));
  }
  if (found.length === 0) return undefined;
  const shown = found.slice(0, MAX_DIFFERENCES).join('; ');
  return `the pipeline sent differs from the worker's policy: ${shown}${found.length > MAX_DIFFERENCES ? ` (and ${found.length - MAX_DIFFERENCES} more)` : ''}`;
}

/** The input the promotion runs with: the starter's choice of artifact, the policy's everything else. */
export function effectiveInput(sent: StartRequestInput, policy: AppPolicy, startedBy: StartedBy): PromotionInput {
  const environments = policyEnvironments(sent, policy) as EnvironmentPlan[];
  return {
    app: sent.app,
    digest: sent.digest,
    ...(sent.commit !== undefined ? { commit: sent.commit } : {}),
    ...policy.settings,
    // The no-self-approval rule and the audit use who was proven to start it.
    requestedBy: startedBy.name,
    environments,
    ...(sent.rollback ? { rollback: sent.rollback } : {}),
  };
}

/** JSON as it travels (undefined members dropped), so a field left out equals one set to undefined. */
function strip(v: unknown): unknown {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown);
}

function diff(sent: unknown, policy: unknown, path: string, found: string[]): void {
  if (
    typeof sent === 'object' &&
    sent !== null &&
    typeof policy === 'object' &&
    policy !== null &&
    Array.isArray(sent) === Array.isArray(policy)
  ) {
    if (Array.isArray(sent) && Array.isArray(policy) && sent.length !== policy.length) {
      found.push(`${path}: sent ${show(sent)}, the policy says ${show(policy)}`);
      return;
    }
    const a = sent as Record<string, unknown>;
    const b = policy as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(b), ...Object.keys(a)])]) {
      if (!Array.isArray(a) && LOCAL_PATH_KEYS.has(key)) continue;
      diff(a[key] ?? null, b[key] ?? null, `${path}.${key}`, found);
    }
    return;
  }
  if (sent !== policy) found.push(`${path}: sent ${show(sent)}, the policy says ${show(policy)}`);
}

function show(v: unknown): string {
  const text = v === null ? 'nothing' : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
