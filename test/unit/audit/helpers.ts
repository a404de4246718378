/** Test helpers: a compiled copy of the audit sources that child `node` processes can require. */
import { transformFileSync } from '@swc/core';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const SOURCE_DIRS = ['src/audit', 'src/approvals/signing'];

/** Compiles src/audit and src/approvals/signing (TypeScript -> CommonJS, via swc) under outDir; returns the audit index path. */
export function compileAuditSources(outDir: string): string {
  for (const rel of SOURCE_DIRS) {
    for (const name of readdirSync(join(ROOT, rel))) {
      if (!name.endsWith('.ts')) continue;
      const { code } = transformFileSync(join(ROOT, rel, name), {
        swcrc: false,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      const out = join(outDir, rel, name.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }
  }
  return join(outDir, 'src/audit/index.js');
}

/**
 * A child script appending `${tag}-${i}` for i in [0, count), `parallel` appends at a time, printing
 * each finished index. argv: lib dataDir keyPem tag count parallel padBytes fsync
 */
export const APPENDER_SCRIPT = `
const { readFileSync } = require('node:fs');
const [lib, dataDir, keyPem, tag, count, parallel, padBytes, fsync] = process.argv.slice(2);
const { FileAuditStore, auditSigningKeyFromPem } = require(lib);
(async () => {
  const store = await FileAuditStore.open({ dataDir, signingKey: auditSigningKeyFromPem(readFileSync(keyPem)), fsync: fsync === '1' });
  const pad = 'x'.repeat(Number(padBytes));
  for (let i = 0; i < Number(count); i += Number(parallel)) {
    const batch = [];
    for (let j = i; j < Math.min(i + Number(parallel), Number(count)); j++) {
      batch.push(store.append({ id: tag + '-' + j, workflowId: 'wf-' + tag, app: 'shop', digest: 'sha256:' + 'b'.repeat(64),
        environment: 'staging', event: 'deployed', details: { i: j, pad } }).then(() => process.stdout.write(j + '\\n')));
    }
    await Promise.all(batch);
  }
})().catch((err) => { console.error(err); process.exit(1); });
`;
