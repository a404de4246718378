// gantry abort / pause / resume: an operator steers a running promotion.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { printJson, readableKey, requireText, withClient } from '../cliContext';

type OperatorKind = 'abort' | 'pause' | 'resume';

const DESCRIPTION: Record<OperatorKind, string> = {
  abort: 'stop a promotion now (the running stage is cancelled; the promotion ends as aborted)',
  pause: 'hold a promotion before its next stage',
  resume: 'let a paused promotion go on',
};

export function registerOperate(program: Command, kind: OperatorKind): void {
  program
    .command(`${kind} <app> <digest>`)
    .description(DESCRIPTION[kind])
    .requiredOption('--as <name>', 'who does it')
    .option('--reason <text>', 'why')
    .option('--key <path>', "sign it with your SSH ed25519 key (an operator's key in the worker's policy)")
    .option('--json', 'print JSON')
    .action(
      async (app: string, digest: string, options: { as: string; reason?: string; key?: string; json?: boolean }) => {
        const invalid = digestError(digest);
        if (invalid) throw new CliError(invalid, EXIT.badInput);
        if (options.key) readableKey(options.key, '--key');
        await withClient(async (gantry) => {
          const answer = await gantry.operate(
            kind,
            app,
            digest,
            { by: requireText(options.as, '--as'), reason: options.reason },
            options.key,
          );
          if (options.json) printJson(answer.accepted ? { accepted: true } : answer);
          else if (answer.accepted) console.log(`accepted: ${kind} ${app} ${digest}`);
          else console.error(`refused: ${answer.reason}`);
          if (!answer.accepted) process.exitCode = EXIT.failed;
        });
      },
    );
}
