// gantry watch: follow one promotion live until it ends; exit code as for start --wait.
import type { Command } from 'commander';
import { digestError, promotionWorkflowId } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { followPromotion } from '../followPromotion';
import { oneLine } from '../formatStatus';
import { withClient } from '../cliContext';

export function registerWatch(program: Command): void {
  program
    .command('watch <app> <digest>')
    .description('follow a promotion live until it ends')
    .action(async (app: string, digest: string) => {
      const invalid = digestError(digest);
      if (invalid) throw new CliError(invalid, EXIT.badInput);
      await withClient(async (gantry) => {
        const { UnknownPromotionError } = await import('../../client/gantryClient.js');
        try {
          const final = await followPromotion(gantry, promotionWorkflowId(app, digest), (l) => console.log(l));
          console.log(oneLine(final));
          if (final.outcome !== 'promoted') process.exitCode = EXIT.failed;
        } catch (err) {
          if (err instanceof UnknownPromotionError) throw new CliError(err.message, EXIT.failed);
          throw err;
        }
      });
    });
}
