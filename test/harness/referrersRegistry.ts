// A loopback registry with the OCI 1.1 referrers API (go-containerregistry's registry, built by
// scripts/referrers-registry.sh), beside Debian's docker-registry which has none. Open, in memory.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/local/tools';

const BIN = join(PROJECT_ROOT, '.tools', 'referrers-registry', 'bin', 'referrers-registry');

export interface ReferrersRegistry {
  url: string;
  host: string;
  stop(): Promise<void>;
}

export async function startReferrersRegistry(): Promise<ReferrersRegistry> {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run \`npm run setup\` (builds it with scripts/referrers-registry.sh)`);
  const child = spawn(BIN, ['--address', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const host = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`referrers-registry did not start: ${output}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving on (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`referrers-registry exited (${code}): ${output}`)));
  });
  return {
    url: `http://${host}`,
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
