// gantry drift schedule / check: drift detection per environment (a Temporal Schedule each, or one
// check now). A check compares the digest Gantry last put into the environment with what runs.
import type { Command } from 'commander';
import { driftCheckInputs, driftScheduleId, scheduleDriftChecks } from '../../drift/driftSchedules';
import type { DriftReport } from '../../drift/types';
import { parseDuration } from '../../pipeline/duration';
import { CliError, EXIT } from '../exitCodes';
import { printJson, readConfig, requireText, withClient, type GlobalOptions } from '../cliContext';

export function registerDrift(program: Command): void {
  const drift = program.command('drift').description('drift detection: does each environment still run what Gantry promoted there?');
  drift
    .command('schedule <app>')
    .description('create or update one Temporal Schedule per environment (drift/<app>/<env>) running a drift check')
    .option('--env <environment...>', 'only these environments (default: all of the app)')
    .option('--every <duration>', 'how often', '10m')
    .option('--heal', 'put the promoted digest back when something else runs')
    .option('--json', 'print JSON')
    .action(async (app: string, options: { env?: string[]; every: string; heal?: boolean; json?: boolean }, cmd: Command) => {
      const config = readConfig(cmd.optsWithGlobals<GlobalOptions>());
      if (!config.apps[app]) throw new CliError(`unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`, EXIT.badInput);
      try {
        parseDuration(options.every);
      } catch {
        throw new CliError(`--every must be a duration like 30s, 10m or 1h, got "${options.every}"`, EXIT.badInput);
      }
      await withClient(async (gantry) => {
        const ids = await scheduleDriftChecks(gantry.client, config, app, { every: options.every, heal: options.heal === true, taskQueue: gantry.taskQueue, environments: options.env });
        if (options.json) printJson({ schedules: ids, every: options.every, heal: options.heal === true });
        else for (const id of ids) console.log(`scheduled ${id} every ${options.every}${options.heal ? ' (heals)' : ''}`);
      });
    });
  drift
    .command('check <app>')
    .description('check one environment now and print what was found (exit 1 when it drifted and was not healed)')
    .requiredOption('--env <environment>', 'the environment to check')
    .option('--heal', 'put the promoted digest back when something else runs')
    .option('--json', 'print JSON')
    .action(async (app: string, options: { env: string; heal?: boolean; json?: boolean }, cmd: Command) => {
      const config = readConfig(cmd.optsWithGlobals<GlobalOptions>());
      if (!config.apps[app]) throw new CliError(`unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`, EXIT.badInput);
      const env = requireText(options.env, '--env');
      const [input] = driftCheckInputs(config, app, options.heal === true, [env]);
      if (!input) throw new CliError(`app ${app} has no environment "${env}"`, EXIT.badInput);
      await withClient(async (gantry) => {
        const report: DriftReport = await gantry.client.workflow.execute('driftCheck', {
          workflowId: `${driftScheduleId(app, env)}/check-${Date.now()}`,
          taskQueue: gantry.taskQueue,
          args: [input],
        });
        if (options.json) printJson(report);
        else console.log(`${app} ${env}: ${report.state}: ${report.detail}`);
        if (report.state === 'drifted' || report.state === 'unknown') process.exitCode = EXIT.failed;
      });
    });
}
