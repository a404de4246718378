// Gate `http`: a smoke request against the environment must answer the expected status
// (and contain a string, when configured).
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import type { HttpGate } from '../../src/pipeline/types';

export async function runHttpGate(gate: HttpGate): Promise<GateOutcome> {
  let res: Response;
  try {
    res = await fetch(gate.url, { signal: AbortSignal.timeout(gate.timeoutMs) });
  } catch (err) {
    const e = err as Error;
    return { name: gate.name, passed: false, detail: `GET ${gate.url} failed: ${e.cause ?? e.message}` };
  }
  const body = await res.text();
  if (res.status !== gate.expectStatus) {
    return {
      name: gate.name,
      passed: false,
      detail: `GET ${gate.url} answered ${res.status}, expected ${gate.expectStatus}`,
    };
  }
  if (gate.contains !== undefined && !body.includes(gate.contains)) {
    return {
      name: gate.name,
      passed: false,
      detail: `GET ${gate.url} answered ${res.status} without "${gate.contains}"`,
    };
  }
  return { name: gate.name, passed: true, detail: `GET ${gate.url} answered ${res.status}` };
}
