// Decisions on destructive migrations (workflows/migrationGate.ts). `environment` names the
// environment whose database it is; signed decisions sign it as "<environment>:migrations".
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { MigrationGateStatus } from '../src/migrations/types';
import type { ApprovalDecision } from '../src/pipeline/decisions';

export interface MigrationAnswer {
  accepted: boolean;
  reason?: string;
  migrations?: MigrationGateStatus;
}

export const approveMigrationsUpdate = defineUpdate<MigrationAnswer, [ApprovalDecision]>('approveMigrations');
export const rejectMigrationsUpdate = defineUpdate<MigrationAnswer, [ApprovalDecision]>('rejectMigrations');
export const approveMigrationsSignal = defineSignal<[ApprovalDecision]>('approveMigrations');
export const rejectMigrationsSignal = defineSignal<[ApprovalDecision]>('rejectMigrations');

/** The environment a signed migrations decision names, so an environment approval cannot stand in for it. */
export const migrationsClaimEnvironment = (environment: string): string => `${environment}:migrations`;
