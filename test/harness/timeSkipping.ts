// The Temporal time-skipping test server (pinned binary), for workflow tests with long waits.
// It cannot register custom search attributes, so promotions there run without them (the
// dev-server tests cover them).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { toolPath } from '../../src/local/tools';

export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
  });
}
