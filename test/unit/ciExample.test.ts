// The CI example a user copies: the digest it promotes comes from the build step's output in the
// same workflow, and its `gantry start` command line is one the CLI accepts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../src/local/tools';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
}
interface Workflow {
  jobs: Record<string, { needs?: string; outputs?: Record<string, string>; steps: Step[] }>;
}

const workflow = parse(
  readFileSync(join(PROJECT_ROOT, 'examples', 'ci', 'github-actions-promote.yml'), 'utf8'),
) as Workflow;
const promote = workflow.jobs.promote.steps.find((s) => s.run?.includes('gantry start'))!;

test('the digest is the build-push-action output of the build job, passed on as a job output', () => {
  const push = workflow.jobs.build.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
  expect(push.id).toBeDefined();
  expect(workflow.jobs.build.outputs?.digest).toBe(`\${{ steps.${push.id}.outputs.digest }}`);
  expect(workflow.jobs.promote.needs).toBe('build');
  expect(promote.run).toContain('--digest "${{ needs.build.outputs.digest }}"');
});

test('its gantry start command line is accepted: arguments and pipeline pass, then it reaches for Temporal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-ci-example-'));
  writeFileSync(
    join(dir, 'gantry.yaml'),
    'version: 1\nconfigRepo: { url: /tmp/none.git }\napps:\n  web: { image: ghcr.io/acme/web }\nenvironments:\n  - name: dev\n    deploy: { gitops: { path: environments/dev } }\n',
  );
  // What GitHub Actions substitutes: a digest as build-push-action prints it, the commit, the actor.
  const values: Record<string, string> = {
    'needs.build.outputs.digest': `sha256:${'4'.repeat(64)}`,
    'github.sha': 'f'.repeat(40),
    'github.actor': 'octocat',
  };
  const script = promote
    .run!.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
      if (!(expr in values)) throw new Error(`the example uses \${{ ${expr} }}, which this test does not know`);
      return values[expr];
    })
    .replace('./gantry/bin/gantry', `${process.execPath} ${join(PROJECT_ROOT, 'bin', 'gantry')}`);
  const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      'bash',
      ['-c', script],
      { cwd: dir, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  // 2 would be bad input (arguments, digest, pipeline); 3 is "Temporal could not be reached".
  expect(result).toEqual({ code: 3, stderr: expect.any(String) });
  expect(result.stderr).not.toMatch(/error: |digest must|unknown app/);
});
