// Why a registry request failed, in the words a person acts on: the registry cannot be reached,
// it refused our credentials (for which scope), it does not have the thing, or it served other bytes.

export type RegistryFailure =
  'unreachable' | 'unauthorised' | 'not-found' | 'digest-mismatch' | 'rate-limited' | 'unexpected';

export class RegistryError extends Error {
  name = 'RegistryError';
  constructor(
    readonly failure: RegistryFailure,
    message: string,
    /** The token scope that was refused, e.g. repository:acme/web:pull. */
    readonly scope?: string,
  ) {
    super(message);
  }
}
