// "Build 2" of Gantry for the upgrade test: the same workflows with a change that cannot replay a
// build-1 history (a timer before anything else), bundled in the test as a new release would be.
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowsPath } from '../../../src/worker/createWorker';

export function bundleBuild2Workflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: [require.resolve('./startTimerInterceptor')],
    logger: new DefaultLogger('WARN'),
  });
}
