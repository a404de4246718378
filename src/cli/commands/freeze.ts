// gantry freeze / unfreeze / freezes / override-freeze: the incident switch for an environment,
// and the signed way to let one promotion through it.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { printJson, readableKey, requireText, withClient, type GlobalOptions } from '../cliContext';
import { pipelineForChecks, requireEnvironment } from '../decisionPreflight';

export function registerFreeze(program: Command): void {
  program
    .command('freeze')
    .description('stop every promotion into an environment before its next step there, until unfrozen')
    .requiredOption('--env <environment>', 'the environment to freeze, or one target of it (production/prod-eu-1)')
    .requiredOption('--as <name>', 'who freezes it')
    .requiredOption('--reason <text>', 'why (shown to everyone who waits)')
    .option('--key <path>', "sign it with your SSH ed25519 key (an operator's key in the worker's policy)")
    .option('--json', 'print JSON')
    .action(async (options: { env: string; as: string; reason: string; key?: string; json?: boolean }) => {
      const request = {
        environment: requireText(options.env, '--env'),
        by: requireText(options.as, '--as'),
        reason: requireText(options.reason, '--reason'),
      };
      if (options.key) readableKey(options.key, '--key');
      await withClient(async (gantry) => {
        const { freezeEnvironment } = await import('../../client/manualFreezes.js');
        const answer = await freezeEnvironment(gantry, request, options.key);
        report(answer, options.json, `frozen: ${request.environment} (${request.reason})`);
      });
    });
  program
    .command('unfreeze')
    .description('lift a manual freeze; promotions waiting on it go on at once')
    .requiredOption('--env <environment>', 'the environment to unfreeze, or one target of it (production/prod-eu-1)')
    .requiredOption('--as <name>', 'who unfreezes it')
    .option('--key <path>', "sign it with your SSH ed25519 key (an operator's key in the worker's policy)")
    .option('--json', 'print JSON')
    .action(async (options: { env: string; as: string; key?: string; json?: boolean }) => {
      const request = { environment: requireText(options.env, '--env'), by: requireText(options.as, '--as') };
      if (options.key) readableKey(options.key, '--key');
      await withClient(async (gantry) => {
        const { unfreezeEnvironment } = await import('../../client/manualFreezes.js');
        const answer = await unfreezeEnvironment(gantry, request, options.key);
        report(
          answer,
          options.json,
          `unfrozen: ${request.environment}${answer.accepted ? ` (${answer.woken ?? 0} waiting promotions resumed)` : ''}`,
        );
      });
    });
  program
    .command('freezes')
    .description('list the manual freezes in force')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withClient(async (gantry) => {
        const { listFreezes } = await import('../../client/manualFreezes.js');
        const freezes = await listFreezes(gantry);
        if (options.json) return printJson(freezes);
        if (freezes.length === 0) return console.log('no manual freezes');
        for (const f of freezes)
          console.log(
            `${f.environment}\tfrozen by ${f.by}${f.proof?.proof === 'signature' ? ` (signed, key ${f.proof.fingerprint ?? ''})` : ''} at ${f.at}: ${f.reason}`,
          );
      });
    });
  program
    .command('override-freeze <app> <digest>')
    .description('let this one promotion deploy into a frozen environment (signed, with a reason)')
    .requiredOption('--env <environment>', 'the frozen environment')
    .requiredOption('--as <name>', 'who overrides (an approver of that environment)')
    .requiredOption('--reason <text>', 'why this promotion may go through the freeze')
    .requiredOption('--key <path>', 'your SSH ed25519 key; the override is signed', process.env.GANTRY_SIGNING_KEY)
    .option('--json', 'print JSON')
    .action(
      async (
        app: string,
        digest: string,
        options: { env: string; as: string; reason: string; key: string; json?: boolean },
        cmd: Command,
      ) => {
        const invalid = digestError(digest);
        if (invalid) throw new CliError(invalid, EXIT.badInput);
        const request = {
          environment: requireText(options.env, '--env'),
          by: requireText(options.as, '--as'),
          reason: requireText(options.reason, '--reason'),
        };
        if (options.key) readableKey(options.key, '--key');
        requireEnvironment(await pipelineForChecks(cmd.optsWithGlobals<GlobalOptions>()), app, request.environment);
        await withClient(async (gantry) => {
          const answer = await gantry.overrideFreeze(app, digest, request, options.key);
          report(
            answer.accepted ? { accepted: true } : answer,
            options.json,
            `accepted: ${app} ${digest} may deploy to ${request.environment} despite the freeze`,
          );
        });
      },
    );
}

function report(answer: { accepted: boolean; reason?: string }, json: boolean | undefined, said: string): void {
  if (json) printJson(answer);
  else if (answer.accepted) console.log(said);
  else console.error(`refused: ${answer.reason}`);
  if (!answer.accepted) process.exitCode = EXIT.failed;
}
