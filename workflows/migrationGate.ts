// The migrations gate of one environment, before its deploy: find the app's migrations this
// environment's database has not applied; destructive statements wait for the approval policy of
// destructiveMigrations (same rules as environment approvals: eligible people, signatures,
// expiry); then, when configured, apply them as a step with its own timeout.
import { condition, patched, proxyActivities, setHandler, type upsertSearchAttributes } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { JsonValue } from '../src/audit/auditRecord';
import type { MigrationGateStatus, MigrationsPlan } from '../src/migrations/types';
import { screenDecision, tallyVotes, type ClaimContext, type SignedKind } from '../src/pipeline/approvalPolicy';
import type { ApprovalDecision } from '../src/pipeline/decisions';
import { formatDuration } from '../src/pipeline/duration';
import type { DecisionRecord, Outcome, PromotionStatus } from '../src/pipeline/promotionStatus';
import type { ApprovalSpec, EnvironmentPlan, PromotionInput } from '../src/pipeline/types';
import { shortDigest } from '../src/pipeline/digest';
import { GANTRY_AWAITING_APPROVAL } from '../src/pipeline/searchAttributes';
import {
  approveMigrationsSignal,
  approveMigrationsUpdate,
  migrationsClaimEnvironment,
  rejectMigrationsSignal,
  rejectMigrationsUpdate,
  type MigrationAnswer,
} from './migrationMessages';
import { activityOptions } from './activityOptions';
import { onEnvironmentQueue } from './environmentQueue';

type Activities = ReturnType<typeof activities.createActivities>;

const acts = proxyActivities<Activities>(activityOptions.migrations);

/** What the gate needs from the promotion it runs in. */
export interface MigrationGateHooks {
  input: PromotionInput;
  status: PromotionStatus;
  stage<T>(name: 'migrations', environment: string, run: () => Promise<T>): Promise<T>;
  audit(event: string, environment: string, details: JsonValue): Promise<unknown>;
  notify(event: string, environment: string, text: string): void;
  /** Upserts search attributes (GantryAwaitingApproval while a decision is awaited). */
  index(attrs: Parameters<typeof upsertSearchAttributes>[0]): void;
  claimContext(kind: SignedKind, environment: string): ClaimContext;
  usedNonces: string[];
  /** Ends the promotion with this outcome (thrown by the gate). */
  end(outcome: Exclude<Outcome, 'running' | 'promoted'>, message: string): Error;
}

export async function migrationGate(env: EnvironmentPlan, plan: MigrationsPlan, h: MigrationGateHooks): Promise<void> {
  const e = h.status.environments.find((x) => x.name === env.name)!;
  await h.stage('migrations', env.name, async () => {
    const request = { environment: env.name, commit: h.input.commit!, plan };
    // Like deploy, on the environment's own queue: its workers hold the database credentials.
    const found = await acts.planMigrations.executeWithOptions(
      onEnvironmentQueue(activityOptions.migrations, env.taskQueue),
      [request],
    );
    const gate: MigrationGateStatus = {
      applied: found.applied,
      pending: found.pending.map((m) => m.file),
      destructive: found.destructive,
      state:
        found.pending.length === 0 ? 'none-pending' : found.destructive.length === 0 ? 'safe' : 'awaiting-approval',
    };
    // A destructive plan shows in status only with its waitingFor (set together in awaitApproval).
    if (gate.state !== 'awaiting-approval') e.migrations = gate;
    await h.audit('migrations-planned', env.name, {
      commit: h.input.commit!,
      applied: found.applied,
      pending: gate.pending,
      destructive: found.destructive,
    });
    if (found.destructive.length > 0) {
      if (!plan.destructiveApproval) {
        e.migrations = gate;
        throw h.end(
          'failed',
          `destructive migrations for ${env.name} and no destructiveMigrations.approval to allow them: ${describe(gate)}`,
        );
      }
      await awaitApproval(env.name, plan.destructiveApproval, gate, h, () => (e.migrations = gate));
    }
    if (plan.run && found.pending.length > 0) {
      const run = plan.run;
      const applied = await acts.applyMigrations.executeWithOptions(
        onEnvironmentQueue(
          {
            startToCloseTimeout: run.timeoutMs + 60_000,
            heartbeatTimeout: 30_000,
            retry: { maximumAttempts: 1 },
            summary: `migrate ${env.name} ${shortDigest(h.input.digest)}`,
          },
          env.taskQueue,
        ),
        [request],
      );
      if (applied.ran) gate.state = 'applied';
      await h.audit('migrations-applied', env.name, {
        ran: applied.ran,
        from: applied.from,
        to: applied.to,
        files: applied.files,
        output: applied.output.slice(-500),
      });
    }
  });
}

async function awaitApproval(
  environment: string,
  spec: ApprovalSpec,
  gate: MigrationGateStatus,
  h: MigrationGateHooks,
  showGate: () => void,
): Promise<void> {
  const votes: DecisionRecord[] = [];
  let decided: DecisionRecord | undefined;
  // Signed decisions name "<environment>:migrations", so an environment approval cannot be replayed here.
  const claimEnvironment = migrationsClaimEnvironment(environment);
  const refuseEarly = (d: ApprovalDecision | undefined): string | undefined => {
    if (typeof d !== 'object' || d === null || typeof d.by !== 'string' || !d.by.trim())
      return 'a decision needs {"environment", "by"}';
    if (d.environment !== environment)
      return `not awaiting approval of migrations for ${d.environment}: it is awaiting ${environment}`;
    if (decided) return `migrations for ${environment} were already decided`;
    return undefined;
  };
  const judge = async (
    kind: 'approve' | 'reject',
    d: ApprovalDecision,
    via: 'update' | 'signal',
  ): Promise<MigrationAnswer> => {
    const refuse = async (reason: string): Promise<MigrationAnswer> => {
      h.status.refused.push({
        kind: `${kind}-migrations`,
        environment,
        by: d.by,
        reason,
        at: new Date().toISOString(),
        via,
      });
      await h.audit('approval-refused', environment, {
        approver: d.by ?? '',
        decision: `${kind}-migrations`,
        refusal: reason,
        via,
      });
      return { accepted: false, reason, migrations: gate };
    };
    const early = refuseEarly(d);
    if (early) return refuse(early);
    const screening = screenDecision(spec, h.claimContext(kind, claimEnvironment), votes, h.usedNonces, d);
    if ('refuse' in screening) return refuse(screening.refuse);
    if (screening.nonce) h.usedNonces.push(screening.nonce);
    let signer: string | undefined;
    if (screening.verify) {
      const verdict = await acts.verifyDecisionSignature(screening.verify);
      if (!verdict.ok) return refuse(verdict.reason);
      signer = verdict.fingerprint;
    }
    // While the signature was checked, another decision may have settled it, or the same person voted.
    if (decided) return refuse(`migrations for ${environment} were already decided`);
    const earlier = votes.find((v) => v.by === d.by);
    if (earlier)
      return refuse(`${d.by} already ${earlier.kind === 'approve' ? 'approved' : 'rejected'} ${claimEnvironment}`);
    const vote: DecisionRecord = {
      kind,
      environment,
      by: d.by,
      comment: d.comment,
      at: new Date().toISOString(),
      via,
      signer,
    };
    votes.push(vote);
    h.status.decisions.push(vote);
    await h.audit('approval-accepted', environment, {
      approver: d.by,
      decision: `${kind}-migrations`,
      via,
      statements: gate.destructive,
      ...(signer ? { signerFingerprint: signer } : {}),
      ...(d.comment ? { comment: d.comment } : {}),
    });
    if (tallyVotes(spec, votes)) decided = vote;
    return { accepted: true, migrations: gate };
  };
  const validator = (d: ApprovalDecision) => {
    const reason = refuseEarly(d);
    if (reason) throw new Error(reason);
  };
  setHandler(approveMigrationsUpdate, (d) => judge('approve', d, 'update'), { validator });
  setHandler(rejectMigrationsUpdate, (d) => judge('reject', d, 'update'), { validator });
  setHandler(approveMigrationsSignal, async (d) => void (await judge('approve', d, 'signal')));
  setHandler(rejectMigrationsSignal, async (d) => void (await judge('reject', d, 'signal')));

  const expiresAt = new Date(Date.now() + spec.expiresInMs).toISOString();
  showGate();
  h.status.waitingFor = `approval of destructive migrations for ${environment} (${spec.required} needed; expires ${expiresAt})`;
  h.notify(
    'awaiting-migrations-approval',
    environment,
    `${h.input.app} ${shortDigest(h.input.digest)} has destructive migrations for ${environment}; they wait for approval (${spec.required} needed):\n${gate.destructive.map((s) => `• ${s.file}: ${s.sql} (${s.reason})`).join('\n')}`,
  );
  // The handlers stay registered afterwards: a late decision is refused with a reason (already decided).
  // Indexed like an environment approval, so `gantry list --awaiting-approval` finds this wait too.
  // Patched: a wait recorded before had no upsert here, and replaying it must not add one.
  const indexed = patched('migrations-approval-indexed');
  if (indexed) h.index([{ key: GANTRY_AWAITING_APPROVAL, value: true }]);
  let answered: boolean;
  try {
    answered = await condition(() => decided !== undefined, spec.expiresInMs);
  } finally {
    if (indexed) h.index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
  }
  if (!answered)
    throw h.end(
      'expired',
      `no decision on destructive migrations for ${environment} within ${formatDuration(spec.expiresInMs)}`,
    );
  if (decided!.kind === 'reject') {
    gate.state = 'rejected';
    throw h.end(
      'rejected',
      `destructive migrations for ${environment} rejected by ${decided!.by}${decided!.comment ? `: ${decided!.comment}` : ''}`,
    );
  }
  gate.state = 'approved';
  gate.approvedBy = votes.filter((v) => v.kind === 'approve').map((v) => v.by);
  h.notify(
    'migrations-approved',
    environment,
    `${h.input.app} ${shortDigest(h.input.digest)}: destructive migrations for ${environment} approved by ${gate.approvedBy.join(', ')}.`,
  );
}

function describe(gate: MigrationGateStatus): string {
  return gate.destructive.map((s) => `${s.file}: ${s.sql} (${s.reason})`).join('; ');
}
