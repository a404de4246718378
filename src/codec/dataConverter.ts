// The data converter every Gantry process uses (worker, CLI, GantryClient, harnesses): encryption
// when a keyring is configured, Temporal's default otherwise.
import type { DataConverter } from '@temporalio/common';
import { codecKeysFromEnv, type CodecKeyring } from './codecKeys';
import { EncryptionCodec } from './encryptionCodec';

export function gantryDataConverter(keys: CodecKeyring | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}

/** The data converter for the keys configured in env ($GANTRY_CODEC_KEYS_FILE or $GANTRY_CODEC_KEYS). */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  return gantryDataConverter(codecKeysFromEnv(env));
}
