// Worker metrics: the Temporal runtime's Prometheus endpoint, and Gantry's own counters and
// histograms on the same endpoint. Gantry's metrics are emitted from the workflow through the
// runtime meter (workflows/promotionMetrics.ts, a workflow interceptor bundled with the workflow
// code), so they are replay-safe and need no second HTTP server.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { PROMOTION_METRICS } from '../../workflows/promotionMetrics';

export { PROMOTION_METRICS };

export interface MetricsEndpoint {
  host: string;
  port: number;
}

/** Seconds; approvals wait minutes to days, stages take a second to an hour. */
const APPROVAL_WAIT_BUCKETS = [1, 10, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600];
const STAGE_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600];

/** host:port for the exporter's bind address; IPv6 literals get brackets. */
export function bindAddress({ host, port }: MetricsEndpoint): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Installs the process-wide Temporal runtime with a Prometheus exporter at http://host:port/metrics.
 * Must run before the first connection is made (the runtime is created once per process).
 */
export function installMetricsRuntime(endpoint: MetricsEndpoint): Runtime {
  return Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: bindAddress(endpoint),
          histogramBucketOverrides: {
            [PROMOTION_METRICS.approvalWait]: APPROVAL_WAIT_BUCKETS,
            [PROMOTION_METRICS.stageDuration]: STAGE_DURATION_BUCKETS,
          },
        },
      },
    },
  });
}

/** The path of the workflow interceptor module that emits Gantry's promotion metrics. */
export function promotionMetricsModule(): string {
  return require.resolve('../../workflows/promotionMetrics');
}
