// Gates by name (the key of each entry under `gates:` in gantry.yaml). Adding one is a new file here.
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import type { GateRequest } from '../types';
import { runCommandGate } from './command';
import { runHttpGate } from './http';
import { runParityGate } from './parity';

export async function runGate(request: GateRequest): Promise<GateOutcome> {
  const { gate } = request;
  switch (gate.kind) {
    case 'http':
      return runHttpGate(gate);
    case 'command':
      return runCommandGate(gate, request);
    case 'parity':
      return runParityGate(gate, request.digest);
  }
}
