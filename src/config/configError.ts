// A gantry.yaml problem, named by the path of the bad field and its line, so people can fix it
// without guessing: `gantry.yaml:23: environments[2].deploy.gitops.path: required`.

export interface ConfigProblem {
  /** environments[2].deploy.gitops.path */
  path: string;
  line?: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file} is not a valid Gantry pipeline:\n` +
        problems
          .map((p) => `  ${file}${p.line ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`)
          .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function formatPath(segments: ReadonlyArray<string | number>): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}
