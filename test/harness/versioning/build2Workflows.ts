// "Build 2" of Gantry for the upgrade test: the same workflows with a change that cannot replay a
// build-1 history (a timer before anything else), bundled in the test as a new release would be.
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../../../src/codec/dataConverter';
import { workflowsPath } from '../../../src/worker/createWorker';

export function bundleBuild2Workflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: [require.resolve('./startTimerInterceptor')],
    // A release is bundled like build 1 (src/worker/workflowBundle.ts): failures as encoded payloads.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
}
