export { applyMigrations, type MigrationsApplied } from './applyMigrations';
export { planMigrations, type MigrationsFound, type MigrationsRequest } from './planMigrations';
