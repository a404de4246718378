// A signed start: the starter (CI, a person) signs which promotion it starts with its SSH key, in
// the SSHSIG format approvals use, so the workflow knows who started it instead of being told.
// Pure: the client builds the payload, the workflow screens it; only the signature check needs crypto.
import { canonicalJson } from '../approvals/signing/canonicalJson';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import type { AppPolicy } from './policyTypes';

export interface StartToSign {
  workflowId: string;
  app: string;
  digest: string;
  commit?: string;
  /** The principal whose key signs, as the policy's `starters:` names it. */
  starter: string;
  time: string;
  nonce: string;
}

/** The exact bytes a starter signs (canonical JSON; `decision: start` keeps it from counting as an approval). */
export function startPayload(s: StartToSign): string {
  return canonicalJson({
    decision: 'start',
    workflowId: s.workflowId,
    app: s.app,
    digest: s.digest,
    commit: s.commit,
    starter: s.starter,
    time: s.time,
    nonce: s.nonce,
  });
}

/** The signed JSON object, or why it is not one. */
export function parseClaim(payload: string, what: string): Record<string, unknown> | string {
  try {
    const claim = JSON.parse(payload) as unknown;
    return typeof claim === 'object' && claim !== null && !Array.isArray(claim)
      ? (claim as Record<string, unknown>)
      : `signed ${what} is not an object`;
  } catch {
    return `signed ${what} is not JSON`;
  }
}

export type StartScreening =
  | { refuse: string }
  | { verify: { payload: string; signature: string; keys: string[] }; starter: string }
  | { claim: string };

/** Whether this start may go on unsigned, must be refused, or has a signature to check (and whose). */
export function screenStart(
  sent: { app: string; digest: string; commit?: string; requestedBy: string; signedStart?: SignedClaim },
  policy: Pick<AppPolicy, 'starts'>,
  workflowId: string,
): StartScreening {
  const starters = Object.keys(policy.starts.keys);
  if (!sent.signedStart) {
    if (policy.starts.signatures === 'required') {
      return {
        refuse: `the worker's policy requires a signed start: run gantry start --as <starter> --key <its ssh key> (starters: ${starters.join(', ') || 'none'})`,
      };
    }
    return { claim: sent.requestedBy };
  }
  const claim = parseClaim(sent.signedStart.payload, 'start');
  if (typeof claim === 'string') return { refuse: claim };
  const checks: Array<[unknown, unknown, string]> = [
    [claim.decision, 'start', `signed "${String(claim.decision)}", not a start`],
    [claim.workflowId, workflowId, `start signed for another promotion (${String(claim.workflowId)})`],
    [claim.app, sent.app, `start signed for app "${String(claim.app)}"`],
    [claim.digest, sent.digest, `start signed for another digest (${String(claim.digest)})`],
    [
      claim.commit,
      sent.commit,
      `start signed for commit ${String(claim.commit ?? 'none')}, sent ${sent.commit ?? 'none'}`,
    ],
  ];
  for (const [got, wanted, message] of checks) if (got !== wanted) return { refuse: message };
  if (typeof claim.nonce !== 'string' || claim.nonce.length < 8) return { refuse: 'signed start has no nonce' };
  const starter = claim.starter;
  if (typeof starter !== 'string' || !(starter in policy.starts.keys)) {
    return {
      refuse: `"${String(starter)}" is not a starter in the worker's policy (starters: ${starters.join(', ') || 'none'})`,
    };
  }
  const keys = policy.starts.keys[starter];
  if (keys.length === 0) return { refuse: `starter ${starter} has no keys in the worker's policy` };
  return { verify: { payload: sent.signedStart.payload, signature: sent.signedStart.signature, keys }, starter };
}
