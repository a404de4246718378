// Paths of the pinned Temporal binaries that scripts/setup.sh installs into .tools/. A missing
// tool is an error that names the command that installs it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The project root, from src/local (sources) or dist/src/local (compiled). */
export const PROJECT_ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((d) =>
  existsSync(join(d, 'package.json')),
)!;

export function toolPath(name: 'temporal' | 'temporal-test-server'): string {
  const path = join(PROJECT_ROOT, '.tools', 'python', 'bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run setup\` (scripts/setup.sh) first`);
  return path;
}
