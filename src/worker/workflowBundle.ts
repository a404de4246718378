// The workflow code as every Gantry worker runs it: the promotion workflows, the metrics
// interceptor, Gantry's pure modules shared between workflows. Written once at build time
// (scripts/setup.sh, `npm run build`), so that `gantry worker` starts without running webpack:
// bundling takes ~3.5 s of CPU on a 2-core machine, and a worker replacing a crashed one should be
// polling as soon as it can (bench/RESULTS.md, recovery).
//
//   node dist/src/worker/workflowBundle.js      # writes dist/workflow-bundle.js
import {
  bundleWorkflowCode,
  DefaultLogger,
  type WorkflowBundleOption,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILURE_CONVERTER_PATH } from '../codec/dataConverter';
import { workflowsPath } from './createWorker';
import { promotionMetricsModule } from './metrics';

/**
 * Gantry's pure modules, evaluated once per worker and shared by every workflow instead of once per
 * workflow (the SDK's default), so a cached promotion does not carry its own copy of them.
 * Only modules without state and without imports outside src/ belong here: the SDK freezes them,
 * and whatever they import is shared too (test/unit/sharedWorkflowModules.test.ts checks).
 */
export const SHARED_WORKFLOW_MODULES = [
  '../analysis',
  '../canary/analysisState',
  '../pipeline/approvalPolicy',
  '../pipeline/decisions',
  '../pipeline/digest',
  '../pipeline/duration',
  '../pipeline/freezeWindows',
];

/**
 * The promotion workflow bundled once, with the metrics interceptor. Without an exporter installed
 * the metrics go to a no-op meter, so the same bundle serves workers with and without --metrics-port.
 */
export function bundleGantryWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: [promotionMetricsModule()],
    preloadModules: SHARED_WORKFLOW_MODULES.map((m) => require.resolve(m)),
    // Failure messages as encoded (encrypted, with keys) payloads, as the worker's activities write them.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
}

const DIST = join(__dirname, '..', '..');
export const PREBUILT_BUNDLE = join(DIST, 'workflow-bundle.js');

/** Newest compiled file the bundle is made of; a bundle older than it is stale. */
function newestSource(): number {
  const dirs = [
    'workflows',
    'src/pipeline',
    'src/analysis',
    'src/canary',
    'src/freeze',
    'src/policy',
    'src/approvals/signing',
  ].map((d) => join(DIST, d));
  return Math.max(
    ...dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.js'))
        .map((f) => statSync(join(d, f)).mtimeMs),
    ),
  );
}

/** The prebuilt bundle when it is there and current; otherwise the workflows bundled now. */
export async function gantryWorkflowBundle(): Promise<WorkflowBundleOption> {
  try {
    if (statSync(PREBUILT_BUNDLE).mtimeMs >= newestSource()) return { codePath: PREBUILT_BUNDLE };
  } catch {
    // no prebuilt bundle (a development tree compiled without it)
  }
  return bundleGantryWorkflows();
}

export async function writePrebuiltBundle(): Promise<void> {
  const { code } = await bundleGantryWorkflows();
  // Written aside and renamed: a worker starting meanwhile never reads half a file.
  writeFileSync(`${PREBUILT_BUNDLE}.tmp`, code);
  renameSync(`${PREBUILT_BUNDLE}.tmp`, PREBUILT_BUNDLE);
}

if (require.main === module) {
  writePrebuiltBundle().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
