// Workflow interceptor of "build 2": every workflow starts with a 1 ms timer. Its first command
// differs from build 1's, so a build-1 history does not replay on it.
import { sleep, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        await sleep(1);
        return next(input);
      },
    },
  ],
});
