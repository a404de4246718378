// gantry start: CI starts (or finds) the promotion of a digest; --wait follows it to the end.
import type { Command } from 'commander';
import { resolvePromotion, StartRequestError } from '../../config/resolvePromotion';
import { CliError, EXIT } from '../exitCodes';
import { followPromotion } from '../followPromotion';
import { oneLine } from '../formatStatus';
import { printJson, readConfig, withClient, type GlobalOptions } from '../cliContext';
import { userInfo } from 'node:os';

interface StartOptions {
  app: string;
  digest: string;
  commit?: string;
  requestedBy?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start promoting an image digest (returns the existing promotion if there is one)')
    .requiredOption('--app <app>', 'app name from gantry.yaml')
    .requiredOption('--digest <digest>', 'image digest, sha256:<64 hex>')
    .option('--commit <sha>', 'source commit the image was built from')
    .option('--requested-by <who>', 'who starts it (default: $GANTRY_REQUESTED_BY, $GITHUB_ACTOR or the user)')
    .option('--wait', 'follow the promotion until it ends; exit 0 only if it reached the last environment')
    .option('--json', 'print JSON')
    .action(async (options: StartOptions, cmd: Command) => {
      const config = readConfig(cmd.optsWithGlobals<GlobalOptions>());
      let input;
      try {
        input = resolvePromotion(config, {
          app: options.app,
          digest: options.digest,
          commit: options.commit,
          requestedBy: options.requestedBy ?? process.env.GANTRY_REQUESTED_BY ?? process.env.GITHUB_ACTOR ?? userInfo().username,
        });
      } catch (err) {
        if (err instanceof StartRequestError) throw new CliError(err.message, EXIT.badInput);
        throw err;
      }
      await withClient(async (gantry) => {
        const started = await gantry.start(input);
        const said = {
          new: `started promotion ${started.workflowId}`,
          running: `promotion ${started.workflowId} is already running`,
          promoted: `${options.app} ${options.digest} was already promoted (${started.workflowId})`,
        }[started.state];
        if (!options.json) console.log(said);
        if (!options.wait) {
          if (options.json) printJson(started);
          return;
        }
        const final = await followPromotion(gantry, started.workflowId, options.json ? () => {} : (l) => console.log(l));
        if (options.json) printJson({ ...started, status: final });
        else console.log(oneLine(final));
        if (final.outcome !== 'promoted') process.exitCode = EXIT.failed;
      });
    });
}
