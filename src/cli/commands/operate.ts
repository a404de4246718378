// gantry abort / pause / resume: an operator steers a running promotion.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { printJson, requireText, withClient } from '../cliContext';

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
    .option('--json', 'print JSON')
    .action(async (app: string, digest: string, options: { as: string; reason?: string; json?: boolean }) => {
      const invalid = digestError(digest);
      if (invalid) throw new CliError(invalid, EXIT.badInput);
      await withClient(async (gantry) => {
        const answer = await gantry.operate(kind, app, digest, { by: requireText(options.as, '--as'), reason: options.reason });
        if (options.json) printJson(answer.accepted ? { accepted: true } : answer);
        else if (answer.accepted) console.log(`accepted: ${kind} ${app} ${digest}`);
        else console.error(`refused: ${answer.reason}`);
        if (!answer.accepted) process.exitCode = EXIT.failed;
      });
    });
}
