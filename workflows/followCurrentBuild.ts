// Workflows that live for ever (the freeze registry, each app's lane) must not stay pinned to the
// build that started them, or that build could never drain: on a versioned worker they move to the
// current build at their next workflow task, and every build's code must replay them. An
// unversioned worker may not send a versioning behaviour at all (the server refuses the task).
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';

export function followCurrentBuild<A extends unknown[], R>(workflow: (...args: A) => Promise<R>): void {
  // An unversioned worker still reports a build id (its bundle's), but no deployment name.
  setWorkflowOptions(
    () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}),
    workflow,
  );
}
