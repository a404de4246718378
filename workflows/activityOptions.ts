// Timeouts and retry policies of every activity, in one place. Polling activities heartbeat, so a
// dead worker is noticed within the heartbeat timeout rather than the whole start-to-close timeout.
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_METRICS_ERRORS, NON_RETRYABLE_ROUTER_ERRORS } from '../src/canary/errorTypes';
import type { CanaryAnalysisSpec, MetricsProviderSpec } from '../src/canary/types';
import type { GateSpec, HealthCheck } from '../src/pipeline/types';

const HEARTBEAT_TIMEOUT_MS = 20_000;

export const activityOptions = {
  // The base of proxies whose every call gives its own options (executeWithOptions merges them over this).
  perCall: { startToCloseTimeout: '1m' } satisfies ActivityOptions,

  verify: {
    startToCloseTimeout: '1m',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['ArtifactInvalid'],
    },
  } satisfies ActivityOptions,

  // A deploy can wait on push races; each retry starts from a fresh look at the config repo.
  deploy: {
    startToCloseTimeout: '5m',
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 10,
      nonRetryableErrorTypes: ['DeployConfigError'],
    },
  } satisfies ActivityOptions,

  // The check's own deadline lives in its heartbeat details, so a retry keeps the original deadline.
  health: (check: HealthCheck): ActivityOptions => ({
    startToCloseTimeout: check.timeoutMs + 60_000,
    heartbeatTimeout: Math.max(HEARTBEAT_TIMEOUT_MS, check.intervalMs * 3),
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['HealthTimeout', 'HealthConfigError'],
    },
  }),

  // A gate that ran and said no returns passed: false; only a broken gate (it could not run) is retried.
  gate: (gate: GateSpec): ActivityOptions => ({
    startToCloseTimeout: gate.timeoutMs + 30_000,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
  }),

  // Audit writes and freeze look-ups: local to the worker, retried until they land (audit ids make retries safe).
  local: {
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  } satisfies LocalActivityOptions,

  // A lane's look for promotions terminated from outside: describes a handful of runs.
  laneLiveness: {
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  } satisfies ActivityOptions,

  verifySignature: {
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumAttempts: 5 },
  } satisfies ActivityOptions,

  // A dead webhook must not hold a promotion: a few quick tries, then it is given up.
  notify: {
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '40s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '8s', maximumAttempts: 4 },
  } satisfies ActivityOptions,

  // Setting a canary weight: quick retries over ~1 minute; a configuration error is not retried.
  setWeight: {
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '15s',
      maximumAttempts: 6,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ROUTER_ERRORS],
    },
  } satisfies ActivityOptions,

  // Putting traffic back on stable (rollback, abort): keeps trying for ~20 minutes.
  rollbackWeight: {
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 40,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ROUTER_ERRORS],
    },
  } satisfies ActivityOptions,

  // One metrics read of a canary analysis: a few quick retries, then the interval is skipped.
  // Four queries run in parallel, each bounded by the provider's timeout.
  metricsRead: (provider: MetricsProviderSpec, spec: CanaryAnalysisSpec): ActivityOptions => ({
    startToCloseTimeout: provider.timeoutMs + 5_000,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: Math.max(1_000, Math.min(10_000, spec.intervalMs)),
      maximumAttempts: 3,
      nonRetryableErrorTypes: [...NON_RETRYABLE_METRICS_ERRORS],
    },
  }),

  // Planning and applying migrations: a broken config, source or migration is not retried.
  migrations: {
    startToCloseTimeout: '2m',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['MigrationsConfigError', 'MigrationsSourceError', 'MigrationFailed'],
    },
  } satisfies ActivityOptions,

  // A drift check's look at what runs (and its heal deploy's proxy default).
  driftRead: {
    startToCloseTimeout: '2m',
    retry: { maximumAttempts: 5 },
  } satisfies ActivityOptions,
};
