// Command gates run only commands the worker's policy names for that app and environment: a
// command sent in a workflow input (by a raw client, or an old promotion) is refused before it runs.
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import type { CommandGate } from '../../src/pipeline/types';
import { readAppPolicy, type PolicySource } from '../../src/policy/policySource';
import type { GateRequest } from '../types';

export function policyCheckedGate(
  source: PolicySource | undefined,
  runGate: (request: GateRequest) => Promise<GateOutcome>,
) {
  return async function runGateUnderPolicy(request: GateRequest): Promise<GateOutcome> {
    const { gate } = request;
    if (gate.kind !== 'command') return runGate(request);
    const refusal = await commandRefusal(source, gate, request);
    if (refusal) return { name: gate.name, passed: false, detail: `refused before it ran: ${refusal}` };
    return runGate(request);
  };
}

async function commandRefusal(
  source: PolicySource | undefined,
  gate: CommandGate,
  request: GateRequest,
): Promise<string | undefined> {
  const read = await readAppPolicy(source, request.app, request.digest, request.commit);
  if (!read.found) return read.reason;
  const env = read.policy.environments.find((e) => e.name === request.environment);
  // A target's gates (waves) are its own, `{target}` filled in: one target's command never runs for another.
  const gates = request.target
    ? (env?.rollout?.targets.find((t) => t.name === request.target)?.gates ?? [])
    : (env?.gates ?? []);
  const place = request.target ? `${request.environment}/${request.target}` : request.environment;
  const allowed = gates.filter((g): g is CommandGate => g.kind === 'command');
  const same = allowed.some(
    (g) => g.run === gate.run && g.cwd === gate.cwd && JSON.stringify(g.env) === JSON.stringify(gate.env),
  );
  if (same) return undefined;
  const named = allowed.map((g) => `${g.name}: ${g.run}`).join('; ') || 'none';
  return `command "${gate.run}" is not one the worker's policy allows in ${place} for ${request.app} (allowed: ${named})`;
}
