// gantry audit verify / export: prove the audit log is whole, and answer "who approved what, when".
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_FILE_NAME, AUDIT_PUBLIC_KEY_FILE, exportAudit, verifyAuditFile } from '../../audit';
import { defaultDataDir } from '../../worker/dataDir';
import { CliError, EXIT } from '../exitCodes';
import { printJson } from '../cliContext';

interface AuditOptions {
  dataDir: string;
  publicKey?: string;
  json?: boolean;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the worker's tamper-evident audit log");
  const common = (cmd: Command) =>
    cmd
      .option('--data-dir <dir>', "the worker's data folder (default: $GANTRY_DATA_DIR or ~/.gantry)", defaultDataDir())
      .option('--public-key <file>', 'audit public key (default: <data-dir>/keys/audit-ed25519.pub.pem)')
      .option('--json', 'print JSON');

  common(audit.command('verify').description('check every record: chain, order, signatures; names what was edited, deleted, reordered or inserted')).action(
    async (options: AuditOptions) => {
      const file = join(options.dataDir, 'audit', AUDIT_FILE_NAME);
      const result = await verifyAuditFile(file, { publicKeys: [await publicKey(options)] });
      if (options.json) printJson({ ok: result.ok, records: result.records.length, problems: result.problems });
      else if (result.ok) console.log(`audit log ok: ${result.records.length} records, chain and signatures verified (${file})`);
      else for (const p of result.problems) console.error(`line ${p.line}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.kind}: ${p.message}`);
      if (!result.ok) process.exitCode = EXIT.failed;
    },
  );

  common(audit.command('export').description('who approved what, when (or every event with --events)'))
    .option('--env <environment>', 'only this environment')
    .option('--app <app>', 'only this app')
    .option('--since <date>', 'records at or after this date (YYYY-MM-DD or ISO time)')
    .option('--events', 'every event, not only approvals')
    .action(async (options: AuditOptions & { env?: string; app?: string; since?: string; events?: boolean }) => {
      if (options.since && Number.isNaN(Date.parse(options.since))) throw new CliError(`--since must be a date like 2026-01-01, got "${options.since}"`, EXIT.badInput);
      const file = join(options.dataDir, 'audit', AUDIT_FILE_NAME);
      const result = await verifyAuditFile(file, { publicKeys: [await publicKey(options)] });
      if (!result.ok) console.error(`warning: the audit log does not verify (${result.problems.length} problems); run gantry audit verify`);
      process.stdout.write(
        exportAudit(result.records, {
          format: options.json ? 'json' : 'table',
          view: options.events ? 'events' : 'approvals',
          environment: options.env,
          app: options.app,
          since: options.since,
        }),
      );
      if (!result.ok) process.exitCode = EXIT.failed;
    });
}

async function publicKey(options: AuditOptions): Promise<string> {
  const path = options.publicKey ?? join(process.env.GANTRY_AUDIT_KEY_DIR ?? join(options.dataDir, 'keys'), AUDIT_PUBLIC_KEY_FILE);
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new CliError(`no audit public key at ${path}: give --public-key or --data-dir`, EXIT.badInput);
  }
}
