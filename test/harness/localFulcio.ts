// A stand-in for Fulcio on loopback, with openssl: a CA that certifies a signing key for an OIDC
// identity the way Fulcio does (SAN = subject, issuer in extension 1.3.6.1.4.1.57264.1.8), and the
// Sigstore trusted_root.json naming that CA. Public Fulcio and Rekor are unreachable here.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importKeyPair, type CosignKey } from './cosign';

const run = promisify(execFile);

export interface LocalCa {
  name: string;
  key: string;
  certificate: string;
  /** trusted_root.json with this CA and no transparency log. */
  trustedRoot: string;
}

export interface CertifiedSigner {
  key: CosignKey;
  certificate: string;
  chain: string;
}

export async function createCa(dir: string, name: string): Promise<LocalCa> {
  const key = join(dir, `${name}-ca.key`);
  const certificate = join(dir, `${name}-ca.pem`);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await run('openssl', [
    ...['req', '-x509', '-new', '-key', key, '-subj', `/O=gantry-test/CN=${name}`, '-days', '2', '-out', certificate],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  ]);
  const der = (await run('openssl', ['x509', '-in', certificate, '-outform', 'DER'], { encoding: 'buffer' })).stdout;
  const trustedRoot = join(dir, `${name}-trusted_root.json`);
  writeFileSync(
    trustedRoot,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [
        {
          subject: { organization: 'gantry-test', commonName: name },
          uri: `https://${name}.invalid`,
          certChain: { certificates: [{ rawBytes: der.toString('base64') }] },
          validFor: { start: new Date(Date.now() - 3_600_000).toISOString() },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  return { name, key, certificate, trustedRoot };
}

/** A fresh key certified by the CA for issuer/subject, imported into cosign's key format. */
export async function certify(
  ca: LocalCa,
  dir: string,
  name: string,
  identity: { issuer: string; subject: string },
): Promise<CertifiedSigner> {
  const key = join(dir, `${name}.pem`);
  const csr = join(dir, `${name}.csr`);
  const certificate = join(dir, `${name}-cert.pem`);
  const extensions = join(dir, `${name}.ext`);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await run('openssl', ['req', '-new', '-key', key, '-subj', '/O=gantry-test', '-out', csr]);
  const issuer = Buffer.from(identity.issuer);
  // v2 issuer: a DER UTF8String; v1: the raw string (older verifiers read that one).
  const utf8String = Buffer.concat([Buffer.from([0x0c, issuer.length]), issuer]);
  writeFileSync(
    extensions,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
      `subjectAltName=critical,${identity.subject.includes('@') && !identity.subject.includes('://') ? 'email' : 'URI'}:${identity.subject}`,
      `1.3.6.1.4.1.57264.1.1=DER:${issuer.toString('hex')}`,
      `1.3.6.1.4.1.57264.1.8=DER:${utf8String.toString('hex')}`,
    ].join('\n'),
  );
  await run('openssl', [
    ...['x509', '-req', '-in', csr, '-CA', ca.certificate, '-CAkey', ca.key, '-CAcreateserial'],
    ...['-days', '1', '-extfile', extensions, '-out', certificate],
  ]);
  return { key: await importKeyPair(dir, key, name), certificate, chain: ca.certificate };
}
