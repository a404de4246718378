// Where a worker reads its policy: a file it is started with (`gantry worker --policy`, by default
// the pipeline file it is pointed at). Read afresh for every promotion start, so an edit applies to
// promotions started after it; each promotion records the version it read in its history.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/configError';
import type { GantryConfig } from '../config/configTypes';
import { parseConfig } from '../config/loadConfig';
import { resolvePromotion, StartRequestError } from '../config/resolvePromotion';
import type { PromotionInput } from '../pipeline/types';
import type { OperatorPolicy, PolicyRead, PolicySettings } from './policyTypes';

export interface PolicyText {
  text: string;
  /** Shown to people and recorded with the version, e.g. the file's absolute path. */
  source: string;
  /** Relative paths in the policy resolve against this folder. */
  baseDir: string;
}

export interface PolicySource {
  describe(): string;
  /** The policy that holds the app now (without an app: the policy as a whole, for freezes). */
  read(app?: string): Promise<PolicyText>;
}

export function filePolicySource(file: string): PolicySource {
  const path = resolve(file);
  return {
    describe: () => path,
    read: async () => ({ text: await readFile(path, 'utf8'), source: path, baseDir: dirname(path) }),
  };
}

/** The policy's version: sha256 of its bytes, so any edit (a key, a rule, a window) is a new version. */
export function policyDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A policy a worker cannot serve with: unreadable or not a valid pipeline. */
export class PolicyError extends Error {
  name = 'PolicyError';
}

/** Reads and checks a policy once (for `gantry worker` at start): a clear error if it cannot serve. */
export async function checkPolicySource(source: PolicySource): Promise<GantryConfig> {
  const {
    text,
    source: where,
    baseDir,
  } = await source.read().catch((err: NodeJS.ErrnoException) => {
    throw new PolicyError(`cannot read ${source.describe()}: ${err.code ?? err.message}`);
  });
  try {
    return parseConfig(text, where, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) throw new PolicyError(err.message);
    throw err;
  }
}

/** The resolved pipeline without what the starter chooses and without the environments. */
const STARTERS_OWN = new Set(['app', 'digest', 'commit', 'requestedBy', 'environments', 'rollback']);
function policySettings(resolved: PromotionInput): PolicySettings {
  const settings = Object.entries(resolved).filter(([key, value]) => !STARTERS_OWN.has(key) && value !== undefined);
  return Object.fromEntries(settings) as unknown as PolicySettings;
}

const OPERATIONS = ['abort', 'pause', 'resume', 'rollback', 'freeze', 'unfreeze'] as const;

/** Operators and what they may do unsigned; a policy naming no operators leaves every operation unsigned, as before policies. */
function operatorPolicy(config: GantryConfig): OperatorPolicy {
  const keys = Object.fromEntries(Object.entries(config.operators ?? {}).map(([name, o]) => [name, o.keys ?? []]));
  const everywhere = Object.keys(keys).length === 0 ? ['*'] : [];
  return {
    keys,
    unsigned: Object.fromEntries(OPERATIONS.map((kind) => [kind, config.unsignedOperations?.[kind] ?? everywhere])),
  };
}

/** Operators and their unsigned allowances, for operations on environments (freeze, unfreeze); none: a reason. */
export async function readOperatorPolicy(
  source: PolicySource | undefined,
): Promise<{ found: true; operations: OperatorPolicy; digest: string } | { found: false; reason: string }> {
  if (!source)
    return { found: false, reason: 'this worker was started without a policy (gantry worker --policy <file>)' };
  try {
    const read = await source.read();
    return {
      found: true,
      operations: operatorPolicy(parseConfig(read.text, read.source, read.baseDir)),
      digest: policyDigest(read.text),
    };
  } catch (err) {
    return {
      found: false,
      reason: `cannot use the worker's policy ${source.describe()}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
  }
}

/** The policy for one app, resolved as the promotion will run it; a reason instead when there is none. */
export async function readAppPolicy(
  source: PolicySource | undefined,
  app: string,
  digest: string,
  commit?: string,
): Promise<PolicyRead> {
  if (!source)
    return { found: false, reason: 'this worker was started without a policy (gantry worker --policy <file>)' };
  let read: PolicyText;
  try {
    read = await source.read(app);
  } catch (err) {
    return {
      found: false,
      reason: `cannot read the worker's policy ${source.describe()}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
  }
  let config: GantryConfig;
  try {
    config = parseConfig(read.text, read.source, read.baseDir);
  } catch (err) {
    if (err instanceof ConfigError) return { found: false, reason: `the worker's policy is invalid: ${err.message}` };
    throw err;
  }
  let resolved;
  try {
    // The starter's commit: a migrations gate in the policy needs one to resolve.
    resolved = resolvePromotion(config, { app, digest, commit, requestedBy: 'policy' });
  } catch (err) {
    if (err instanceof StartRequestError)
      return { found: false, reason: `the worker's policy ${read.source}: ${err.message}` };
    throw err;
  }
  const starters = config.starters ?? {};
  const keys = Object.fromEntries(Object.entries(starters).map(([name, s]) => [name, s.keys ?? []]));
  const signatures = config.signedStarts ?? (Object.keys(keys).length > 0 ? 'required' : 'optional');
  return {
    found: true,
    policy: {
      source: read.source,
      digest: policyDigest(read.text),
      settings: policySettings(resolved),
      environments: resolved.environments,
      starts: { signatures, keys },
      operations: operatorPolicy(config),
    },
  };
}
