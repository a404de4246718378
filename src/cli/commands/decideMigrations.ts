// gantry approve-migrations / reject-migrations: a decision on the destructive migrations a
// promotion waits with (the migrations gate), signed like environment approvals.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import { CliError, EXIT } from '../exitCodes';
import { printJson, requireText, withClient } from '../cliContext';

interface Options {
  env: string;
  as: string;
  key?: string;
  comment?: string;
  json?: boolean;
}

export function registerDecideMigrations(program: Command, kind: 'approve' | 'reject'): void {
  program
    .command(`${kind}-migrations <app> <digest>`)
    .description(`${kind} the destructive database migrations a promotion waits with`)
    .requiredOption('--env <environment>', 'the environment whose database it is')
    .requiredOption('--as <name>', 'who decides (an approver named in gantry.yaml)')
    .option(
      '--key <path>',
      'sign the decision with this SSH ed25519 key (default: $GANTRY_SIGNING_KEY)',
      process.env.GANTRY_SIGNING_KEY,
    )
    .option('--comment <text>', kind === 'approve' ? 'why it is fine' : 'why it is rejected')
    .option('--json', 'print JSON')
    .action(async (app: string, digest: string, options: Options) => {
      const invalid = digestError(digest);
      if (invalid) throw new CliError(invalid, EXIT.badInput);
      const environment = requireText(options.env, '--env');
      const by = requireText(options.as, '--as');
      await withClient(async (gantry) => {
        const [
          { WorkflowNotFoundError, WorkflowUpdateFailedError },
          { approveMigrationsUpdate, migrationsClaimEnvironment, rejectMigrationsUpdate },
          { signDecision },
          { deliverUpdate },
        ] = await Promise.all([
          import('@temporalio/client'),
          import('../../../workflows/migrationMessages.js'),
          import('../../client/signDecision.js'),
          import('../../client/deliverUpdate.js'),
        ]);
        const handle = gantry.handle(app, digest);
        let answer: { accepted: boolean; reason?: string };
        try {
          const signed = options.key
            ? signDecision(
                {
                  kind,
                  workflowId: handle.workflowId,
                  runId: (await handle.describe()).runId,
                  app,
                  digest,
                  environment: migrationsClaimEnvironment(environment),
                  approver: by,
                  comment: options.comment,
                },
                options.key,
              )
            : undefined;
          answer = await deliverUpdate(() =>
            handle.executeUpdate(kind === 'approve' ? approveMigrationsUpdate : rejectMigrationsUpdate, {
              args: [{ environment, by, comment: options.comment, signed }],
            }),
          );
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError)
            answer = { accepted: false, reason: err.cause?.message ?? err.message };
          else if (err instanceof WorkflowNotFoundError)
            answer = { accepted: false, reason: `no running promotion of ${app} ${digest}` };
          else throw err;
        }
        if (options.json) printJson(answer);
        else if (answer.accepted)
          console.log(
            `accepted: ${kind === 'approve' ? 'approved' : 'rejected'} the destructive migrations of ${app} ${digest} for ${environment}`,
          );
        else console.error(`refused: ${answer.reason}`);
        if (!answer.accepted) process.exitCode = EXIT.failed;
      });
    });
}
