// gantry audit verify / export / keygen: prove the audit log is whole, answer "who approved what,
// when", and make the key workers sign with. The log is the data folder's file, or the
// installation's PostgreSQL log when GANTRY_AUDIT_URL is set (src/audit/openAuditStore.ts).
import type { Command } from 'commander';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditVerification } from '../../audit';
import type { AuditLocation } from '../../audit/openAuditStore';
import { defaultDataDir } from '../../worker/dataDir';
import { CliError, EXIT } from '../exitCodes';
import { printJson } from '../cliContext';

interface AuditOptions {
  dataDir: string;
  publicKey?: string[];
  json?: boolean;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the installation's tamper-evident audit log");
  const common = (cmd: Command) =>
    cmd
      .option(
        '--data-dir <dir>',
        "the worker's data folder (default: $GANTRY_DATA_DIR or ~/.gantry; ignored when $GANTRY_AUDIT_URL names the PostgreSQL log)",
        defaultDataDir(),
      )
      .option(
        '--public-key <file...>',
        'audit public keys, old and new after a rotation (default: every *.pub.pem in $GANTRY_AUDIT_KEY_DIR or <data-dir>/keys)',
      )
      .option('--json', 'print JSON');

  common(
    audit
      .command('verify')
      .description(
        'check every record: chain, order, signatures; names what was edited, deleted, reordered or inserted',
      ),
  ).action(async (options: AuditOptions) => {
    const { result, where } = await verifyLog(options);
    if (options.json)
      printJson({
        ok: result.ok,
        records: result.records.length,
        lastSeq: result.lastSeq,
        lastHash: result.lastHash,
        problems: result.problems,
      });
    else if (result.ok)
      console.log(`audit log ok: ${result.records.length} records, chain and signatures verified (${where})`);
    else
      for (const p of result.problems)
        console.error(`line ${p.line}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.kind}: ${p.message}`);
    if (!result.ok) process.exitCode = EXIT.failed;
  });

  common(audit.command('export').description('who approved what, when (or every event with --events)'))
    .option('--env <environment>', 'only this environment')
    .option('--app <app>', 'only this app')
    .option('--since <date>', 'records at or after this date (YYYY-MM-DD or ISO time)')
    .option('--events', 'every event, not only approvals')
    .action(async (options: AuditOptions & { env?: string; app?: string; since?: string; events?: boolean }) => {
      if (options.since && Number.isNaN(Date.parse(options.since)))
        throw new CliError(`--since must be a date like 2026-01-01, got "${options.since}"`, EXIT.badInput);
      const { result } = await verifyLog(options);
      const { exportAudit } = await import('../../audit/index.js');
      if (!result.ok)
        console.error(
          `warning: the audit log does not verify (${result.problems.length} problems); run gantry audit verify`,
        );
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

  audit
    .command('keygen')
    .description(
      'create the Ed25519 audit key workers sign with (kept when it exists); give every worker of an installation the same one',
    )
    .requiredOption(
      '--key-dir <dir>',
      'folder for audit-ed25519.pem (0600) and audit-ed25519.pub.pem: a secret store mount, not the data folder',
    )
    .action(async (options: { keyDir: string }) => {
      const { AUDIT_KEY_FILE, AUDIT_PUBLIC_KEY_FILE, loadOrCreateAuditKey } = await import('../../audit/index.js');
      const key = await loadOrCreateAuditKey(options.keyDir);
      console.log(
        `audit key ${key.keyId} in ${join(options.keyDir, AUDIT_KEY_FILE)} (public key: ${join(options.keyDir, AUDIT_PUBLIC_KEY_FILE)})`,
      );
    });
}

async function verifyLog(options: AuditOptions): Promise<{ result: AuditVerification; where: string }> {
  // The PostgreSQL client comes with these: only the audit commands pay for loading it.
  const [{ AUDIT_FILE_NAME, verifyAuditLog }, { auditLocation, describeAuditLocation }, { readPostgresAuditText }] =
    await Promise.all([
      import('../../audit/index.js'),
      import('../../audit/openAuditStore.js'),
      import('../../audit/postgresAuditStore.js'),
    ]);
  let location: AuditLocation;
  try {
    location = auditLocation(options.dataDir);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.badInput);
  }
  const publicKeys = await publicKeysFor(options, location.keyDir);
  let text: string;
  try {
    text =
      location.kind === 'postgres'
        ? await readPostgresAuditText(location.url)
        : await readFileOrEmpty(join(location.dataDir, 'audit', AUDIT_FILE_NAME));
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.unavailable);
  }
  return { result: verifyAuditLog(text, { publicKeys }), where: describeAuditLocation(location) };
}

async function readFileOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The given keys, or every public key in the key folder (the current one and those kept after rotations). */
async function publicKeysFor(options: AuditOptions, keyDir: string): Promise<string[]> {
  let paths = options.publicKey;
  if (!paths?.length) {
    const names = await readdir(keyDir).catch(() => [] as string[]);
    paths = names
      .filter((n) => n.endsWith('.pub.pem'))
      .sort()
      .map((n) => join(keyDir, n));
    if (!paths.length)
      throw new CliError(
        `no audit public key in ${keyDir} (looked for *.pub.pem): give --public-key, --data-dir or GANTRY_AUDIT_KEY_DIR`,
        EXIT.badInput,
      );
  }
  return Promise.all(
    paths.map(async (path) => {
      try {
        return await readFile(path, 'utf8');
      } catch {
        throw new CliError(
          `no audit public key at ${path}: give --public-key, --data-dir or GANTRY_AUDIT_KEY_DIR`,
          EXIT.badInput,
        );
      }
    }),
  );
}
