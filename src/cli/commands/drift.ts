// gantry drift schedule / check: drift detection per environment (a Temporal Schedule each, or one
// check now). A check compares the digest Gantry last put into the environment with what runs.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { DriftReport } from '../../drift/types';
import { parseDuration } from '../../pipeline/duration';
import { CliError, EXIT } from '../exitCodes';
import { printJson, readConfig, requireText, withClient, type GlobalOptions } from '../cliContext';

export function registerDrift(program: Command): void {
  const drift = program
    .command('drift')
    .description('drift detection: does each environment still run what Gantry promoted there?');
  drift
    .command('schedule <app>')
    .description('create or update one Temporal Schedule per environment (drift/<app>/<env>) running a drift check')
    .option('--env <environment...>', 'only these environments (default: all of the app)')
    .option('--every <duration>', 'how often', '10m')
    .option('--heal', 'put the promoted digest back when something else runs')
    .option('--json', 'print JSON')
    .action(
      async (app: string, options: { env?: string[]; every: string; heal?: boolean; json?: boolean }, cmd: Command) => {
        const config = await readConfig(cmd.optsWithGlobals<GlobalOptions>());
        if (!config.apps[app])
          throw new CliError(
            `unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
            EXIT.badInput,
          );
        try {
          parseDuration(options.every);
        } catch {
          throw new CliError(`--every must be a duration like 30s, 10m or 1h, got "${options.every}"`, EXIT.badInput);
        }
        await withClient(async (gantry) => {
          const { scheduleDriftChecks } = await import('../../drift/driftSchedules.js');
          const ids = await scheduleDriftChecks(gantry.client, config, app, {
            every: options.every,
            heal: options.heal === true,
            taskQueue: gantry.taskQueue,
            environments: options.env,
          });
          if (options.json) printJson({ schedules: ids, every: options.every, heal: options.heal === true });
          else
            for (const id of ids)
              console.log(`scheduled ${id} every ${options.every}${options.heal ? ' (heals)' : ''}`);
        });
      },
    );
  drift
    .command('status <app>')
    .description("each environment's drift schedule and what its last check found")
    .option('--json', 'print JSON')
    .action(async (app: string, options: { json?: boolean }, cmd: Command) => {
      const config = await readConfig(cmd.optsWithGlobals<GlobalOptions>());
      if (!config.apps[app])
        throw new CliError(
          `unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
          EXIT.badInput,
        );
      await withClient(async (gantry) => {
        const { driftCheckInputs, driftScheduleId } = await import('../../drift/driftSchedules.js');
        const rows = [];
        for (const { environment } of driftCheckInputs(config, app, false)) {
          rows.push({ environment, ...(await lastDriftCheck(gantry.client, driftScheduleId(app, environment))) });
        }
        if (options.json) return printJson(rows);
        for (const r of rows) {
          console.log(
            `${r.environment}\t${!r.scheduled ? 'not scheduled' : r.report ? `${r.report.state}: ${r.report.detail}` : r.lastRun ? `last check ${r.lastRun}` : 'no check yet'}${r.at ? ` (${r.at})` : ''}`,
          );
        }
      });
    });
  drift
    .command('check <app>')
    .description(
      'check one environment (each of its targets, or one: --env production/prod-eu-1) now and print what was found (exit 1 when it drifted and was not healed)',
    )
    .requiredOption('--env <environment>', 'the environment, or environment/target, to check')
    .option('--heal', 'put the promoted digest back when something else runs')
    .option('--json', 'print JSON')
    .action(async (app: string, options: { env: string; heal?: boolean; json?: boolean }, cmd: Command) => {
      const config = await readConfig(cmd.optsWithGlobals<GlobalOptions>());
      if (!config.apps[app])
        throw new CliError(
          `unknown app "${app}" (gantry.yaml defines: ${Object.keys(config.apps).join(', ')})`,
          EXIT.badInput,
        );
      const env = requireText(options.env, '--env');
      const { driftCheckInputs, driftScheduleId } = await import('../../drift/driftSchedules.js');
      // An environment made of targets is checked target by target (one report each).
      const inputs = driftCheckInputs(config, app, options.heal === true, [env]);
      if (inputs.length === 0) throw new CliError(`app ${app} has no environment "${env}"`, EXIT.badInput);
      await withClient(async (gantry) => {
        const reports: DriftReport[] = await Promise.all(
          inputs.map((input) =>
            gantry.client.workflow.execute('driftCheck', {
              workflowId: `${driftScheduleId(app, input.environment)}/check-${Date.now()}`,
              taskQueue: gantry.taskQueue,
              args: [input],
            }),
          ),
        );
        if (options.json) printJson(reports.length === 1 && inputs[0].environment === env ? reports[0] : reports);
        else for (const r of reports) console.log(`${app} ${r.environment}: ${r.state}: ${r.detail}`);
        if (reports.some((r) => r.state === 'drifted' || r.state === 'unknown')) process.exitCode = EXIT.failed;
      });
    });
}

interface DriftStatusRow {
  scheduled: boolean;
  every?: string;
  /** When the last check started. */
  at?: string;
  /** The last check's execution status, when it has no report (running, failed). */
  lastRun?: string;
  report?: DriftReport;
}

/** The schedule of one environment and the report of its most recent check. */
async function lastDriftCheck(client: Client, scheduleId: string): Promise<DriftStatusRow> {
  const { WorkflowNotFoundError } = await import('@temporalio/client');
  let description;
  try {
    description = await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if ((err as Error).name === 'ScheduleNotFoundError') return { scheduled: false };
    throw err;
  }
  const every = description.spec.intervals?.[0]?.every;
  const row: DriftStatusRow = { scheduled: true, ...(every !== undefined ? { every: String(every) } : {}) };
  const last = description.info.recentActions.at(-1);
  if (!last) return row;
  row.at = last.takenAt.toISOString();
  const handle = client.workflow.getHandle(last.action.workflow.workflowId, last.action.workflow.firstExecutionRunId);
  try {
    const { status } = await handle.describe();
    if (status.name === 'COMPLETED') row.report = (await handle.result()) as DriftReport;
    else row.lastRun = status.name.toLowerCase();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    row.lastRun = 'no longer retained';
  }
  return row;
}
