// gantry list: the promotion queue from Temporal visibility (the same data the UI filters on).
import type { Command } from 'commander';
import { printJson, withClient } from '../cliContext';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list promotions, newest first')
    .option('--awaiting-approval', 'only those waiting for a human decision')
    .option('--running', 'only those still running')
    .option('--app <app>', 'only this app')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(
      async (options: {
        awaitingApproval?: boolean;
        running?: boolean;
        app?: string;
        limit: number;
        json?: boolean;
      }) => {
        await withClient(async (gantry) => {
          const rows = await gantry.list(options);
          if (options.json) return printJson(rows);
          if (rows.length === 0) return console.log('no promotions match');
          for (const r of rows) {
            const where = r.awaitingApproval
              ? `awaiting approval for ${r.environment}`
              : `${r.stage ?? '?'}${r.environment ? ` ${r.environment}` : ''}`;
            console.log(
              `${r.app ?? '?'}\t${r.digest ?? r.workflowId}\t${r.executionStatus.toLowerCase()}\t${where}\t${r.startTime}`,
            );
          }
        });
      },
    );
}
