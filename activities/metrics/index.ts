// Metric providers by kind (the key under `canary.metrics` in gantry.yaml). Adding one (Datadog,
// CloudWatch, ...) is three things: its file here (its spec type and one MetricProvider object:
// metricProvider.ts), its definition under `metrics` in schema/canary.schema.json, and its line in
// `metricProviders` below.
import { ApplicationFailure } from '@temporalio/common';
import { MetricsError } from '../../src/canary/errorTypes';
import { registryEntry } from '../registryEntry';
import type {
  CanaryCountsReading,
  LatencyBucketsReading,
  ReadCanaryCountsRequest,
  ReadLatencyBucketsRequest,
  ReadStableHistoryRequest,
  StableHistoryReading,
} from '../../src/canary/types';
import type { MetricProvider } from './metricProvider';
import { prometheusProvider } from './prometheus';

export const metricProviders = {
  prometheus: prometheusProvider,
};

/** The spec of any registered provider, as a plan carries it (`kind` names its registry entry). */
export type MetricsProviderSpec = {
  [K in keyof typeof metricProviders]: (typeof metricProviders)[K] extends MetricProvider<infer Spec, never>
    ? Spec
    : never;
}[keyof typeof metricProviders];

export function metricProvider(kind: string): MetricProvider<MetricsProviderSpec, never> | undefined {
  // Each entry only ever gets its own kind's spec and block: the lookup is by that kind.
  return registryEntry(metricProviders, kind) as MetricProvider<MetricsProviderSpec, never> | undefined;
}

function providerFor(spec: { kind: string }): MetricProvider<MetricsProviderSpec, never> {
  const provider = metricProvider(spec.kind);
  if (!provider)
    throw ApplicationFailure.nonRetryable(`unknown metrics provider "${spec.kind}"`, MetricsError.QueryInvalid);
  return provider;
}

const notUnderstood = (spec: { kind: string }, input: string) =>
  ApplicationFailure.nonRetryable(`metrics provider "${spec.kind}" cannot read ${input}`, MetricsError.QueryInvalid);

/** Activity: canary and stable error and request counters (cumulative), read at one instant. */
export async function readCanaryCounts(request: ReadCanaryCountsRequest): Promise<CanaryCountsReading> {
  return providerFor(request.provider).readCounts(request);
}

/** Activity: the canary's cumulative latency histogram buckets. */
export async function readLatencyBuckets(request: ReadLatencyBucketsRequest): Promise<LatencyBucketsReading> {
  const provider = providerFor(request.provider);
  if (!provider.readLatencyBuckets) throw notUnderstood(request.provider, 'latency buckets');
  return provider.readLatencyBuckets(request);
}

/** Activity: the stable version's error and request increments over a lookback (its dispersion). */
export async function readStableHistory(request: ReadStableHistoryRequest): Promise<StableHistoryReading> {
  const provider = providerFor(request.provider);
  if (!provider.readStableHistory) throw notUnderstood(request.provider, 'a stable history');
  return provider.readStableHistory(request);
}
