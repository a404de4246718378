// Real SSH ed25519 keys for test approvers, made with ssh-keygen.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ApproverKey {
  name: string;
  privateKey: string;
  publicKey: string;
}

export function makeApproverKeys(names: string[]): Record<string, ApproverKey> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-keys-'));
  return Object.fromEntries(
    names.map((name) => {
      const privateKey = join(dir, name);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', privateKey]);
      return [name, { name, privateKey, publicKey: readFileSync(`${privateKey}.pub`, 'utf8').trim() }];
    }),
  );
}

/** The approvers (each with their public key) and groups of a pipeline, as gantry.yaml settings. */
export function approversSettings(
  keys: Record<string, ApproverKey>,
  groups: Record<string, string[]> = {},
): Record<string, unknown> {
  return {
    approvers: Object.fromEntries(Object.values(keys).map((k) => [k.name, { keys: [k.publicKey] }])),
    ...(Object.keys(groups).length ? { groups } : {}),
  };
}

/** The same as YAML text, for pipelines that add it to other settings. */
export function approversYaml(keys: Record<string, ApproverKey>, groups: Record<string, string[]> = {}): string {
  return stringify(approversSettings(keys, groups), { lineWidth: 0 }).trimEnd();
}
