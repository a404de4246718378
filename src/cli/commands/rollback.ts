// gantry rollback: put an environment back on the digest it ran before the app's last promotion.
import type { Command } from 'commander';
import { CliError, EXIT } from '../exitCodes';
import { followPromotion } from '../followPromotion';
import { oneLine } from '../formatStatus';
import { printJson, readableKey, readConfig, requireText, withClient, type GlobalOptions } from '../cliContext';

interface RollbackOptions {
  env: string;
  as: string;
  reason?: string;
  fast?: boolean;
  key?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerRollback(program: Command): void {
  program
    .command('rollback <app>')
    .description("put an environment back on the digest it ran before the app's last promotion there")
    .requiredOption('--env <environment>', 'the environment to roll back')
    .requiredOption('--as <name>', 'who rolls back')
    .option('--reason <text>', 'why')
    .option('--fast', 'fast track: skip canary steps, gates and soak on the way back')
    .option('--key <path>', "sign it with your SSH ed25519 key (an operator's key in the worker's policy)")
    .option('--wait', 'follow the rollback until it ends')
    .option('--json', 'print JSON')
    .action(async (app: string, options: RollbackOptions, cmd: Command) => {
      const config = await readConfig(cmd.optsWithGlobals<GlobalOptions>());
      if (!config.apps[app])
        throw new CliError(
          `unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
          EXIT.badInput,
        );
      if (options.key) readableKey(options.key, '--key');
      const request = {
        app,
        environment: requireText(options.env, '--env'),
        by: requireText(options.as, '--as'),
        reason: options.reason,
        fastTrack: options.fast === true,
        keyPath: options.key,
      };
      await withClient(async (gantry) => {
        const { rollback } = await import('../../client/rollback.js');
        const answer = await rollback(gantry, config, request);
        if (!answer.accepted) {
          if (options.json) printJson(answer);
          else console.error(`refused: ${answer.reason}`);
          process.exitCode = EXIT.failed;
          return;
        }
        if (!options.json) {
          console.log(
            answer.inPlace
              ? `accepted: rolling back ${request.environment} inside the running promotion ${answer.workflowId}`
              : `accepted: ${answer.workflowId} puts ${request.environment} back on ${answer.to}${request.fastTrack ? ' (fast track)' : ''}`,
          );
        }
        if (!options.wait) {
          if (options.json) printJson(answer);
          return;
        }
        const final = await followPromotion(gantry, answer.workflowId, options.json ? () => {} : (l) => console.log(l));
        if (options.json) printJson({ ...answer, status: final });
        else console.log(oneLine(final));
        if (final.outcome !== 'rolled-back') process.exitCode = EXIT.failed;
      });
    });
}
