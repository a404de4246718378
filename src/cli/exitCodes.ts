// Stable exit codes, so CI scripts can branch on them.
export const EXIT = {
  ok: 0,
  /** The promotion failed, was rejected, expired or aborted; or a decision was refused. */
  failed: 1,
  /** Bad input: arguments, gantry.yaml, digest. Nothing was started or changed. */
  badInput: 2,
  /** Temporal could not be reached. */
  unavailable: 3,
} as const;

/** An error that ends the CLI with a given exit code and a message for people. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
