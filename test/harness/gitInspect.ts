// Reads what promotions committed to a bare config repo: what a user would look at with git log.
import { execFileSync } from 'node:child_process';

export interface RepoCommit {
  sha: string;
  subject: string;
  trailers: Record<string, string>;
}

export function commitsIn(bareRepo: string, branch = 'main'): RepoCommit[] {
  const out = execFileSync(
    'git',
    ['--git-dir', bareRepo, 'log', '--format=%H%x1f%s%x1f%(trailers:only,unfold)%x1e', branch],
    { encoding: 'utf8' },
  );
  return out
    .split('\x1e')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((record) => {
      const [sha, subject, trailerText = ''] = record.split('\x1f');
      const trailers = Object.fromEntries(
        trailerText
          .split('\n')
          .filter((l) => l.includes(': '))
          .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
      );
      return { sha, subject, trailers };
    });
}

export function fileAt(bareRepo: string, path: string, branch = 'main'): string {
  return execFileSync('git', ['--git-dir', bareRepo, 'show', `${branch}:${path}`], { encoding: 'utf8' });
}
