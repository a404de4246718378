// A worker for the canary tests: the test workflows (canaryAnalysis, canaryTestWorkflow) with the
// real canary activities, on any Temporal connection (time-skipping server or dev server).
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type NativeConnection,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { readCanaryCounts, readLatencyBuckets, readStableHistory } from '../../../activities/metrics';
import { setCanaryWeight } from '../../../activities/traffic';

let runtimeInstalled = false;
/** Worker logs at ERROR only (the tests provoke activity failures on purpose); call before any connection. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  runtimeInstalled = true;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export function canaryWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

/** The activity names a Gantry worker registers for canaries. */
export const canaryActivities = { setCanaryWeight, readCanaryCounts, readLatencyBuckets, readStableHistory };

export async function startCanaryWorker(
  connection: NativeConnection,
  taskQueue: string,
  namespace = 'default',
): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle: await canaryWorkflowBundle(),
    activities: canaryActivities,
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
