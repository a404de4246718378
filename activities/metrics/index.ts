// Metric providers by kind (the key under `canary.metrics` in gantry.yaml). Adding one (Datadog,
// CloudWatch, ...) is a new file here and a case in each activity below.
import { ApplicationFailure } from '@temporalio/common';
import type { CanaryCountsReading, LatencyBucketsReading, ReadCanaryCountsRequest, ReadLatencyBucketsRequest, ReadStableHistoryRequest, StableHistoryReading } from '../../src/canary/types';
import { readPrometheusCounts, readPrometheusLatencyBuckets, readPrometheusStableHistory } from './prometheus';

const unknownProvider = (provider: { kind: string }) => ApplicationFailure.nonRetryable(`unknown metrics provider "${provider.kind}"`, 'MetricsQueryInvalid');

/** Activity: canary and stable error and request counters (cumulative), read at one instant. */
export async function readCanaryCounts(request: ReadCanaryCountsRequest): Promise<CanaryCountsReading> {
  switch (request.provider.kind) {
    case 'prometheus':
      return readPrometheusCounts({ ...request, provider: request.provider });
    default:
      throw unknownProvider(request.provider);
  }
}

/** Activity: the canary's cumulative latency histogram buckets. */
export async function readLatencyBuckets(request: ReadLatencyBucketsRequest): Promise<LatencyBucketsReading> {
  switch (request.provider.kind) {
    case 'prometheus':
      return readPrometheusLatencyBuckets({ ...request, provider: request.provider });
    default:
      throw unknownProvider(request.provider);
  }
}

/** Activity: the stable version's error and request increments over a lookback (its dispersion). */
export async function readStableHistory(request: ReadStableHistoryRequest): Promise<StableHistoryReading> {
  switch (request.provider.kind) {
    case 'prometheus':
      return readPrometheusStableHistory({ ...request, provider: request.provider });
    default:
      throw unknownProvider(request.provider);
  }
}
