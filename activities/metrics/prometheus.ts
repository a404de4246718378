// Metric provider `prometheus`: the Prometheus HTTP API (/api/v1/query and /api/v1/query_range).
// Every failure says which query and which server, and carries a type the workflow acts on
// (MetricsError in src/canary/errorTypes.ts, which also says which are retried and which end the
// analysis).
import { ApplicationFailure } from '@temporalio/common';
import type { HistogramBucket } from '../../src/analysis';
import { MetricsError } from '../../src/canary/errorTypes';
import type {
  CanaryCountsReading,
  LatencyBucketsReading,
  ReadCanaryCountsRequest,
  ReadLatencyBucketsRequest,
  ReadStableHistoryRequest,
  StableHistoryReading,
} from '../../src/canary/types';
import type { CanaryReader } from '../../src/config/canaryReader';
import type { MetricProvider } from './metricProvider';

export interface PrometheusProvider {
  kind: 'prometheus';
  /** Base URL of the Prometheus HTTP API, e.g. http://127.0.0.1:9090. */
  url: string;
  /** Per HTTP request. */
  timeoutMs: number;
}

export const PROMETHEUS_DEFAULTS = { timeout: '10s' } as const;

type Labels = Record<string, string>;
type SamplePair = [number, string];

export type InstantResult =
  | { resultType: 'vector'; result: Array<{ metric: Labels; value: SamplePair }> }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: SamplePair }
  | { resultType: 'matrix'; result: Array<{ metric: Labels; values: SamplePair[] }> };

export interface RangeSeries {
  metric: Labels;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

const short = (query: string) => (query.length > 160 ? `${query.slice(0, 157)}...` : query);

async function callApi<T>(
  provider: PrometheusProvider,
  path: string,
  params: Record<string, string>,
  query: string,
): Promise<T> {
  const url = `${provider.url}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(provider.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${provider.timeoutMs}ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw ApplicationFailure.retryable(
      `Prometheus at ${provider.url} unreachable (${why}) for query \`${short(query)}\``,
      MetricsError.Unreachable,
    );
  }
  const text = await res.text();
  let answer: ApiAnswer<T> | undefined;
  try {
    answer = JSON.parse(text) as ApiAnswer<T>;
  } catch {
    answer = undefined;
  }
  if (!answer || typeof answer !== 'object' || !('status' in answer)) {
    if (res.status >= 500)
      throw ApplicationFailure.retryable(
        `Prometheus at ${provider.url} answered HTTP ${res.status}`,
        MetricsError.Unreachable,
      );
    throw ApplicationFailure.nonRetryable(
      `no Prometheus API at ${url} (HTTP ${res.status}, not a Prometheus answer)`,
      MetricsError.QueryInvalid,
    );
  }
  if (answer.status !== 'success') {
    const detail = `${answer.errorType ?? 'error'}: ${answer.error ?? 'no detail'}`;
    if (answer.errorType === 'bad_data' || res.status === 400 || res.status === 422) {
      throw ApplicationFailure.nonRetryable(
        `Prometheus refused query \`${short(query)}\`: ${detail}`,
        MetricsError.QueryInvalid,
      );
    }
    throw ApplicationFailure.retryable(
      `Prometheus at ${provider.url} failed query \`${short(query)}\` (HTTP ${res.status}): ${detail}`,
      MetricsError.Unreachable,
    );
  }
  return answer.data as T;
}

const unixSeconds = (at: Date) => (at.getTime() / 1000).toFixed(3);

/** An instant query, evaluated at `at` (now when absent). */
export function prometheusInstantQuery(provider: PrometheusProvider, query: string, at?: Date): Promise<InstantResult> {
  return callApi<InstantResult>(provider, '/api/v1/query', { query, ...(at ? { time: unixSeconds(at) } : {}) }, query);
}

/** A range query from `start` to `end` every `stepSeconds`; values parsed to numbers (NaN stays NaN). */
export async function prometheusRangeQuery(
  provider: PrometheusProvider,
  query: string,
  range: { start: Date; end: Date; stepSeconds: number },
): Promise<RangeSeries[]> {
  const data = await callApi<InstantResult>(
    provider,
    '/api/v1/query_range',
    { query, start: unixSeconds(range.start), end: unixSeconds(range.end), step: String(range.stepSeconds) },
    query,
  );
  if (data.resultType !== 'matrix')
    throw ApplicationFailure.nonRetryable(
      `range query \`${short(query)}\` returned a ${data.resultType}, expected a matrix`,
      MetricsError.QueryInvalid,
    );
  return data.result.map((s) => ({
    metric: s.metric,
    values: s.values.map(([t, v]) => [t, parseSample(v)] as [number, number]),
  }));
}

/** Prometheus writes sample values as strings: "12", "NaN", "+Inf". */
function parseSample(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** The one value of a query meant to return one series (or a scalar). */
export async function prometheusValue(
  provider: PrometheusProvider,
  query: string,
  what: string,
  at?: Date,
): Promise<number> {
  const data = await prometheusInstantQuery(provider, query, at);
  let raw: string;
  if (data.resultType === 'scalar') raw = data.result[1];
  else if (data.resultType === 'vector') {
    if (data.result.length === 0) {
      throw ApplicationFailure.nonRetryable(
        `${what}: query \`${short(query)}\` returned no series (the metric has no samples yet, or a name or label does not match; append \`or vector(0)\` if it may be absent)`,
        MetricsError.EmptyResult,
      );
    }
    if (data.result.length > 1) {
      const labels = data.result
        .slice(0, 3)
        .map((s) => JSON.stringify(s.metric))
        .join(', ');
      throw ApplicationFailure.nonRetryable(
        `${what}: query \`${short(query)}\` returned ${data.result.length} series (${labels}…); aggregate it to one value, e.g. sum(...)`,
        MetricsError.AmbiguousResult,
      );
    }
    raw = data.result[0].value[1];
  } else {
    throw ApplicationFailure.nonRetryable(
      `${what}: query \`${short(query)}\` returned a ${data.resultType}; it must return an instant vector of one series or a scalar`,
      MetricsError.AmbiguousResult,
    );
  }
  const value = parseSample(raw);
  if (!Number.isFinite(value))
    throw ApplicationFailure.nonRetryable(
      `${what}: query \`${short(query)}\` returned ${raw}, not a count`,
      MetricsError.NaN,
    );
  return value;
}

/** Activity: the four cumulative counters, evaluated at one instant. */
export async function readPrometheusCounts(
  request: ReadCanaryCountsRequest & { provider: PrometheusProvider },
): Promise<CanaryCountsReading> {
  const at = request.at ? new Date(request.at) : new Date();
  const { canary, stable } = request.queries;
  const [canaryErrors, canaryTotal, stableErrors, stableTotal] = await Promise.all([
    prometheusValue(request.provider, canary.errors, 'canary errors', at),
    prometheusValue(request.provider, canary.total, 'canary requests', at),
    prometheusValue(request.provider, stable.errors, 'stable errors', at),
    prometheusValue(request.provider, stable.total, 'stable requests', at),
  ]);
  return { canaryErrors, canaryTotal, stableErrors, stableTotal, at: at.toISOString() };
}

/** Activity: cumulative histogram buckets, one series per `le`. */
export async function readPrometheusLatencyBuckets(
  request: ReadLatencyBucketsRequest & { provider: PrometheusProvider },
): Promise<LatencyBucketsReading> {
  const at = request.at ? new Date(request.at) : new Date();
  const { query, provider } = request;
  const data = await prometheusInstantQuery(provider, query, at);
  if (data.resultType !== 'vector') {
    throw ApplicationFailure.nonRetryable(
      `latency buckets: query \`${short(query)}\` returned a ${data.resultType}; it must return one series per le`,
      MetricsError.AmbiguousResult,
    );
  }
  if (data.result.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `latency buckets: query \`${short(query)}\` returned no series (no requests observed yet, or a name or label does not match)`,
      MetricsError.EmptyResult,
    );
  }
  const buckets: HistogramBucket[] = [];
  for (const s of data.result) {
    const le = s.metric.le;
    if (le === undefined) {
      throw ApplicationFailure.nonRetryable(
        `latency buckets: query \`${short(query)}\` returned a series without an le label (${JSON.stringify(s.metric)}); use e.g. sum by (le) (..._bucket{...})`,
        MetricsError.AmbiguousResult,
      );
    }
    const count = parseSample(s.value[1]);
    if (!Number.isFinite(count))
      throw ApplicationFailure.nonRetryable(
        `latency buckets: bucket le="${le}" of \`${short(query)}\` is ${s.value[1]}, not a count`,
        MetricsError.NaN,
      );
    buckets.push({ le, count });
  }
  if (!buckets.some((b) => /^\+?inf/i.test(String(b.le)))) {
    throw ApplicationFailure.nonRetryable(
      `latency buckets: query \`${short(query)}\` has no le="+Inf" bucket; it must return every bucket of a histogram`,
      MetricsError.AmbiguousResult,
    );
  }
  return { buckets, at: at.toISOString() };
}

/**
 * Activity: the stable version's error and request counters over the lookback, one point per step,
 * as increments (the analysis measures its dispersion: src/analysis/sequentialTest.ts). Steps where
 * either counter is missing, not finite, or went down (a restart) are left out.
 */
export async function readPrometheusStableHistory(
  request: ReadStableHistoryRequest & { provider: PrometheusProvider },
): Promise<StableHistoryReading> {
  const end = request.at ? new Date(request.at) : new Date();
  const range = {
    start: new Date(end.getTime() - request.lookbackMs),
    end,
    stepSeconds: Math.max(1, Math.round(request.stepMs / 1000)),
  };
  const [errors, total] = await Promise.all([
    prometheusRangeQuery(request.provider, request.queries.errors, range),
    prometheusRangeQuery(request.provider, request.queries.total, range),
  ]);
  for (const [series, query, what] of [
    [errors, request.queries.errors, 'stable errors'],
    [total, request.queries.total, 'stable requests'],
  ] as const) {
    if (series.length > 1) {
      throw ApplicationFailure.nonRetryable(
        `${what}: query \`${short(query)}\` returned ${series.length} series over the history; aggregate it to one value, e.g. sum(...)`,
        MetricsError.AmbiguousResult,
      );
    }
  }
  const errorsAt = new Map((errors[0]?.values ?? []).map(([t, v]) => [t, v]));
  const points = (total[0]?.values ?? []).map(([t, n]) => ({ errors: errorsAt.get(t), total: n }));
  const increments: { errors: number; total: number }[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (
      a.errors === undefined ||
      b.errors === undefined ||
      ![a.errors, b.errors, a.total, b.total].every(Number.isFinite)
    )
      continue;
    const increment = { errors: Math.round(b.errors - a.errors), total: Math.round(b.total - a.total) };
    if (increment.errors < 0 || increment.total < 0 || increment.errors > increment.total) continue;
    increments.push(increment);
  }
  return { increments, at: end.toISOString() };
}

export const prometheusProvider: MetricProvider<PrometheusProvider, { url: string; timeout?: string }> = {
  readConfig(c: CanaryReader, block: { url: string; timeout?: string }): PrometheusProvider {
    return {
      kind: 'prometheus',
      url: block.url.replace(/\/+$/, ''),
      timeoutMs: c.durationMs(block.timeout, PROMETHEUS_DEFAULTS.timeout),
    };
  },
  readCounts: readPrometheusCounts,
  readLatencyBuckets: readPrometheusLatencyBuckets,
  readStableHistory: readPrometheusStableHistory,
};
