// What a metric provider is: one object per kind, in the registry of activities/metrics/index.ts.
// The analysis has three inputs; a provider reads the error-rate counters always, and latency
// buckets and the stable history when it understands them (absent methods: it does not).
import type { CanaryCountsReading, LatencyBucketsReading, ReadCanaryCountsRequest, ReadLatencyBucketsRequest, ReadStableHistoryRequest, StableHistoryReading } from '../../src/canary/types';
import type { CanaryReader, PathSegment } from '../../src/config/canaryReader';

export interface MetricProvider<Spec extends { kind: string }> {
  /** Its `canary.metrics.<kind>` block of gantry.yaml (schema/canary.schema.json) as the spec a plan carries. */
  readConfig(reader: CanaryReader, raw: unknown, at: PathSegment[]): Spec | undefined;
  /** The four cumulative counters of an analysis' `errorRate` queries, at one instant. */
  readCounts(request: ReadCanaryCountsRequest & { provider: Spec }): Promise<CanaryCountsReading>;
  /** The cumulative histogram buckets of a `latency` query, one per `le`. */
  readLatencyBuckets?(request: ReadLatencyBucketsRequest & { provider: Spec }): Promise<LatencyBucketsReading>;
  /** The stable side's counter increments over a lookback (`stableHistory`). */
  readStableHistory?(request: ReadStableHistoryRequest & { provider: Spec }): Promise<StableHistoryReading>;
}
