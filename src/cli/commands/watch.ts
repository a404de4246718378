// gantry watch: follow one promotion live until it ends; exit code as for start --wait.
import type { Command } from 'commander';
import { digestError, promotionWorkflowId } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { followPromotion } from '../followPromotion';
import { formatTargets, oneLine } from '../formatStatus';
import { withClient } from '../cliContext';
import type { GantryClient } from '../../client/gantryClient';
import type { PromotionStatus } from '../../pipeline/promotionStatus';

const TARGETS_POLL_MS = 1000;

/** The target tables of a status (environments rolled out in waves), one block per environment. */
function targetTables(s: PromotionStatus): string {
  return s.environments
    .filter((e) => e.targets)
    .map((e) => [`${e.name}:`, ...formatTargets(e.targets!, e.wave).map((l) => `  ${l}`)].join('\n'))
    .join('\n');
}

/**
 * Prints the target tables whenever they change, beside the stage lines followPromotion prints;
 * returns a function that stops it and prints the final tables if they differ from the last.
 */
function followTargets(gantry: GantryClient, workflowId: string): (final?: PromotionStatus) => Promise<void> {
  let last = '';
  let stopped = false;
  const show = (s: PromotionStatus) => {
    const text = targetTables(s);
    if (text && text !== last) console.log(text);
    last = text;
  };
  const polling = (async () => {
    while (!stopped) {
      const s = await gantry.statusById(workflowId).catch(() => undefined);
      if (s && !stopped) show(s);
      await new Promise((r) => setTimeout(r, TARGETS_POLL_MS));
    }
  })();
  return async (final) => {
    stopped = true;
    await polling;
    if (final) show(final);
  };
}

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
          const workflowId = promotionWorkflowId(app, digest);
          const stopTargets = followTargets(gantry, workflowId);
          const final = await followPromotion(gantry, workflowId, (l) => console.log(l)).catch(async (err: unknown) => {
            await stopTargets();
            throw err;
          });
          await stopTargets(final);
          console.log(oneLine(final));
          if (final.outcome !== 'promoted') process.exitCode = EXIT.failed;
        } catch (err) {
          if (err instanceof UnknownPromotionError) throw new CliError(err.message, EXIT.failed);
          throw err;
        }
      });
    });
}
