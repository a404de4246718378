/**
 * SSHSIG interop with the real OpenSSH ssh-keygen, both directions, plus every refusal reason.
 * Keys are generated per run with `ssh-keygen -t ed25519 -N ''`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  armorSshSignature,
  canonicalDecisionPayload,
  EncryptedSshKeyError,
  parseAllowedSigners,
  parseAllowedSignersEntries,
  signWithSshKey,
  signWithSshKeygen,
  verifySshSignature,
  type ApprovalDecision,
} from '../../../src/approvals/signing';

const NS = 'gantry-approval';
let dir: string;
const key = (name: string): string => join(dir, name);
const pub = (name: string): string => readFileSync(`${key(name)}.pub`, 'utf8').trim();

function sshKeygen(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ssh-keygen', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `ssh-keygen -Y verify -f allowed_signers -I <principal> -n <ns> -s sig < msg` */
function opensshVerify(message: string, signature: string, principal: string, allowedSigners: string, namespace = NS) {
  const sigFile = join(dir, `sig-${Math.random().toString(36).slice(2)}`);
  const allowedFile = `${sigFile}.allowed`;
  writeFileSync(sigFile, signature);
  writeFileSync(allowedFile, allowedSigners);
  return sshKeygen(['-Y', 'verify', '-f', allowedFile, '-I', principal, '-n', namespace, '-s', sigFile], message);
}

const decision: ApprovalDecision = {
  workflowId: 'promote-shop-sha256-abc',
  app: 'shop',
  digest: 'sha256:' + 'a'.repeat(64),
  environment: 'production',
  decision: 'approve',
  approver: 'alice',
  time: '2025-01-02T03:04:05.000Z',
  nonce: 'n-7f3a',
  comment: 'looks good — ship it',
};

beforeAll(() => {
  expect(spawnSync('which', ['ssh-keygen']).status).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'gantry-sshsig-test-'));
  for (const name of ['alice', 'bob']) {
    expect(sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@example.com`, '-f', key(name)]).status).toBe(0);
  }
  expect(
    sshKeygen(['-q', '-t', 'ed25519', '-N', 'correct horse', '-C', 'carol@example.com', '-f', key('carol')]).status,
  ).toBe(0);
  expect(sshKeygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa@example.com', '-f', key('rsa')]).status).toBe(
    0,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('canonicalDecisionPayload', () => {
  it('is sorted-key JSON without whitespace and ignores field order and extra fields', () => {
    const payload = canonicalDecisionPayload(decision);
    expect(payload).toBe(
      '{"app":"shop","approver":"alice","comment":"looks good — ship it","decision":"approve",' +
        `"digest":"sha256:${'a'.repeat(64)}","environment":"production","nonce":"n-7f3a",` +
        '"time":"2025-01-02T03:04:05.000Z","workflowId":"promote-shop-sha256-abc"}',
    );
    const shuffled = Object.fromEntries(Object.entries(decision).reverse()) as unknown as ApprovalDecision;
    expect(canonicalDecisionPayload({ ...shuffled, signature: 'x' } as ApprovalDecision)).toBe(payload);
    expect(canonicalDecisionPayload({ ...decision, comment: undefined })).not.toContain('comment');
  });

  it('rejects incomplete or invalid decisions', () => {
    expect(() => canonicalDecisionPayload({ ...decision, decision: 'maybe' as 'approve' })).toThrow(
      /approve", "reject" or "override-freeze/,
    );
    expect(() => canonicalDecisionPayload({ ...decision, nonce: '' })).toThrow(/nonce/);
    expect(() => canonicalDecisionPayload({ ...decision, time: 'yesterday' })).toThrow(/time/);
  });
});

describe('SSHSIG with OpenSSH interop', () => {
  const message = canonicalDecisionPayload(decision);

  it('our native signature verifies with ssh-keygen -Y verify and is byte-identical to ssh-keygen -Y sign', () => {
    const ours = signWithSshKey(message, key('alice'));
    expect(ours.startsWith('-----BEGIN SSH SIGNATURE-----\n')).toBe(true);
    const r = opensshVerify(message, ours, 'alice', `alice ${pub('alice')}\n`);
    expect(r.stderr + r.stdout).toMatch(/Good "gantry-approval" signature for alice/);
    expect(r.status).toBe(0);
    // Ed25519 is deterministic, so the whole armored SSHSIG must match OpenSSH's byte for byte.
    expect(signWithSshKeygen(message, key('alice'))).toBe(ours);
  });

  it('verifies a signature made by ssh-keygen, with the same fingerprint ssh-keygen -l prints', () => {
    const theirs = signWithSshKeygen(message, key('alice'));
    const result = verifySshSignature(message, theirs, [pub('bob'), pub('alice')]);
    const fingerprint = sshKeygen(['-l', '-E', 'sha256', '-f', `${key('alice')}.pub`]).stdout.split(' ')[1];
    expect(result).toEqual({ ok: true, publicKey: pub('alice').split(' ').slice(0, 2).join(' '), fingerprint });
  });

  it('ssh-keygen refuses what we refuse: tampered message, other key, other namespace', () => {
    const sig = signWithSshKey(message, key('alice'));
    expect(
      opensshVerify(message.replace('approve', 'reject'), sig, 'alice', `alice ${pub('alice')}\n`).status,
    ).not.toBe(0);
    expect(opensshVerify(message, sig, 'alice', `alice ${pub('bob')}\n`).status).not.toBe(0);
    expect(opensshVerify(message, sig, 'alice', `alice ${pub('alice')}\n`, 'git').status).not.toBe(0);
  });

  it('refuses a tampered message', () => {
    const sig = signWithSshKey(message, key('alice'));
    const tampered = canonicalDecisionPayload({ ...decision, environment: 'staging' });
    const r = verifySshSignature(tampered, sig, [pub('alice')]);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/^signature does not verify/) });
  });

  it("refuses another approver's key, naming its fingerprint", () => {
    const bobSig = signWithSshKeygen(message, key('bob'));
    const bobFp = verifySshSignature(message, bobSig, [pub('bob')]);
    expect(bobFp.ok).toBe(true);
    const r = verifySshSignature(message, bobSig, [pub('alice')]);
    expect(r.ok).toBe(false);
    if (!r.ok && bobFp.ok) {
      expect(r.reason).toContain(`signed by a key not allowed for this approver (${bobFp.fingerprint})`);
    }
  });

  it('refuses a signature made for another namespace', () => {
    const gitSig = signWithSshKeygen(message, key('alice'), 'git');
    expect(verifySshSignature(message, gitSig, [pub('alice')])).toEqual({
      ok: false,
      reason: 'namespace mismatch: signature is for namespace "git", expected "gantry-approval"',
    });
    expect(verifySshSignature(message, gitSig, [pub('alice')], 'git').ok).toBe(true);
  });

  it('reports malformed armor and blobs', () => {
    const sig = signWithSshKey(message, key('alice'));
    const body = sig.split('\n').slice(1, -2).join('');
    const blob = Buffer.from(body, 'base64');
    const cases: Array<[string, RegExp]> = [
      ['', /missing "-----BEGIN SSH SIGNATURE-----"/],
      ['hello', /missing "-----BEGIN SSH SIGNATURE-----"/],
      [sig.replace('-----END SSH SIGNATURE-----', ''), /missing "-----END SSH SIGNATURE-----"/],
      [sig.replace(body.slice(10, 20), '!!!!!!!!!!'), /valid base64/],
      [armorSshSignature(blob.subarray(0, blob.length - 10)), /truncated/],
      [armorSshSignature(Buffer.concat([Buffer.from('SSHSIH'), blob.subarray(6)])), /bad magic/],
      [armorSshSignature(Buffer.concat([blob, Buffer.from([0])])), /trailing bytes/],
    ];
    for (const [armored, reason] of cases) {
      const r = verifySshSignature(message, armored, [pub('alice')]);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toMatch(/^malformed signature: /);
        expect(r.reason).toMatch(reason);
      }
    }
    const v2 = Buffer.from(blob);
    v2.writeUInt32BE(2, 6);
    expect(verifySshSignature(message, armorSshSignature(v2), [pub('alice')])).toEqual({
      ok: false,
      reason: 'malformed signature: unsupported SSHSIG version 2 (expected 1)',
    });
  });

  it('ignores RSA keys in the allowed list and says so; refuses RSA signatures clearly', () => {
    const aliceSig = signWithSshKey(message, key('alice'));
    expect(verifySshSignature(message, aliceSig, [pub('rsa'), pub('alice')]).ok).toBe(true);
    const onlyRsa = verifySshSignature(message, aliceSig, [pub('rsa')]);
    expect(onlyRsa.ok).toBe(false);
    if (!onlyRsa.ok)
      expect(onlyRsa.reason).toMatch(
        /not allowed.*no ssh-ed25519 key is allowed; ignored 1 unsupported allowed key\(s\): ssh-rsa SHA256:/,
      );

    const rsaSig = signWithSshKeygen(message, key('rsa'));
    const r = verifySshSignature(message, rsaSig, [pub('rsa')]);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.reason).toMatch(/^signed with a ssh-rsa key \(SHA256:.*\); only ssh-ed25519 keys are supported/);
  });

  it('refuses to read a passphrase-protected key natively, and signs it through ssh-keygen', () => {
    expect(() => signWithSshKey(message, key('carol'))).toThrow(EncryptedSshKeyError);
    expect(() => signWithSshKey(message, key('carol'))).toThrow(/passphrase-protected.*signWithSshKeygen/);
    const sig = signWithSshKeygen(message, key('carol'), NS, { passphrase: 'correct horse' });
    expect(verifySshSignature(message, sig, [pub('carol')]).ok).toBe(true);
    expect(() => signWithSshKeygen(message, key('carol'), NS, { passphrase: 'wrong' })).toThrow(
      /ssh-keygen -Y sign exited/,
    );
  });

  it('signs with a key held by ssh-agent (public key path + SSH_AUTH_SOCK)', async () => {
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      const env = { ...process.env, SSH_AUTH_SOCK: sock };
      for (let i = 0; i < 100 && spawnSync('ssh-add', ['-l'], { env }).status === 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      const add = spawnSync('ssh-add', [key('bob')], { env, encoding: 'utf8' });
      expect(add.status).toBe(0);
      const sig = signWithSshKeygen(message, `${key('bob')}.pub`, NS, { env });
      expect(verifySshSignature(message, sig, [pub('bob')]).ok).toBe(true);
    } finally {
      if (agent.pid) process.kill(agent.pid, 'SIGTERM');
    }
  });
});

describe('parseAllowedSigners', () => {
  it('maps principals to keys, honouring options, comments and quoting', () => {
    const text = [
      '# approvers',
      '',
      `alice@example.com,alice ${pub('alice')}`,
      `bob namespaces="gantry-approval,git" ${pub('bob')}`,
      `"carol c" namespaces="git" ${pub('carol')}`,
      `dave valid-before="20000101" ${pub('bob')}`,
      `erin cert-authority ${pub('alice')}`,
      `frank ${pub('rsa')}`,
      'broken line',
    ].join('\n');
    const map = parseAllowedSigners(text);
    expect([...map.keys()].sort()).toEqual(['alice', 'alice@example.com', 'bob', 'frank']);
    expect(map.get('alice')).toEqual([pub('alice')]);
    expect(map.get('bob')).toEqual([pub('bob')]);
    expect(parseAllowedSigners(text, { namespace: 'git' }).get('carol c')).toEqual([pub('carol')]);
    expect(parseAllowedSigners(text, { at: new Date('1999-06-01T00:00:00Z') }).get('dave')).toEqual([pub('bob')]);
    const { errors } = parseAllowedSignersEntries(text);
    expect(errors).toEqual([
      { lineNumber: 9, message: expect.stringMatching(/missing public key|not an SSH public key/) },
    ]);
  });

  it('feeds verifySshSignature, and matches what ssh-keygen accepts for the same file', () => {
    const message = 'deploy';
    const sig = signWithSshKey(message, key('alice'));
    const text = `alice ${pub('alice')}\nbob ${pub('bob')}\n`;
    const keys = parseAllowedSigners(text);
    expect(verifySshSignature(message, sig, keys.get('alice') ?? []).ok).toBe(true);
    expect(verifySshSignature(message, sig, keys.get('bob') ?? []).ok).toBe(false);
    expect(opensshVerify(message, sig, 'alice', text).status).toBe(0);
    expect(opensshVerify(message, sig, 'bob', text).status).not.toBe(0);
  });
});
