// gantry status: where a promotion is, what it waits for, how long each stage took.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { formatStatus } from '../formatStatus';
import { printJson, withClient } from '../cliContext';

export function registerStatus(program: Command): void {
  program
    .command('status <app> <digest>')
    .description('show a promotion: stage, environments, timings, what it waits for')
    .option('--json', 'print JSON')
    .action(async (app: string, digest: string, options: { json?: boolean }) => {
      const invalid = digestError(digest);
      if (invalid) throw new CliError(invalid, EXIT.badInput);
      await withClient(async (gantry) => {
        const [{ UnknownPromotionError }, { unpolledEnvironmentQueues }] = await Promise.all([
          import('../../client/gantryClient.js'),
          import('../../client/unpolledQueues.js'),
        ]);
        try {
          const status = await gantry.status(app, digest);
          const unpolled = await unpolledEnvironmentQueues(gantry.client, status);
          if (options.json) return printJson({ ...status, unpolledTaskQueues: unpolled });
          console.log(formatStatus(status));
          for (const q of unpolled) {
            console.log(
              `  no worker polls task queue ${q.taskQueue}: ${q.environment}'s activities wait for one (start it inside ${q.environment}: gantry worker --task-queue ${q.taskQueue})`,
            );
          }
        } catch (err) {
          if (err instanceof UnknownPromotionError) throw new CliError(err.message, EXIT.failed);
          throw err;
        }
      });
    });
}
