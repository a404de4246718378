// gantry worker: runs the promotion workflow and its activities against any Temporal
// (address, namespace, TLS or API key from the standard Temporal env vars or a profile).
// --metrics-port serves Prometheus metrics: the Temporal runtime's own and Gantry's promotion
// counters and histograms (src/worker/metrics.ts), on 127.0.0.1 unless --metrics-host says otherwise.
// Workers are versioned (Worker Deployments, src/worker/workerDeployment.ts): README "Upgrading Gantry".
import type { Command } from 'commander';
import type { NativeConnection } from '@temporalio/worker';
import type { ConnectionSettings } from '../../client/connectionSettings';
import { parseDuration } from '../../pipeline/duration';
import { DEFAULT_MAX_CACHED_WORKFLOWS, limitWorkflowHeap } from '../../worker/workerTuning';
import { cliConnectionSettings, type GlobalOptions } from '../cliContext';
import { CliError, EXIT } from '../exitCodes';

interface WorkerOptions {
  taskQueue?: string;
  registerSearchAttributes: boolean;
  metricsPort?: number;
  metricsHost: string;
  maxCachedWorkflows?: number;
  policy?: string;
  identity?: string;
  drainTimeout: string;
  versioning: boolean;
  deploymentName: string;
  buildId?: string;
  setCurrent: boolean;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run a Gantry worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE)',
    )
    .option('--task-queue <name>', 'task queue (default: $GANTRY_TASK_QUEUE or gantry)')
    .option('--no-register-search-attributes', 'do not add missing Gantry search attributes to the namespace')
    .option('--metrics-port <port>', 'serve Prometheus metrics on http://<metrics-host>:<port>/metrics', parsePort)
    .option('--metrics-host <host>', 'address the metrics endpoint binds to', '127.0.0.1')
    .option(
      '--policy <file>',
      'the policy this worker enforces: approvers and keys, approval rules, freezes, gate commands, starters (default: the pipeline file, -c)',
    )
    .option('--identity <name>', 'worker identity shown in history for each task it ran (default: pid@host)')
    .option(
      '--drain-timeout <duration>',
      'on SIGTERM: stop polling, let in-flight activities finish for up to this long, then cancel them',
      '5m',
    )
    .option(
      '--max-cached-workflows <n>',
      `promotions kept in memory between tasks; the rest replay from history when they wake (default ${DEFAULT_MAX_CACHED_WORKFLOWS})`,
      parseCacheSize,
    )
    .option(
      '--deployment-name <name>',
      'Worker Deployment this worker belongs to (default: $GANTRY_DEPLOYMENT_NAME or gantry)',
      process.env.GANTRY_DEPLOYMENT_NAME ?? 'gantry',
    )
    .option('--build-id <id>', "this worker's version (default: $GANTRY_BUILD_ID, else <package version>+<git commit>)")
    .option(
      '--set-current',
      'make this build the current version now: new promotions start on it (an upgrade step)',
      false,
    )
    .option('--no-versioning', 'an unversioned worker: promotions are not pinned to a build')
    .action(async (options: WorkerOptions, cmd: Command) => {
      // Loaded here rather than at the top: the worker's modules (the SDK's native bridge, the
      // activities with their git and Kubernetes clients) cost every other command about a second.
      const [
        { NativeConnection },
        { createWorker },
        { bindAddress, installMetricsRuntime },
        { gantryWorkflowBundle },
        { defaultBuildId, makeCurrent, moveLongRunningWorkflows },
        { checkPolicySource, filePolicySource, PolicyError },
        { connectWithRetry },
      ] = await Promise.all([
        import('@temporalio/worker'),
        import('../../worker/createWorker.js'),
        import('../../worker/metrics.js'),
        import('../../worker/workflowBundle.js'),
        import('../../worker/workerDeployment.js'),
        import('../../policy/policySource.js'),
        import('../../worker/connectWithRetry.js'),
      ]);
      const deployment = options.versioning
        ? {
            name: requireName(options.deploymentName, '--deployment-name'),
            buildId: requireName(options.buildId ?? defaultBuildId(), '--build-id'),
          }
        : undefined;
      if (options.setCurrent && !deployment)
        throw new CliError('--set-current needs versioning (drop --no-versioning)', EXIT.badInput);
      const settings = await cliConnectionSettings();
      const taskQueue = options.taskQueue ?? settings.taskQueue;
      // The runtime is process-wide and must exist before the first connection: install it first.
      const metrics =
        options.metricsPort !== undefined ? { host: options.metricsHost, port: options.metricsPort } : undefined;
      if (metrics) {
        try {
          installMetricsRuntime(metrics);
        } catch (err) {
          throw new CliError(
            `cannot serve metrics on ${bindAddress(metrics)}: ${(err as Error).message}`,
            EXIT.badInput,
          );
        }
      }
      // Before connecting: a worker that cannot say what it enforces does not start.
      const policyFile = options.policy ?? cmd.optsWithGlobals<GlobalOptions>().config;
      const policy = filePolicySource(policyFile);
      try {
        await checkPolicySource(policy);
      } catch (err) {
        if (err instanceof PolicyError)
          throw new CliError(`no usable policy (--policy, or the pipeline file -c): ${err.message}`, EXIT.badInput);
        throw err;
      }
      let drainMs: number;
      try {
        drainMs = parseDuration(options.drainTimeout);
      } catch {
        throw new CliError(
          `--drain-timeout must be a duration like 30s or 5m, got "${options.drainTimeout}"`,
          EXIT.badInput,
        );
      }
      const address = settings.connectionOptions.address ?? 'localhost:7233';
      const connection: NativeConnection | undefined = await connectWithRetry(
        () => NativeConnection.connect(settings.connectionOptions),
        { address },
      );
      if (!connection) return; // asked to stop while waiting
      if (options.registerSearchAttributes) await ensureSearchAttributes(settings);
      // Bundled at build time, with the interceptor that emits Gantry's metrics (a no-op without --metrics-port).
      const workflowBundle = await gantryWorkflowBundle();
      const maxCachedWorkflows = options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS;
      limitWorkflowHeap(maxCachedWorkflows);
      const worker = await createWorker({
        connection,
        namespace: settings.namespace,
        taskQueue,
        workflowBundle,
        maxCachedWorkflows,
        policy,
        dataConverter: settings.dataConverter,
        deployment,
        shutdownGraceTime: drainMs,
        ...(options.identity ? { identity: options.identity } : {}),
      });
      // The SDK stops polling on SIGTERM/SIGINT and waits up to the drain timeout for running activities.
      const announceDrain = (signal: NodeJS.Signals) =>
        console.log(
          `${signal}: no new tasks; draining ${worker.getStatus().numInFlightActivities} in-flight activities (up to ${options.drainTimeout})`,
        );
      process.once('SIGTERM', announceDrain);
      process.once('SIGINT', announceDrain);
      const running = worker.run();
      if (deployment) {
        // A version takes new promotions only once it is current: the first build of a deployment
        // makes itself current; a later one waits for the operator (or --set-current).
        try {
          const identity = `gantry worker ${deployment.buildId}`;
          const outcome = await makeCurrent(connection.workflowService, settings.namespace, deployment, {
            onlyIfNone: !options.setCurrent,
            identity,
          });
          if (outcome.changed && outcome.previous)
            await moveLongRunningWorkflows(connection.workflowService, settings.namespace, identity);
          console.log(
            outcome.changed
              ? `build ${deployment.buildId} is now the current version of deployment ${deployment.name}${outcome.previous ? ` (was ${outcome.previous}; its promotions finish there)` : ''}`
              : outcome.current === deployment.buildId
                ? `build ${deployment.buildId} is the current version of deployment ${deployment.name}`
                : `build ${deployment.buildId} registered in deployment ${deployment.name}; current is still ${outcome.current}: new promotions go there until \`temporal worker deployment set-current-version --deployment-name ${deployment.name} --build-id ${deployment.buildId}\``,
          );
        } catch (err) {
          worker.shutdown();
          await running.catch(() => undefined);
          throw new CliError(
            `cannot register build ${deployment.buildId} in deployment ${deployment.name}: ${(err as Error).message}`,
            EXIT.unavailable,
          );
        }
      }
      if (metrics) console.log(`gantry worker metrics on http://${bindAddress(metrics)}/metrics`);
      console.log(
        `gantry worker polling ${taskQueue} on ${settings.connectionOptions.address} (namespace ${settings.namespace}, ${deployment ? `deployment ${deployment.name} build ${deployment.buildId}` : 'unversioned'}, payloads ${settings.dataConverter?.payloadCodecs?.length ? 'encrypted' : 'NOT encrypted: no GANTRY_CODEC_KEYS'})`,
      );
      console.log(`gantry worker enforcing the policy in ${policy.describe()}`);
      await running;
      console.log(`gantry worker on ${taskQueue} stopped`);
      await connection.close();
    });
}

function requireName(value: string, flag: string): string {
  // Deployment names and build ids travel in version strings "<name>:<build id>" and in queries.
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/.test(value))
    throw new CliError(`${flag} must be letters, digits, ".", "_", "+" or "-", got "${value}"`, EXIT.badInput);
  return value;
}

function parseCacheSize(value: string): number {
  const n = Number(value);
  // The SDK needs room for at least two (one running, one arriving); 0 would replay every task.
  if (!/^\d+$/.test(value) || n < 2 || n > 100_000)
    throw new CliError(`--max-cached-workflows must be a whole number from 2 to 100000, got "${value}"`, EXIT.badInput);
  return n;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535)
    throw new CliError(`--metrics-port must be a port number (1-65535), got "${value}"`, EXIT.badInput);
  return port;
}

async function ensureSearchAttributes(settings: ConnectionSettings): Promise<void> {
  const [{ Connection }, { registerSearchAttributes }] = await Promise.all([
    import('@temporalio/client'),
    import('../../client/registerSearchAttributes.js'),
  ]);
  const client = await Connection.connect(settings.connectionOptions as Parameters<typeof Connection.connect>[0]);
  try {
    const added = await registerSearchAttributes(client, settings.namespace);
    if (added.length) console.log(`registered search attributes: ${added.join(', ')}`);
  } catch (err) {
    // Cloud namespaces manage search attributes elsewhere; promotions still run without them.
    console.warn(`could not register Gantry search attributes (${(err as Error).message}); the UI filters need them`);
  } finally {
    await client.close();
  }
}
