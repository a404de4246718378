// Workflow interceptor of "build 2": every promotion starts with a 1 ms timer. Its first command
// differs from build 1's, so a build-1 promotion history does not replay on it. The freeze
// registry is left as it was: it moves between builds, so a real release keeps it replayable.
import { sleep, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        if (workflowInfo().workflowType === 'promoteArtifact') await sleep(1);
        return next(input);
      },
    },
  ],
});
