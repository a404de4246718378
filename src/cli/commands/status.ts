// gantry status: where a promotion is, what it waits for, how long each stage took.
import type { Command } from 'commander';
import { UnknownPromotionError } from '../../client/gantryClient';
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
        try {
          const status = await gantry.status(app, digest);
          if (options.json) printJson(status);
          else console.log(formatStatus(status));
        } catch (err) {
          if (err instanceof UnknownPromotionError) throw new CliError(err.message, EXIT.failed);
          throw err;
        }
      });
    });
}
