// Workflows for the canary tests: the analysis child as registered by the worker, and a small
// stand-in for the promotion workflow that calls runCanary the way promoteArtifact does (stages,
// operator pause/resume/abort), so the canary is tested without the rest of the pipeline.
import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CanaryAnalysisResult, CanaryPlan, CanaryRunResult, CanaryStepRecord } from '../../../src/canary/types';
import { runCanary } from '../../../workflows/runCanary';

export { canaryAnalysis } from '../../../workflows/canaryAnalysis';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const abortSignal = defineSignal('abort');

export interface CanaryTestState {
  paused: boolean;
  waitingFor?: string;
  /** Every reason runCanary waited for a resume, in order. */
  waits: string[];
  stages: string[];
  steps: CanaryStepRecord[];
  analyses: CanaryAnalysisResult[];
}
export const stateQuery = defineQuery<CanaryTestState>('state');

export interface CanaryTestInput {
  plan: CanaryPlan;
  app: string;
  digest: string;
  environment: string;
}

export interface CanaryTestResult extends CanaryTestState {
  result: CanaryRunResult | null;
  aborted: boolean;
}

export async function canaryTestWorkflow(input: CanaryTestInput): Promise<CanaryTestResult> {
  const state: CanaryTestState = { paused: false, waits: [], stages: [], steps: [], analyses: [] };
  let scope: CancellationScope | undefined;
  setHandler(pauseSignal, () => void (state.paused = true));
  setHandler(resumeSignal, () => {
    state.paused = false;
    state.waitingFor = undefined;
  });
  setHandler(abortSignal, () => scope?.cancel());
  setHandler(stateQuery, () => state);
  try {
    const result = await CancellationScope.cancellable(async () => {
      scope = CancellationScope.current();
      return runCanary(input.plan, {
        app: input.app,
        digest: input.digest,
        environment: input.environment,
        workflowId: workflowInfo().workflowId,
        async stage(name, run) {
          await condition(() => !state.paused);
          state.stages.push(name);
          return run();
        },
        isPaused: () => state.paused,
        async waitForResume(reason) {
          state.paused = true;
          state.waitingFor = reason;
          state.waits.push(reason);
          await condition(() => !state.paused);
        },
        onAnalysis: (r) => void state.analyses.push(r),
        onStep(step) {
          const i = state.steps.findIndex((s) => s.index === step.index);
          if (i >= 0) state.steps[i] = { ...step };
          else state.steps.push({ ...step });
        },
      });
    });
    return { ...state, result, aborted: false };
  } catch (err) {
    if (isCancellation(err)) return { ...state, result: null, aborted: true };
    throw err;
  }
}
