/**
 * git / ssh-keygen "allowed signers" files (ssh-keygen(1), ALLOWED SIGNERS):
 *
 *   principal[,principal2...] [option[,option...]] keytype base64 [comment]
 *
 * Options: cert-authority, namespaces="a,b", valid-after="YYYYMMDD[HHMM[SS]][Z]", valid-before=...
 * Blank lines and lines starting with '#' are ignored. Principals are taken literally: wildcard
 * patterns are not expanded. Certificate authorities are not supported and their lines are skipped.
 */
import { DEFAULT_SIGNATURE_NAMESPACE } from './sshsig';
import { parseSshPublicKey, sshPublicKeyLine } from './sshKeys';

export interface AllowedSignerEntry {
  lineNumber: number;
  principals: string[];
  certAuthority: boolean;
  namespaces?: string[];
  validAfter?: Date;
  validBefore?: Date;
  /** "keytype base64 [comment]", ready for verifySshSignature. */
  publicKey: string;
  keyType: string;
  fingerprint: string;
}

export interface AllowedSignersParse {
  entries: AllowedSignerEntry[];
  errors: Array<{ lineNumber: number; message: string }>;
}

export interface AllowedSignersOptions {
  /** Keep only lines usable for this namespace (default "gantry-approval"); null keeps all. */
  namespace?: string | null;
  /** Keep only keys valid at this time (valid-after / valid-before); default now; null keeps all. */
  at?: Date | null;
}

/** principal -> public key lines, filtered for the namespace and time in `options`. */
export function parseAllowedSigners(text: string, options: AllowedSignersOptions = {}): Map<string, string[]> {
  const namespace = options.namespace === undefined ? DEFAULT_SIGNATURE_NAMESPACE : options.namespace;
  const at = options.at === undefined ? new Date() : options.at;
  const out = new Map<string, string[]>();
  for (const entry of parseAllowedSignersEntries(text).entries) {
    if (entry.certAuthority) continue;
    if (namespace !== null && entry.namespaces && !entry.namespaces.some((p) => globMatch(p, namespace))) continue;
    if (at !== null && entry.validAfter && at < entry.validAfter) continue;
    if (at !== null && entry.validBefore && at >= entry.validBefore) continue;
    for (const principal of entry.principals) {
      const keys = out.get(principal) ?? [];
      if (!keys.includes(entry.publicKey)) keys.push(entry.publicKey);
      out.set(principal, keys);
    }
  }
  return out;
}

/** Every line with its options, plus a message for each line that could not be parsed. */
export function parseAllowedSignersEntries(text: string): AllowedSignersParse {
  const entries: AllowedSignerEntry[] = [];
  const errors: AllowedSignersParse['errors'] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    try {
      entries.push(parseLine(line, lineNumber));
    } catch (err) {
      errors.push({ lineNumber, message: (err as Error).message });
    }
  });
  return { entries, errors };
}

function parseLine(line: string, lineNumber: number): AllowedSignerEntry {
  let rest = line;
  const principalsField = takeField(rest);
  rest = principalsField.rest;
  const principals = principalsField.value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!principals.length) throw new Error(`line ${lineNumber}: no principals`);
  let optionsText = '';
  if (!looksLikeKeyType(rest.split(/\s/, 1)[0] ?? '')) {
    const opts = takeField(rest);
    optionsText = opts.value;
    rest = opts.rest;
  }
  if (!rest) throw new Error(`line ${lineNumber}: missing public key`);
  const key = parseSshPublicKey(rest);
  const entry: AllowedSignerEntry = {
    lineNumber,
    principals,
    certAuthority: false,
    publicKey: sshPublicKeyLine(key.blob, key.comment),
    keyType: key.type,
    fingerprint: key.fingerprint,
  };
  for (const opt of splitOptions(optionsText)) {
    const m = /^([A-Za-z-]+)(?:="(.*)")?$/.exec(opt);
    if (!m) throw new Error(`line ${lineNumber}: invalid option "${opt}"`);
    const [, name, value] = m;
    switch (name.toLowerCase()) {
      case 'cert-authority':
        entry.certAuthority = true;
        break;
      case 'namespaces':
        entry.namespaces = (value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case 'valid-after':
        entry.validAfter = parseSshTime(value, lineNumber);
        break;
      case 'valid-before':
        entry.validBefore = parseSshTime(value, lineNumber);
        break;
      default:
        throw new Error(`line ${lineNumber}: unsupported option "${name}"`);
    }
  }
  return entry;
}

/** One whitespace-delimited field; double quotes group (and are removed from) the value. */
function takeField(text: string): { value: string; rest: string } {
  let value = '';
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      quoted = !quoted;
      // option values keep their quotes so they can be split on commas outside quotes
      if (text[0] !== '"') value += c;
      continue;
    }
    if (!quoted && /\s/.test(c)) break;
    value += c;
  }
  if (quoted) throw new Error('unterminated quote');
  return { value, rest: text.slice(i).trim() };
}

function splitOptions(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur) out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

function looksLikeKeyType(token: string): boolean {
  return /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-|sk-(ssh-ed25519|ecdsa-sha2-)|rsa-sha2-)/.test(token);
}

function parseSshTime(value: string | undefined, lineNumber: number): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/i.exec(value ?? '');
  if (!m) throw new Error(`line ${lineNumber}: invalid time "${value}" (expected YYYYMMDD[HHMM[SS]][Z])`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  return z ? new Date(Date.UTC(...parts)) : new Date(...parts);
}

function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}
