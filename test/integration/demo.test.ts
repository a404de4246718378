// The README's demo, run as a user runs it: it stops at the production approval and prints the
// command to approve; running that command lets the promotion finish production.
import { exec, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/local/tools';

test('the demo promotes through dev and staging, waits for approval, and finishes after the printed command', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-demo-'));
  const demo = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'src', 'demo', 'runDemo.js')], {
    env: { ...process.env, GANTRY_DATA_DIR: dataDir, USER: 'demo-tester' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
  try {
    const command = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match =
          /^ {2}(TEMPORAL_ADDRESS=\S+ GANTRY_CODEC_KEYS_FILE=\S+ \S+ -c \S+ approve hello sha256:[0-9a-f]{64} --env production --as demo-approver --key \S+)$/m.exec(
            output,
          );
        if (match) {
          clearInterval(timer);
          resolve(match[1]);
        }
        if (demo.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`demo exited early:\n${output}`));
        }
      }, 100);
    });
    expect(output).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('✓ deploy dev');
    expect(output).toContain('✓ health staging');
    expect(output).toContain('✓ gates staging');
    expect(output).not.toContain('deploy production');

    const approval = await new Promise<{ code: number; stdout: string }>((resolve) =>
      exec(command, { env: { ...process.env, USER: 'demo-tester' } }, (err, stdout) =>
        resolve({ code: err ? 1 : 0, stdout }),
      ),
    );
    expect(approval.code).toBe(0);
    expect(approval.stdout).toMatch(/^accepted: approved hello sha256:[0-9a-f]{64} for production$/m);

    expect(await exited).toBe(0);
    expect(output).toMatch(/promoted hello to production: production serves sha256:[0-9a-f]{64}/);
  } finally {
    demo.kill('SIGTERM');
  }
}, 180_000);
