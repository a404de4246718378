// The data converter every Gantry process uses (worker, CLI, GantryClient, harnesses): encryption
// when a keyring is configured, Temporal's default otherwise; failure messages always travel as an
// encoded payload (failureConverter.ts), which the codec encrypts when there is one.
import type { DataConverter } from '@temporalio/common';
import { codecKeysFromEnv, type CodecKeyring } from './codecKeys';
import { EncryptionCodec } from './encryptionCodec';

/** The module the SDK loads the failure converter from; the workflow bundle includes it too. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failureConverter');

export function gantryDataConverter(keys: CodecKeyring | undefined): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...(keys ? { payloadCodecs: [new EncryptionCodec(keys)] } : {}),
  };
}

/** The data converter for the keys configured in env ($GANTRY_CODEC_KEYS_FILE or $GANTRY_CODEC_KEYS). */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  return gantryDataConverter(codecKeysFromEnv(env));
}
