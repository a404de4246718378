// The failure types (ApplicationFailure.type) of the canary's activities: routers and metric
// providers throw them, the canary workflows act on them. Pure, so both sides import this one list.

/** Failures of setCanaryWeight. */
export const RouterError = {
  /** The router or its spec is wrong (unknown server, route or Deployment; refused; bad weight): not retried. */
  ConfigError: 'RouterConfigError',
  /** The router could not be reached or answered with a server error: retried. */
  Unreachable: 'RouterUnreachable',
  /** The weights read back differ from those just written (someone else wrote them): retried. */
  WeightMismatch: 'RouterWeightMismatch',
} as const;

/** Not retried by Temporal: the router or its spec must be fixed first. */
export const NON_RETRYABLE_ROUTER_ERRORS: readonly string[] = [RouterError.ConfigError];

/** Failures of the metric reads (readCanaryCounts, readLatencyBuckets, readStableHistory). */
export const MetricsError = {
  /** Connection refused, timeout, 5xx: retried. */
  Unreachable: 'MetricsUnreachable',
  /** The server refused the query, or there is no metrics API at that URL. */
  QueryInvalid: 'MetricsQueryInvalid',
  /** Several series where one value is needed, buckets without `le`. */
  AmbiguousResult: 'MetricsAmbiguousResult',
  /** No series (the metric has no samples yet, or a label does not match). */
  EmptyResult: 'MetricsEmptyResult',
  /** NaN or ±Inf where a counter value is needed. */
  NaN: 'MetricsNaN',
} as const;

export type MetricsErrorType = (typeof MetricsError)[keyof typeof MetricsError];

/** Not retried by Temporal: asking again within the same read gives the same answer. */
export const NON_RETRYABLE_METRICS_ERRORS: readonly MetricsErrorType[] = [
  MetricsError.QueryInvalid,
  MetricsError.AmbiguousResult,
  MetricsError.EmptyResult,
  MetricsError.NaN,
];

/**
 * Of those, the ones no later read can fix: the analysis ends Inconclusive at once. An empty or NaN
 * result only skips the interval (samples may still arrive); too many in a row end it too.
 */
export const PERMANENT_METRICS_ERRORS: readonly MetricsErrorType[] = [
  MetricsError.QueryInvalid,
  MetricsError.AmbiguousResult,
];
