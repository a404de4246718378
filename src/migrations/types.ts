// The migrations gate: what a promotion is pinned to (from gantry.yaml) and what it found.
import type { ApprovalSpec } from '../pipeline/types';

export interface MigrationsPlan {
  /** The app's source repo and folder; files are read at the promotion's source commit. */
  source: { repo: string; path: string };
  /** The worker's environment variable with the database URL, and the version table. */
  database: { urlFrom: string; table: string };
  /** Optional step that applies the pending migrations before the deploy. */
  run?: { command: string; timeoutMs: number };
  /** Who approves destructive statements; absent: destructive migrations fail the promotion. */
  destructiveApproval?: ApprovalSpec;
}

export interface PendingMigration {
  file: string;
  version: number;
  statements: Array<{ sql: string; destructive?: string }>;
}

/** A type, not an interface: it goes into audit records as plain JSON. */
export type DestructiveStatement = {
  file: string;
  sql: string;
  reason: string;
};

/** What the gate found in one environment; shown in status, the webhook and the audit log. */
export type MigrationGateStatus = {
  /** The database's last applied version when the gate looked. */
  applied: number;
  pending: string[];
  destructive: DestructiveStatement[];
  state: 'none-pending' | 'safe' | 'awaiting-approval' | 'approved' | 'rejected' | 'applied';
  /** Who approved the destructive statements. */
  approvedBy?: string[];
};
