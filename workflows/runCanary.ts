// The canary steps of one environment, run inside the promotion workflow (promoteArtifact calls
// runCanary after the deploy): setWeight through the router activity, pause by a durable timer or
// until an operator resumes, analysis as a child workflow (canaryAnalysis.ts) with a deterministic
// id. A Failed analysis sets the canary's weight back to 0 and returns Failed; the caller reverts
// the deploy. An Inconclusive one aborts (weight 0, Aborted) or pauses for a person, as the plan
// says. Cancellation (an operator's abort) sets the weight back to 0 before it propagates.
import {
  ActivityFailure,
  CancellationScope,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  proxyActivities,
  sleep,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as traffic from '../activities/traffic';
import type {
  CanaryAnalysisResult,
  CanaryEvidence,
  CanaryPlan,
  CanaryRunResult,
  CanaryStep,
  CanaryStepRecord,
} from '../src/canary/types';
import { failureMessage } from '../src/canary/failures';
import { shortDigest } from '../src/pipeline/digest';
import { formatDuration } from '../src/pipeline/duration';
import { activityOptions } from './activityOptions';
import { canaryAnalysis } from './canaryAnalysis';
import { onEnvironmentQueue } from './environmentQueue';

export interface RunCanaryContext {
  app: string;
  digest: string;
  environment: string;
  /** The environment's task queue (router and metrics activities run there); absent: the main queue. */
  taskQueue?: string;
  /** The promotion's workflow id: child analyses get `${workflowId}/canary/${environment}/${stepIndex}`. */
  workflowId: string;
  /** The evidence to fill as the steps go (the promotion's status holds it); absent: a new one. */
  evidence?: CanaryEvidence;
  /** Runs one step as a stage of the promotion (status, timings, waiting while paused). Called with 'canary'. */
  stage<T>(name: string, run: () => Promise<T>): Promise<T>;
  /** An operator paused the promotion. */
  isPaused(): boolean;
  /**
   * Marks the promotion paused (so `gantry resume` is accepted), says why in its status, and
   * resolves when an operator resumes it. An abort cancels the caller's scope instead.
   */
  waitForResume(reason: string): Promise<void>;
  /** Each finished analysis (already in the evidence), for the audit log. */
  onAnalysis(result: CanaryAnalysisResult): void;
  /** Each step as it starts and as it ends (optional: for the status). */
  onStep?(step: CanaryStepRecord): void;
  /** Before each weight change that moves traffic to the canary: waits while the environment is frozen. */
  beforeChange?(): Promise<void>;
}

const router = proxyActivities<typeof traffic>(activityOptions.setWeight);

export function canaryChildId(workflowId: string, environment: string, stepIndex: number): string {
  return `${workflowId}/canary/${environment}/${stepIndex}`;
}

export function describeStep(step: CanaryStep): string {
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight}`;
    case 'pause':
      return step.durationMs === undefined ? 'pause until resumed' : `pause ${formatDuration(step.durationMs)}`;
    case 'analysis':
      return `analysis ${step.analysis.name}`;
  }
}

/** Ends the walk with an outcome other than Successful. */
class CanaryEnded extends Error {
  constructor(
    readonly outcome: 'Failed' | 'Aborted',
    message: string,
  ) {
    super(message);
  }
}

export async function runCanary(plan: CanaryPlan, ctx: RunCanaryContext): Promise<CanaryRunResult> {
  const evidence: CanaryEvidence = ctx.evidence ?? { steps: [], analyses: [], weight: 0 };
  const now = () => new Date().toISOString();
  const label = (what: string) => `${what} ${ctx.environment} ${shortDigest(ctx.digest)}`;

  const setWeight = async (weight: number, options: ActivityOptions) => {
    const result = await router.setCanaryWeight.executeWithOptions(
      onEnvironmentQueue({ ...options, summary: label(`canary weight ${weight}%`) }, ctx.taskQueue),
      [{ router: plan.router, weight, app: ctx.app, environment: ctx.environment }],
    );
    evidence.weight = weight;
    return result;
  };

  /** Traffic back to stable; says how that went (a failure is reported, not thrown: the caller still rolls back). */
  const backToStable = async (): Promise<string> => {
    try {
      await setWeight(0, activityOptions.rollbackWeight);
      return 'traffic is back on stable (canary weight 0)';
    } catch (err) {
      if (isCancellation(err)) throw err;
      return `setting the canary weight back to 0 FAILED: ${failureMessage(err)}`;
    }
  };

  async function runStep(step: CanaryStep, index: number, record: CanaryStepRecord): Promise<void> {
    switch (step.kind) {
      case 'setWeight': {
        await ctx.beforeChange?.();
        const r = await setWeight(step.weight, activityOptions.setWeight);
        record.detail = r.detail;
        return;
      }
      case 'pause':
        if (step.durationMs !== undefined) await sleep(step.durationMs);
        else {
          await ctx.waitForResume(
            `canary in ${ctx.environment} paused at ${evidence.weight}% (step ${index + 1} of ${plan.steps.length}) until resumed`,
          );
          record.result = 'resumed';
        }
        return;
      case 'analysis': {
        const result = await analyse(step, index);
        evidence.analyses.push(result);
        ctx.onAnalysis(result);
        record.detail = `${result.decision}: ${result.reason}`;
        if (result.decision === 'Successful') return;
        if (result.decision === 'Failed') {
          record.result = 'failed';
          throw new CanaryEnded(
            'Failed',
            `analysis ${result.name} failed in ${ctx.environment}: ${result.reason}; ${await backToStable()}`,
          );
        }
        record.result = 'inconclusive';
        if (plan.onInconclusive === 'abort') {
          throw new CanaryEnded(
            'Aborted',
            `analysis ${result.name} inconclusive in ${ctx.environment}: ${result.reason}; ${await backToStable()}`,
          );
        }
        await ctx.waitForResume(
          `canary analysis ${result.name} inconclusive in ${ctx.environment} at ${evidence.weight}%: ${result.reason}. Resume to go on with the next step, or abort`,
        );
        record.result = 'resumed';
        return;
      }
    }
  }

  async function analyse(
    step: Extract<CanaryStep, { kind: 'analysis' }>,
    index: number,
  ): Promise<CanaryAnalysisResult> {
    const startedAt = now();
    try {
      return await executeChild(canaryAnalysis, {
        workflowId: canaryChildId(ctx.workflowId, ctx.environment, index),
        args: [
          {
            spec: step.analysis,
            provider: plan.metrics!,
            app: ctx.app,
            environment: ctx.environment,
            taskQueue: ctx.taskQueue,
            stepIndex: index,
          },
        ],
      });
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ChildWorkflowFailure)) throw err;
      // The analysis itself broke (not the canary): no verdict, so the Inconclusive policy applies.
      return {
        name: step.analysis.name,
        stepIndex: index,
        decision: 'Inconclusive',
        reason: `the analysis workflow failed: ${failureMessage(err)}`,
        decidedBy: 'metrics',
        errorRate: null,
        latency: null,
        requestsToDecision: { canary: 0, stable: 0, total: 0 },
        startedAt,
        finishedAt: now(),
        durationMs: Date.parse(now()) - Date.parse(startedAt),
        intervals: 0,
        runs: 0,
        readFailures: 0,
        lastReadError: failureMessage(err),
      };
    }
  }

  // The background analysis runs beside the steps, in a scope of its own; a Failed decision
  // cancels the steps' scope, and the walk ends as Failed with traffic back on stable.
  let backgroundFailure: CanaryAnalysisResult | undefined;
  const backgroundScope = new CancellationScope();
  const stepsScope = new CancellationScope();
  const background = plan.backgroundAnalysis;
  const watching = background
    ? backgroundScope
        .run(() =>
          executeChild(canaryAnalysis, {
            workflowId: canaryChildId(ctx.workflowId, ctx.environment, -1).replace(/\/-1$/, '/background'),
            args: [
              {
                spec: background,
                provider: plan.metrics!,
                app: ctx.app,
                environment: ctx.environment,
                taskQueue: ctx.taskQueue,
                stepIndex: -1,
              },
            ],
          }),
        )
        .then((result) => {
          evidence.analyses.push(result);
          ctx.onAnalysis(result);
          if (result.decision === 'Failed') {
            backgroundFailure = result;
            stepsScope.cancel();
          }
        })
        .catch(() => undefined) // cancelled when the steps end, or the child broke: no verdict either way
    : Promise.resolve();

  let current: CanaryStepRecord | undefined;
  try {
    await stepsScope.run(walk);
    backgroundScope.cancel();
    await watching;
    return { outcome: 'Successful', evidence };
  } catch (err) {
    backgroundScope.cancel();
    if (err instanceof CanaryEnded) return { outcome: err.outcome, evidence, reason: err.message };
    if (backgroundFailure && isCancellation(err)) {
      if (current)
        Object.assign(current, {
          finishedAt: now(),
          result: 'failed',
          detail: `background analysis failed: ${backgroundFailure.reason}`,
        });
      if (current) ctx.onStep?.(current);
      return {
        outcome: 'Failed',
        evidence,
        reason: `background analysis ${backgroundFailure.name} failed in ${ctx.environment}: ${backgroundFailure.reason}; ${await CancellationScope.nonCancellable(backToStable)}`,
      };
    }
    throw err;
  }

  async function walk(): Promise<void> {
    try {
      for (const [index, step] of plan.steps.entries()) {
        if (ctx.isPaused())
          await ctx.waitForResume(
            `paused before canary step ${index + 1} of ${plan.steps.length} (${describeStep(step)})`,
          );
        const record: CanaryStepRecord = { index, kind: step.kind, description: describeStep(step), startedAt: now() };
        current = record;
        evidence.steps.push(record);
        ctx.onStep?.(record);
        await ctx.stage('canary', () => runStep(step, index, record));
        record.finishedAt = now();
        record.result ??= 'ok';
        current = undefined;
        ctx.onStep?.(record);
      }
    } catch (err) {
      if (current) {
        current.finishedAt = now();
        current.result ??= isCancellation(err) ? 'cancelled' : 'failed';
        current.detail ??= failureMessage(err);
        ctx.onStep?.(current);
      }
      if (err instanceof CanaryEnded) throw err;
      if (isCancellation(err)) {
        // An operator aborted: traffic back to stable whatever happens, then let the abort through.
        if (!backgroundFailure) await CancellationScope.nonCancellable(backToStable);
        throw err;
      }
      if (err instanceof ActivityFailure) {
        // The router could not be driven (after retries): no verdict on the canary, stop it.
        throw new CanaryEnded(
          'Aborted',
          `${current?.description ?? 'canary step'} failed in ${ctx.environment}: ${failureMessage(err)}; ${await backToStable()}`,
        );
      }
      throw err;
    }
  }
}
