// Where Temporal is: the standard Temporal env vars and envconfig profiles (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE),
// so Gantry points at a production cluster the same way the `temporal` CLI does.
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec/dataConverter';

export interface ConnectionSettings {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
  /** Payload encryption ($GANTRY_CODEC_KEYS_FILE or $GANTRY_CODEC_KEYS); undefined stores payloads unencrypted. */
  dataConverter?: DataConverter;
}

export const DEFAULT_TASK_QUEUE = 'gantry';

export function connectionSettings(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const { connectionOptions, namespace } = loadClientConnectConfig({
    profile: env.TEMPORAL_PROFILE,
    overrideEnvVars: env as Record<string, string>,
  });
  return {
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
    namespace: namespace ?? 'default',
    taskQueue: env.GANTRY_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    dataConverter: dataConverterFromEnv(env),
  };
}
