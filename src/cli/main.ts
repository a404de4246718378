// The gantry command line. Exit codes: 0 ok, 1 failed/rejected/refused, 2 bad input, 3 Temporal unreachable.
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit';
import { registerCodecServer } from './commands/codecServer';
import { registerDecide } from './commands/decide';
import { registerDecideMigrations } from './commands/decideMigrations';
import { registerDrift } from './commands/drift';
import { registerFreeze } from './commands/freeze';
import { registerList } from './commands/list';
import { registerOperate } from './commands/operate';
import { registerRollback } from './commands/rollback';
import { registerStart } from './commands/start';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
import { registerWatch } from './commands/watch';
import { registerWorker } from './commands/worker';
import { CliError, EXIT } from './exitCodes';

export function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Durable environment promotion on Temporal: one workflow per image digest.')
    .option('-c, --config <file>', 'pipeline file', process.env.GANTRY_CONFIG ?? 'gantry.yaml')
    .showHelpAfterError('(run gantry --help for usage)')
    .exitOverride();
  registerStart(program);
  registerDecide(program, 'approve');
  registerDecide(program, 'reject');
  registerDecideMigrations(program, 'approve');
  registerDecideMigrations(program, 'reject');
  registerOperate(program, 'abort');
  registerOperate(program, 'pause');
  registerOperate(program, 'resume');
  registerRollback(program);
  registerStatus(program);
  registerList(program);
  registerWatch(program);
  registerFreeze(program);
  registerAudit(program);
  registerDrift(program);
  registerValidate(program);
  registerWorker(program);
  registerCodecServer(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other parse problem is bad input.
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (err instanceof CliError) {
      console.error(`gantry: ${err.message}`);
      return err.exitCode;
    }
    console.error(`gantry: ${(err as Error).stack ?? err}`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  run(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exit(EXIT.failed);
    },
  );
}
