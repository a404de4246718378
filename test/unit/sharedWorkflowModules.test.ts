// The modules a worker shares between all its workflows (preloaded, frozen by the SDK) must not pull
// in anything with per-workflow state: no @temporalio package, no Node module, nothing outside src/.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SHARED_WORKFLOW_MODULES } from '../../src/worker/workflowBundle';

const WORKER_DIR = join(__dirname, '..', '..', 'src', 'worker');
const SRC = join(__dirname, '..', '..', 'src');

function sourceOf(modulePath: string): string {
  for (const candidate of [`${modulePath}.ts`, join(modulePath, 'index.ts')]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // try the next form
    }
  }
  throw new Error(`no source for ${modulePath}`);
}

/** Every file a module reaches through value imports (type-only imports vanish from the bundle). */
function reach(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
  seen.set(file, specifiers);
  for (const s of specifiers) if (s.startsWith('.')) reach(sourceOf(resolve(dirname(file), s)), seen);
  return seen;
}

test.each(SHARED_WORKFLOW_MODULES)('%s imports only pure modules under src/', (module) => {
  const files = reach(sourceOf(resolve(WORKER_DIR, module)));
  for (const [file, specifiers] of files) {
    expect(relative(SRC, file)).not.toMatch(/^\.\./);
    expect({ file: relative(SRC, file), external: specifiers.filter((s) => !s.startsWith('.')) }).toEqual({
      file: relative(SRC, file),
      external: [],
    });
  }
});

test('the check sees a value import from a package (searchAttributes imports @temporalio/common)', () => {
  const files = reach(sourceOf(join(SRC, 'pipeline', 'searchAttributes')));
  expect([...files.values()].flat()).toContain('@temporalio/common');
});
