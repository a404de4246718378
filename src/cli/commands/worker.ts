// gantry worker: runs the promotion workflow and its activities against any Temporal
// (address, namespace, TLS or API key from the standard Temporal env vars or a profile).
import type { Command } from 'commander';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connectionSettings } from '../../client/connectionSettings';
import { registerSearchAttributes } from '../../client/registerSearchAttributes';
import { createWorker } from '../../worker/createWorker';
import { CliError, EXIT } from '../exitCodes';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a Gantry worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE)')
    .option('--task-queue <name>', 'task queue (default: $GANTRY_TASK_QUEUE or gantry)')
    .option('--no-register-search-attributes', 'do not add missing Gantry search attributes to the namespace')
    .action(async (options: { taskQueue?: string; registerSearchAttributes: boolean }) => {
      const settings = connectionSettings();
      const taskQueue = options.taskQueue ?? settings.taskQueue;
      let connection: NativeConnection;
      try {
        connection = await NativeConnection.connect(settings.connectionOptions);
      } catch (err) {
        throw new CliError(`cannot reach Temporal at ${settings.connectionOptions.address}: ${(err as Error).message}`, EXIT.unavailable);
      }
      if (options.registerSearchAttributes) await ensureSearchAttributes(settings);
      const worker = await createWorker({ connection, namespace: settings.namespace, taskQueue });
      console.log(`gantry worker polling ${taskQueue} on ${settings.connectionOptions.address} (namespace ${settings.namespace})`);
      await worker.run();
      await connection.close();
    });
}

async function ensureSearchAttributes(settings: ReturnType<typeof connectionSettings>): Promise<void> {
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
