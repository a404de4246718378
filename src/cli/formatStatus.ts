// How a promotion reads in a terminal: one line per environment, timings, what it waits for.
import { shortDigest } from '../pipeline/digest';
import { formatDuration } from '../pipeline/duration';
import type { EnvironmentState, PromotionStatus, StageTiming, TargetStatus } from '../pipeline/promotionStatus';

const STATE_MARK: Record<EnvironmentState, string> = {
  pending: '·',
  'awaiting-approval': '?',
  'in-progress': '→',
  promoted: '✓',
  failed: '✗',
  'rolled-back': ' ',
};

export function formatStatus(s: PromotionStatus): string {
  const lines = [
    `${s.app} ${s.digest}`,
    `  outcome:   ${s.outcome}${s.reason ? ` (${s.reason})` : ''}`,
    `  stage:     ${s.stage}${s.environment ? ` in ${s.environment}` : ''}${s.paused ? ' [paused]' : ''}`,
    `  requested: by ${s.requestedBy} at ${s.startedAt}${s.finishedAt ? `, finished ${s.finishedAt} (${formatDuration(Date.parse(s.finishedAt) - Date.parse(s.startedAt))})` : ''}`,
  ];
  if (s.startedBy) {
    const how =
      s.startedBy.proof === 'signature'
        ? `signed start, key ${s.startedBy.fingerprint ?? ''}`
        : 'unsigned: a claim, not proven';
    lines.push(
      `  started:   by ${s.startedBy.name} (${how})${s.startedBy.claimed !== s.startedBy.name ? `; --requested-by said ${s.startedBy.claimed}` : ''}`,
    );
  }
  if (s.policy) lines.push(`  policy:    ${s.policy.digest} (${s.policy.source})`);
  if (s.waitingFor) lines.push(`  waiting:   ${s.waitingFor}`);
  if (s.trust?.signature)
    lines.push(`  signed:    by ${s.trust.signature.signer} (${s.trust.signature.fingerprint.slice(0, 23)}…)`);
  if (s.trust?.provenance)
    lines.push(`  built:     by ${s.trust.provenance.builder} from ${s.trust.provenance.sources[0] ?? '?'}`);
  lines.push('  environments:');
  for (const e of s.environments) {
    const extra = [
      e.commit ? `commit ${e.commit.slice(0, 12)}${e.changed === false ? ' (already there)' : ''}` : '',
      e.votes.length
        ? e.votes
            .map(
              (v) =>
                `${v.kind === 'approve' ? 'approved' : 'rejected'} by ${v.by}${v.signer ? ` (signed ${v.signer.slice(0, 19)}…)` : ' (unsigned)'}`,
            )
            .join(', ')
        : '',
      ...e.gates.map((g) => `gate ${g.name} ${g.passed ? 'passed' : 'FAILED'}`),
      ...(e.canary?.analyses ?? []).map(
        (a) => `canary ${a.name} ${a.decision} after ${a.requestsToDecision.total} requests`,
      ),
      e.rolledBackTo ? `rolled back to ${e.rolledBackTo.slice(0, 19)}` : '',
      e.migrations
        ? `migrations ${e.migrations.state} (${e.migrations.pending.length} pending, ${e.migrations.destructive.length} destructive)`
        : '',
    ].filter(Boolean);
    lines.push(
      `    ${STATE_MARK[e.state]} ${e.name.padEnd(12)} ${e.state}${extra.length ? `  ${extra.join(', ')}` : ''}`,
    );
    // The statements a person is asked to approve, as they will run.
    for (const d of e.migrations?.destructive ?? [])
      lines.push(`        ${d.file}: ${d.sql.replace(/\s+/g, ' ')}  [${d.reason}]`);
    if (e.targets) lines.push(...formatTargets(e.targets, e.wave).map((l) => `        ${l}`));
  }
  lines.push('  stages:');
  for (const t of s.timings) lines.push(`    ${formatTiming(t)}`);
  if (s.refused.length > 0) {
    lines.push('  refused messages:');
    for (const r of s.refused) lines.push(`    ${r.at} ${r.kind}${r.by ? ` by ${r.by}` : ''}: ${r.reason}`);
  }
  return lines.join('\n');
}

export function formatTiming(t: StageTiming): string {
  const name = `${t.stage}${t.environment ? ` ${t.environment}` : ''}`;
  if (!t.finishedAt) return `… ${name} (since ${t.startedAt})`;
  const took = formatDuration(Date.parse(t.finishedAt) - Date.parse(t.startedAt));
  const mark = t.result === 'ok' ? '✓' : t.result === 'cancelled' ? '-' : '✗';
  return `${mark} ${name} (${took})${t.result !== 'ok' && t.detail ? `: ${t.detail}` : ''}`;
}

export function approveCommand(app: string, digest: string, environment: string): string {
  return `gantry approve ${app} ${digest} --env ${environment} --as <your-name> --key <your ssh key>`;
}

export function oneLine(s: PromotionStatus): string {
  return `${s.app} ${shortDigest(s.digest)} ${s.outcome}${s.reason ? `: ${s.reason}` : ''}`;
}

/**
 * An environment's targets as a compact table: target, wave, state, digest, canary weight; a
 * reason (why a target failed or went back) follows its row. `current` marks the running wave.
 */
export function formatTargets(targets: TargetStatus[], current?: number): string[] {
  const rows = [
    ['target', 'wave', 'state', 'digest', 'canary'],
    ...targets.map((t) => [
      t.name,
      `${t.wave}${t.wave === current ? '*' : ''}`,
      t.state,
      t.digest ? shortDigest(t.digest) : '-',
      t.canaryWeight === undefined ? '-' : `${t.canaryWeight}%`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines: string[] = [];
  rows.forEach((r, i) => {
    lines.push(
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
    const reason = i > 0 ? targets[i - 1].reason : undefined;
    if (reason) lines.push(`  └ ${reason}`);
  });
  return lines;
}
