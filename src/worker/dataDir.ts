// Where a worker keeps what it writes (the audit log and its key); the audit CLI reads the same place.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(): string {
  return process.env.GANTRY_DATA_DIR ?? join(homedir(), '.gantry');
}
