// A worker process for the benchmarks: the real promoteArtifact workflow bundle (with the metrics
// interceptor, as `gantry worker` runs it) and benchmark overrides for verify, deploy, health and
// gates, made by the product's own createWorker, so every worker setting is the product's. Optionally the bare baseline workflow
// on a second task queue, through the same factory. Not a product entry point: `gantry worker`
// has no benchmark switches.
//
//   node dist/bench/benchWorker.js --gantry <queue> [--bare <queue>] [--activities instant|gitops|crash]
//        [--gantry-bundle file.js] [--bare-bundle file.js] [--metrics-port P] [--max-cached-workflows N]
//        [--policy gantry.yaml]  (the pipelines the benchmark resolves: test/harness/pipelineFile.ts)
//        (TEMPORAL_ADDRESS names the server)
// Prints "bench worker ready" once polling; ends on SIGTERM/SIGINT, or after --lifetime seconds.
import { NativeConnection, Runtime, DefaultLogger, bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { filePolicySource } from '../src/policy/policySource';
import { createWorker } from '../src/worker/createWorker';
import { DEFAULT_MAX_CACHED_WORKFLOWS, limitWorkflowHeap } from '../src/worker/workerTuning';
import { installMetricsRuntime } from '../src/worker/metrics';
import { bundleGantryWorkflows } from '../src/worker/workflowBundle';
import { activitySet, bareActivities, type ActivitySetName } from './benchActivities';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gantry: { type: 'string' },
      bare: { type: 'string' },
      activities: { type: 'string', default: 'instant' },
      'gantry-bundle': { type: 'string' },
      'bare-bundle': { type: 'string' },
      lifetime: { type: 'string', default: '3600' },
      'metrics-port': { type: 'string' },
      'max-cached-workflows': { type: 'string' },
      policy: { type: 'string' },
    },
  });
  if (values['metrics-port']) installMetricsRuntime({ host: '127.0.0.1', port: Number(values['metrics-port']) });
  else Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const connection = await NativeConnection.connect({ address });
  const workers: Worker[] = [];
  if (values.gantry) {
    const workflowBundle = values['gantry-bundle']
      ? { codePath: values['gantry-bundle'] }
      : await bundleGantryWorkflows();
    const activityOverrides = activitySet(values.activities as ActivitySetName);
    const maxCachedWorkflows = values['max-cached-workflows']
      ? Number(values['max-cached-workflows'])
      : DEFAULT_MAX_CACHED_WORKFLOWS;
    limitWorkflowHeap(maxCachedWorkflows); // as `gantry worker` does
    const policy = values.policy ? filePolicySource(values.policy) : undefined;
    workers.push(
      await createWorker({
        connection,
        namespace: 'default',
        taskQueue: values.gantry,
        workflowBundle,
        activityOverrides,
        maxCachedWorkflows,
        policy,
      }),
    );
  }
  if (values.bare) {
    const workflowBundle = values['bare-bundle']
      ? { codePath: values['bare-bundle'] }
      : await bundleWorkflowCode({
          workflowsPath: require.resolve('./bareWorkflow'),
          logger: new DefaultLogger('WARN'),
        });
    workers.push(
      await createWorker({
        connection,
        namespace: 'default',
        taskQueue: values.bare,
        workflowBundle,
        activityOverrides: { ...bareActivities },
      }),
    );
  }
  const lifetime = setTimeout(() => workers.forEach((w) => w.shutdown()), Number(values.lifetime) * 1000);
  const running = Promise.all(workers.map((w) => w.run()));
  console.log(`bench worker ready pid ${process.pid}`);
  await running;
  clearTimeout(lifetime);
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
