// Gantry's own Prometheus metrics, emitted from inside the promotion workflow through the worker
// runtime's meter (the same /metrics endpoint as Temporal's). The workflow `metricMeter` skips
// everything while replaying, so a replay after a cache eviction or a worker crash never counts
// twice. This is a workflow interceptor module (bundleWorkflowCode's workflowInterceptorModules):
// it watches promoteArtifact from outside and reads the stage timings the workflow records in its
// own status, so promoteArtifact.ts needs no metric calls. It emits metrics only; it adds no
// commands, so histories and replays are unchanged.
import {
  ApplicationFailure,
  metricMeter,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { PromotionStatus } from '../src/pipeline/promotionStatus';
import type { PromotionInput } from '../src/pipeline/types';

/** Metric names as they appear on /metrics (histograms add _bucket, _sum and _count). */
export const PROMOTION_METRICS = {
  started: 'gantry_promotions_started',
  succeeded: 'gantry_promotions_succeeded',
  /** Every promotion that ended without promoting and without a rollback; label `outcome`: failed, rejected, expired, aborted or superseded. */
  failed: 'gantry_promotions_failed',
  /** Promotions that ended rolled back (failed canary, `gantry rollback` in place) and rollback runs that put an environment back. */
  rolledBack: 'gantry_promotions_rolled_back',
  approvalWait: 'gantry_approval_wait_seconds',
  stageDuration: 'gantry_stage_duration_seconds',
} as const;

const WORKFLOW_TYPE = 'promoteArtifact';

class PromotionMetrics implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (workflowInfo().workflowType !== WORKFLOW_TYPE) return next(input);
    const app = (input.args[0] as PromotionInput | undefined)?.app ?? 'unknown';
    const rolledBack = metricMeter.createCounter(
      PROMOTION_METRICS.rolledBack,
      'promotions',
      'promotions that ended rolled back, and rollback runs',
    );
    metricMeter.createCounter(PROMOTION_METRICS.started, 'promotions', 'promotions started').add(1, { app });
    // add(0) makes the series exist (value 0) before the first rollback happens, for alerts on its rate.
    rolledBack.add(0, { app });
    try {
      const status = (await next(input)) as PromotionStatus;
      recordStages(app, status);
      if (status.outcome === 'rolled-back') rolledBack.add(1, { app });
      else
        metricMeter
          .createCounter(PROMOTION_METRICS.succeeded, 'promotions', 'promotions that reached the last environment')
          .add(1, { app });
      return status;
    } catch (err) {
      const status = err instanceof ApplicationFailure ? (err.details?.[0] as PromotionStatus | undefined) : undefined;
      if (status?.timings) recordStages(app, status);
      if (status?.outcome === 'rolled-back') rolledBack.add(1, { app });
      else
        metricMeter
          .createCounter(
            PROMOTION_METRICS.failed,
            'promotions',
            'promotions that ended without promoting (failed, rejected, expired, aborted)',
          )
          .add(1, { app, outcome: status?.outcome ?? 'failed', stage: status?.stage ?? 'unknown' });
      throw err;
    }
  }
}

/** One histogram sample per finished stage, and one approval wait per approval stage. */
function recordStages(app: string, status: PromotionStatus): void {
  const stageDuration = metricMeter.createHistogram(
    PROMOTION_METRICS.stageDuration,
    'float',
    's',
    'time spent in each promotion stage',
  );
  const approvalWait = metricMeter.createHistogram(
    PROMOTION_METRICS.approvalWait,
    'float',
    's',
    'time from awaiting approval to the decision',
  );
  for (const t of status.timings ?? []) {
    if (!t.finishedAt) continue;
    const seconds = Math.max(0, (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000);
    const environment = t.environment ?? '';
    stageDuration.record(seconds, { app, stage: t.stage, environment, result: t.result ?? 'ok' });
    if (t.stage === 'approval') {
      const decision = status.environments.find((e) => e.name === t.environment)?.approval?.kind;
      approvalWait.record(seconds, {
        app,
        environment,
        decision: decision ?? (t.result === 'cancelled' ? 'cancelled' : 'expired'),
      });
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new PromotionMetrics()] });
