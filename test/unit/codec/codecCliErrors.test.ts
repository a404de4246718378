// Bad payload-key and codec-server configuration is refused with exit 2 before anything listens or
// connects (TEMPORAL_ADDRESS points nowhere, so a connection attempt would exit 3 instead).
import { generateCodecKeyEntry } from '../../../src/codec/codecKeys';
import { runCli } from '../../harness/devServerStack';

const KEY = generateCodecKeyEntry('k1');
const base = {
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  GANTRY_CODEC_KEYS: '',
  GANTRY_CODEC_KEYS_FILE: '',
  GANTRY_CODEC_SERVER_TOKEN: '',
};

test.each<[string, string[], Record<string, string>, string]>([
  [
    'a codec server without keys',
    ['codec-server', '--port', '0'],
    { GANTRY_CODEC_SERVER_TOKEN: 'a-long-enough-token' },
    'no payload keys: set GANTRY_CODEC_KEYS_FILE',
  ],
  [
    'a codec server without a token',
    ['codec-server', '--port', '0'],
    { GANTRY_CODEC_KEYS: KEY },
    'no bearer token: set GANTRY_CODEC_SERVER_TOKEN or --token-file',
  ],
  [
    'a codec server with a short token',
    ['codec-server', '--port', '0'],
    { GANTRY_CODEC_KEYS: KEY, GANTRY_CODEC_SERVER_TOKEN: 'short' },
    'at least 16 characters',
  ],
  [
    'a codec server with a UI origin that has a path',
    ['codec-server', '--port', '0', '--ui-origin', 'http://ui:8233/ns'],
    { GANTRY_CODEC_KEYS: KEY, GANTRY_CODEC_SERVER_TOKEN: 'a-long-enough-token' },
    '--ui-origin must be a scheme and host',
  ],
  [
    'a codec server on a bad port',
    ['codec-server', '--port', 'http'],
    { GANTRY_CODEC_KEYS: KEY },
    '--port must be a port number',
  ],
  [
    'a CLI command with a malformed key',
    ['list'],
    { GANTRY_CODEC_KEYS: 'k1:abc' },
    'key "k1" must be 32 bytes in base64',
  ],
  [
    'a worker with a missing key file',
    ['worker'],
    { GANTRY_CODEC_KEYS_FILE: '/nonexistent/gantry-keys' },
    'cannot read GANTRY_CODEC_KEYS_FILE /nonexistent/gantry-keys',
  ],
])('%s exits 2', async (_name, args, env, message) => {
  const result = await runCli(args, { ...base, ...env });
  expect(result.stderr).toContain(message);
  expect(result.code).toBe(2);
});
