// What a metric provider is: one object per kind, in the registry of activities/metrics/index.ts.
// The analysis has three inputs; a provider reads the error-rate counters always, and latency
// buckets and the stable history when it understands them (absent methods: it does not).
import type {
  CanaryCountsReading,
  LatencyBucketsReading,
  ReadCanaryCountsRequest,
  ReadLatencyBucketsRequest,
  ReadStableHistoryRequest,
  StableHistoryReading,
} from '../../src/canary/types';
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';

export interface MetricProvider<Spec extends { kind: string }, Block = Record<string, unknown>> {
  /**
   * Its `canary.metrics.<kind>` block of gantry.yaml, as its definition in schema/canary.schema.json
   * checked it, into the spec a plan carries; rules across fields report to `reader` at `at`. It
   * also runs on a block the schema refused in part; what it returns is then discarded.
   */
  readConfig(reader: CanaryReader, block: Block, at: PathSegment[]): Spec;
  /** The four cumulative counters of an analysis' `errorRate` queries, at one instant. */
  readCounts(request: ReadCanaryCountsRequest & { provider: Spec }): Promise<CanaryCountsReading>;
  /** The cumulative histogram buckets of a `latency` query, one per `le`. */
  readLatencyBuckets?(request: ReadLatencyBucketsRequest & { provider: Spec }): Promise<LatencyBucketsReading>;
  /** The stable side's counter increments over a lookback (`stableHistory`). */
  readStableHistory?(request: ReadStableHistoryRequest & { provider: Spec }): Promise<StableHistoryReading>;
}
