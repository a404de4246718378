export { canonicalJson, type JsonValue } from './canonicalJson';
export { canonicalDecisionPayload, type ApprovalDecision } from './decisionPayload';
export {
  DEFAULT_SIGNATURE_NAMESPACE,
  MalformedSshSignatureError,
  armorSshSignature,
  parseSshSignature,
  signWithSshKey,
  signWithSshKeygen,
  sshsigSignedData,
  verifySshSignature,
  type ParsedSshSignature,
  type SshKeygenSignOptions,
  type SshVerifyResult,
} from './sshsig';
export {
  parseAllowedSigners,
  parseAllowedSignersEntries,
  type AllowedSignerEntry,
  type AllowedSignersOptions,
  type AllowedSignersParse,
} from './allowedSigners';
export {
  EncryptedSshKeyError,
  parseOpenSshPrivateKey,
  parseSshPublicKey,
  readOpenSshPrivateKeyFile,
  sshFingerprint,
  sshPublicKeyLine,
  type OpenSshPrivateKey,
  type SshPublicKey,
} from './sshKeys';
