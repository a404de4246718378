// gantry approve / gantry reject: a human decision for one environment of one promotion,
// answered at once with accepted, or refused with the reason.
import type { Command } from 'commander';
import { digestError } from '../../pipeline/digest';
import type { DecisionKind } from '../../pipeline/decisions';
import { CliError, EXIT } from '../exitCodes';
import { printJson, readableKey, requireText, withClient, type GlobalOptions } from '../cliContext';
import { pipelineForChecks, requireEnvironment } from '../decisionPreflight';

interface DecideOptions {
  env: string;
  as: string;
  key?: string;
  comment?: string;
  json?: boolean;
}

export function registerDecide(program: Command, kind: DecisionKind): void {
  program
    .command(`${kind} <app> <digest>`)
    .description(
      kind === 'approve'
        ? 'approve a promotion waiting for an environment'
        : 'reject a promotion waiting for an environment',
    )
    .requiredOption('--env <environment>', 'the environment the decision is for')
    .requiredOption('--as <name>', 'who decides (an approver named in gantry.yaml)')
    .option(
      '--key <path>',
      'sign the decision with this SSH ed25519 key (default: $GANTRY_SIGNING_KEY)',
      process.env.GANTRY_SIGNING_KEY,
    )
    .option('--comment <text>', kind === 'approve' ? 'why it is fine' : 'why it is rejected')
    .option('--json', 'print JSON')
    .action(async (app: string, digest: string, options: DecideOptions, cmd: Command) => {
      const invalid = digestError(digest);
      if (invalid) throw new CliError(invalid, EXIT.badInput);
      const decision = {
        environment: requireText(options.env, '--env'),
        by: requireText(options.as, '--as'),
        comment: options.comment,
      };
      if (options.key) readableKey(options.key, '--key');
      requireEnvironment(await pipelineForChecks(cmd.optsWithGlobals<GlobalOptions>()), app, decision.environment);
      await withClient(async (gantry) => {
        const answer = await gantry.decide(kind, app, digest, decision, options.key);
        if (options.json)
          printJson(answer.accepted ? { accepted: true, workflowId: answer.status.workflowId } : answer);
        else if (answer.accepted)
          console.log(
            `accepted: ${kind === 'approve' ? 'approved' : 'rejected'} ${app} ${digest} for ${decision.environment}`,
          );
        else console.error(`refused: ${answer.reason}`);
        if (!answer.accepted) process.exitCode = EXIT.failed;
      });
    });
}
