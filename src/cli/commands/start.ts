// gantry start: CI starts (or finds) the promotion of a digest; --wait follows it to the end.
import type { Command } from 'commander';
import { CliError, EXIT } from '../exitCodes';
import { followPromotion } from '../followPromotion';
import { oneLine } from '../formatStatus';
import { printJson, readableKey, readConfig, requireText, withClient, type GlobalOptions } from '../cliContext';
import { userInfo } from 'node:os';

interface StartOptions {
  app: string;
  digest: string;
  commit?: string;
  requestedBy?: string;
  as?: string;
  key?: string;
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
    .option(
      '--requested-by <who>',
      'who starts it, as a claim (default: $GANTRY_REQUESTED_BY, $GITHUB_ACTOR or the user)',
    )
    .option(
      '--as <starter>',
      "sign the start as this starter of the worker's policy (default: $GANTRY_STARTER, else --requested-by)",
      process.env.GANTRY_STARTER,
    )
    .option(
      '--key <path>',
      "the starter's SSH ed25519 key: the start is signed and the worker proves who started it (default: $GANTRY_START_KEY)",
      process.env.GANTRY_START_KEY,
    )
    .option('--wait', 'follow the promotion until it ends; exit 0 only if it reached the last environment')
    .option('--json', 'print JSON')
    .action(async (options: StartOptions, cmd: Command) => {
      const config = await readConfig(cmd.optsWithGlobals<GlobalOptions>());
      const { resolvePromotion, StartRequestError } = await import('../../config/resolvePromotion.js');
      let input;
      try {
        input = resolvePromotion(config, {
          app: options.app,
          digest: options.digest,
          commit: options.commit,
          requestedBy:
            options.requestedBy ?? process.env.GANTRY_REQUESTED_BY ?? process.env.GITHUB_ACTOR ?? userInfo().username,
        });
      } catch (err) {
        if (err instanceof StartRequestError) throw new CliError(err.message, EXIT.badInput);
        throw err;
      }
      if (options.key) readableKey(options.key, '--key');
      const signing = options.key
        ? { starter: requireText(options.as ?? input.requestedBy, '--as'), keyPath: options.key }
        : undefined;
      await withClient(async (gantry) => {
        const started = await gantry.start(input, signing);
        // The worker's policy refused it before anything was touched: bad input, nothing started.
        if (started.state === 'refused') {
          if (options.json) printJson(started);
          throw new CliError(
            `refused by the worker's policy${started.admission?.policy ? ` (${started.admission.policy.digest})` : ''}: ${started.reason}`,
            EXIT.badInput,
          );
        }
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
        const final = await followPromotion(
          gantry,
          started.workflowId,
          options.json ? () => {} : (l) => console.log(l),
        );
        if (options.json) printJson({ ...started, status: final });
        else console.log(oneLine(final));
        if (final.outcome !== 'promoted') process.exitCode = EXIT.failed;
      });
    });
}
