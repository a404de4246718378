// What a traffic router is: one object per kind, in the registry of activities/traffic/index.ts.
// The activity checks the weight and picks the router; a router only reads and writes its own
// weights, looking before it writes so a retried activity is harmless.
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';

/** What a router reports after giving the canary its share (the activity adds the weight asked for). */
export interface WeightChange {
  /** The canary's share before, in percent (canaryPercent of what was read). */
  previous: number;
  /** False when the weights were already in place: nothing was written. */
  changed: boolean;
  detail: string;
}

export interface TrafficRouter<Spec extends { kind: string }, Block = Record<string, unknown>> {
  /**
   * Its `canary.router.<kind>` block of gantry.yaml, as its definition in schema/canary.schema.json
   * checked it, into the spec a plan carries; rules across fields report to `reader` at `at`.
   * `baseDir` is gantry.yaml's folder, for relative paths. It also runs on a block the schema
   * refused in part (so every problem is reported at once); what it returns is then discarded.
   */
  readConfig(reader: CanaryReader, block: Block, at: PathSegment[], baseDir?: string): Spec;
  /** Give the canary `weight` percent of requests (an integer 0..100, already checked), stable the rest. */
  setWeight(router: Spec, weight: number): Promise<WeightChange>;
}

/** The canary's share in percent of two weights (or replica counts); 0 when both are 0. */
export function canaryPercent(stable: number, canary: number): number {
  return stable + canary === 0 ? 0 : Math.round((100 * canary) / (stable + canary));
}
